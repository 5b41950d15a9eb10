"""Check and encode a caller's batch before anything is written: the stateless half of `apply`.

Everything that can be decided without looking at the store is decided here, so a bad batch fails with an
`InputError` naming the offending mutation and nothing reaches the WAL. What needs the store's state
(does an edge's endpoint exist?) is checked while applying, under the write lock, with rollback.

The encoded dicts are what the WAL stores; the store then builds the records it applies from those dicts
(`decode_batch`), field for field as recovery's decoder builds them from the WAL bytes (a hypothesis test
holds the two equal), so the live state is what replay will rebuild. Building from the dicts rather than
from the packed bytes saves a msgpack round trip per record, and skipping the strict decoder's checks
(the input was checked here) a third of the rest; attribute values that are containers still take that
round trip, so the store never shares a list or dict with its caller and holds them in the types replay
gives back (tuples as lists).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

from sutra.errors import InputError
from sutra.model import (
    Association,
    CloseAssociation,
    Concept,
    DeleteAssociation,
    DeleteConcept,
    ForgetSource,
    Mutation,
    PutAssociation,
    PutConcept,
)
from sutra.store.codec import (
    association_from_encoded,
    association_to_dict,
    concept_from_encoded,
    concept_to_dict,
    mutation_from_dict,
    mutation_to_dict,
    normalize_vector,
)


def encode_batch(
    batch: Sequence[Mutation], *, now: float | None = None
) -> tuple[list[dict[str, Any]], int | None]:
    """Validate `batch` and return (mutation dicts, vector dimension used by the batch or None)."""
    if isinstance(batch, (str, bytes)) or not isinstance(batch, Sequence):
        raise InputError("apply() takes a list of mutations (PutConcept, PutAssociation, ...)")
    stamp = time.time() if now is None else now
    dims: set[int] = set()
    out = []
    for i, m in enumerate(batch):
        try:
            out.append(_encode_one(m, stamp, dims))
        except InputError as exc:
            raise InputError(f"mutation {i} ({type(m).__name__}) is invalid: {exc}") from None
    if len(dims) > 1:
        raise InputError(
            f"the batch mixes vector dimensions {sorted(dims)}; all vectors must have one dimension"
        )
    return out, (dims.pop() if dims else None)


def decode_batch(dicts: list[dict[str, Any]]) -> list[Mutation]:
    """The mutations to apply, decoded from `encode_batch`'s dicts (see the module docstring)."""
    return [decode_mutation(d) for d in dicts]


def decode_mutation(d: dict[str, Any]) -> Mutation:
    """One mutation from its `encode_batch` dict, sharing no container with the caller's objects. Records
    are built without the strict decoder's checks (`encode_batch` made the dict from checked input); a
    test holds them equal to what replay decodes from the WAL bytes."""
    op = d["op"]
    if op == "put_concept":
        return PutConcept(concept_from_encoded(d["concept"]))
    if op == "put_association":
        return PutAssociation(association_from_encoded(d["association"]))
    return mutation_from_dict(d)


def _encode_one(m: Mutation, stamp: float, dims: set[int]) -> dict[str, Any]:
    if isinstance(m, PutConcept):
        c = m.concept
        if not isinstance(c, Concept):
            raise InputError("PutConcept.concept must be a Concept")
        _check_id(c.id, "id")
        _check_str(c.text, "text")
        _check_str(c.domain, "domain")
        _check_common(c)
        _check_str_list(c.aliases, "aliases")
        vector = None if c.vector is None else normalize_vector(c.vector)
        try:
            record = concept_to_dict(c, with_seq=False, vector=vector)
        except ValueError as exc:  # an unknown enum value
            raise InputError(str(exc)) from None
        if vector is not None:
            dims.add(vector.size)
        _stamp(record, stamp)
        return {"op": "put_concept", "concept": record}
    if isinstance(m, PutAssociation):
        a = m.association
        if not isinstance(a, Association):
            raise InputError("PutAssociation.association must be an Association")
        for name in ("id", "source", "target"):
            _check_id(getattr(a, name), name)
        _check_str(a.relation, "relation")
        if not isinstance(a.negated, bool):
            raise InputError("negated must be a bool")
        _check_common(a)
        _check_str_list(a.statements, "statements")
        try:
            record = association_to_dict(a, with_seq=False)
        except ValueError as exc:
            raise InputError(str(exc)) from None
        _stamp(record, stamp)
        return {"op": "put_association", "association": record}
    if isinstance(m, (CloseAssociation, DeleteAssociation)):
        _check_id(m.association_id, "association_id")
        if isinstance(m, CloseAssociation) and m.valid_to is not None:
            _check_str(m.valid_to, "valid_to")
    elif isinstance(m, DeleteConcept):
        _check_id(m.concept_id, "concept_id")
    elif isinstance(m, ForgetSource):
        _check_id(m.source_id, "source_id")
    return mutation_to_dict(m)  # raises InputError for anything that is not a mutation


def _stamp(record: dict[str, Any], stamp: float) -> None:
    # The record time is fixed here, before the WAL, so that replay reproduces it exactly.
    if not record["recorded_at"]:
        record["recorded_at"] = stamp


def _check_common(obj: Concept | Association) -> None:
    _check_number(obj.confidence, "confidence")
    _check_number(obj.strength, "strength")
    _check_number(obj.recorded_at, "recorded_at")
    if obj.valid_from is not None:
        _check_str(obj.valid_from, "valid_from")
    if obj.valid_to is not None:
        _check_str(obj.valid_to, "valid_to")
    _check_str_list(obj.sources, "sources")
    attrs = obj.attrs
    if not isinstance(attrs, dict) or not all(isinstance(k, str) for k in attrs):
        raise InputError("attrs must be a dict with string keys")


def _check_number(value: Any, name: str) -> None:
    try:
        if type(value) is float or type(value) is int:  # the common case, without isinstance chains
            if math.isfinite(value):
                return
        elif not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value):
            return
    except OverflowError:  # an int too large for a float (10**400)
        pass
    raise InputError(f"{name} must be a finite number, got {str(value)[:40]!r}")


def _check_id(value: Any, name: str) -> None:
    if not isinstance(value, str) or not value:
        raise InputError(f"{name} must be a non-empty string, got {value!r}")


def _check_str(value: Any, name: str) -> None:
    if not isinstance(value, str):
        raise InputError(f"{name} must be a string, got {type(value).__name__}")


def _check_str_list(value: Any, name: str) -> None:
    if not isinstance(value, (list, tuple)):
        raise InputError(f"{name} must be a list of non-empty strings")
    for item in value:  # a loop, not all(<generator>): this runs for every record of every batch
        if not (isinstance(item, str) and item):
            raise InputError(f"{name} must be a list of non-empty strings")
