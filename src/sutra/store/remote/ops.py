"""The operations a storage server answers: for each, the role it needs, how its arguments are checked,
which `Store` method runs it and how the result is encoded.

Arguments come from the network, so each is checked for type and against the server's `Limits` before the
store sees it: a wrong type is an `InputError`, a value over a limit a `LimitError`. Records travel in the
encoding the WAL and snapshots use (`store/codec.py`, with the store-assigned `seq` fields), so what a client
decodes is field for field what the store holds. Deletion is not an operation of its own: it is a batch of
`DeleteConcept`, `DeleteAssociation` or `ForgetSource` mutations given to `apply`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from sutra.errors import InputError, LimitError
from sutra.model import AssociationType, ConceptKind
from sutra.store.base import Store
from sutra.store.codec import (
    VECTOR_DTYPE,
    CodecError,
    association_to_dict,
    concept_to_dict,
    mutation_from_dict,
)
from sutra.store.remote.protocol import Limits

Args = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Operation:
    role: str  # the least role allowed to run it (tokens.ROLES)
    run: Callable[[Store, Args, Limits], Any]
    chunked: bool = False  # the result is a list that may be sent as several frames
    idempotent: bool = True  # safe for a client to resend after a broken connection
    quick: bool = False  # a lookup by key: cheap enough to answer on the event loop (see server.py)


# ---- argument checks ----


def _str(args: Args, name: str, *, optional: bool = False) -> Any:
    value = args.get(name)
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise InputError(f"argument {name!r} must be a string, got {type(value).__name__}")
    return value


def _bool(args: Args, name: str, default: bool) -> bool:
    value = args.get(name, default)
    if not isinstance(value, bool):
        raise InputError(f"argument {name!r} must be true or false, got {type(value).__name__}")
    return value


def _count(args: Args, name: str, default: int, limit: int) -> int:
    value = args.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(f"argument {name!r} must be a whole number of at least 1, got {value!r:.40}")
    if value > limit:
        raise LimitError(f"{name}={value} is over the storage server's limit of {limit}")
    return value


def _str_list(args: Args, name: str) -> list[str] | None:
    value = args.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"argument {name!r} must be a list of strings")
    return value


def _kind(args: Args) -> ConceptKind | None:
    value = _str(args, "kind", optional=True)
    try:
        return None if value is None else ConceptKind(value)
    except ValueError:
        raise InputError(f"unknown concept kind {value!r}; one of {', '.join(ConceptKind)}") from None


def _types(args: Args) -> list[AssociationType] | None:
    values = _str_list(args, "types")
    try:
        return None if values is None else [AssociationType(t) for t in values]
    except ValueError as exc:
        raise InputError(f"unknown association type ({exc}); one of {', '.join(AssociationType)}") from None


# ---- operations ----


def _apply(store: Store, args: Args, limits: Limits) -> None:
    batch = args.get("batch")
    if not isinstance(batch, list):
        raise InputError("argument 'batch' must be a list of mutations")
    if len(batch) > limits.max_batch:
        raise LimitError(
            f"a batch of {len(batch)} mutations is over the storage server's limit of {limits.max_batch}; "
            "split it into smaller batches"
        )
    mutations = []
    for i, record in enumerate(batch):
        try:
            mutations.append(mutation_from_dict(record))
        except CodecError as exc:
            raise InputError(f"mutation {i} of the batch is malformed ({exc})") from None
    store.apply(mutations)


def _get_concept(store: Store, args: Args, limits: Limits) -> Any:
    c = store.get_concept(_str(args, "id"))
    return None if c is None else concept_to_dict(c, with_seq=True)


def _get_association(store: Store, args: Args, limits: Limits) -> Any:
    a = store.get_association(_str(args, "id"))
    return None if a is None else association_to_dict(a, with_seq=True)


def _neighbors(store: Store, args: Args, limits: Limits) -> list[Any]:
    edges = store.neighbors(
        _str(args, "id"),
        _str(args, "direction"),  # type: ignore[arg-type]  # the store refuses anything but out/in/both
        types=_types(args),
        relations=_str_list(args, "relations"),
        current_only=_bool(args, "current_only", False),
    )
    return [association_to_dict(a, with_seq=True) for a in edges]


def _find_paths(store: Store, args: Args, limits: Limits) -> list[Any]:
    paths = store.find_paths(
        _str(args, "start"),
        _str(args, "goal"),
        _count(args, "max_depth", 3, limits.max_depth),
        current_only=_bool(args, "current_only", True),
        limit=_count(args, "limit", 10, limits.max_k),
    )
    return [[association_to_dict(a, with_seq=True) for a in path] for path in paths]


def _search_text(store: Store, args: Args, limits: Limits) -> list[Any]:
    return [list(hit) for hit in store.search_text(_str(args, "query"), _count(args, "k", 10, limits.max_k))]


def _search_vector(store: Store, args: Args, limits: Limits) -> list[Any]:
    raw = args.get("vector")
    if not isinstance(raw, bytes) or not raw or len(raw) % VECTOR_DTYPE.itemsize:
        raise InputError("argument 'vector' must be float32 bytes (little-endian)")
    vector = np.frombuffer(raw, dtype=VECTOR_DTYPE)
    return [list(hit) for hit in store.search_vector(vector, _count(args, "k", 10, limits.max_k))]


def _time_range(store: Store, args: Args, limits: Limits) -> list[Any]:
    since, until = _str(args, "since", optional=True), _str(args, "until", optional=True)
    found = store.time_range(since, until, _kind(args))
    return [concept_to_dict(c, with_seq=True) for c in found]


def _concepts(store: Store, args: Args, limits: Limits) -> list[Any]:
    return [concept_to_dict(c, with_seq=True) for c in store.concepts(_kind(args))]


OPERATIONS: dict[str, Operation] = {
    "apply": Operation("writer", _apply, idempotent=False),
    "get_concept": Operation("reader", _get_concept, quick=True),
    "get_association": Operation("reader", _get_association, quick=True),
    "neighbors": Operation("reader", _neighbors, chunked=True, quick=True),
    "find_entities": Operation(
        "reader", lambda s, a, _: s.find_entities(_str(a, "name")), chunked=True, quick=True
    ),
    "find_paths": Operation("reader", _find_paths, chunked=True),
    "search_text": Operation("reader", _search_text),
    "search_vector": Operation("reader", _search_vector),
    "time_range": Operation("reader", _time_range, chunked=True),
    "concepts": Operation("reader", _concepts, chunked=True),
    "by_source": Operation("reader", lambda s, a, _: s.by_source(_str(a, "source")), chunked=True),
    "stats": Operation("reader", lambda s, a, _: s.stats()),
    "version": Operation("reader", lambda s, a, _: s.version(), quick=True),
    "health": Operation("reader", lambda s, a, _: s.health()),
    "checkpoint": Operation("admin", lambda s, a, _: s.checkpoint()),
    "check": Operation("admin", lambda s, a, _: s.check()),
}
