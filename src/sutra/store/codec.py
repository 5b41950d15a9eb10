"""Mutations, concepts and associations to and from plain dicts (what msgpack stores).

The same functions serve the WAL (mutations) and the snapshot (whole records including the store-assigned
`seq`, `last_seq` and `closed_seq`). Vectors travel as little-endian float32 bytes and come back as read-only
numpy views over those bytes, so decoding does not copy them. Enums are stored by value.

Decoding raises `CodecError` on anything malformed; callers that know the file and offset turn it into a
`CorruptionError` that says where.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any

import msgpack
import numpy as np

from sutra.errors import InputError
from sutra.model import (
    Association,
    AssociationType,
    CloseAssociation,
    Concept,
    ConceptKind,
    DeleteAssociation,
    DeleteConcept,
    ForgetSource,
    Mutation,
    PutAssociation,
    PutConcept,
    SemanticType,
)

VECTOR_DTYPE = np.dtype("<f4")
_KINDS = {k.value: k for k in ConceptKind}
_SEMANTIC_TYPES = {t.value: t for t in SemanticType}
_ASSOCIATION_TYPES = {t.value: t for t in AssociationType}


class CodecError(ValueError):
    """A dict or byte string is not a valid encoding."""


# ---- msgpack ----


def pack(obj: Any) -> bytes:
    try:
        return msgpack.packb(obj, use_bin_type=True)
    except (TypeError, ValueError, OverflowError, UnicodeEncodeError) as exc:
        raise InputError(
            f"cannot store this value ({exc}); texts and ids must be valid UTF-8, numbers fit in 64 bits, "
            "and attrs may hold only str/int/float/bool/None, lists and str-keyed dicts of those"
        ) from exc


def unpack(data: bytes) -> Any:
    try:
        return msgpack.unpackb(data, raw=False, strict_map_key=False)
    except Exception as exc:  # untrusted bytes: msgpack may raise several types, none of them ours
        raise CodecError(f"not valid msgpack ({exc})") from exc


# ---- attributes ----

_ATOMS = (str, int, float, bool, type(None), bytes)


def copy_attrs(attrs: dict[str, Any]) -> dict[str, Any]:
    """A copy of an attribute map that shares nothing mutable with it. Values that are not plain atoms
    (lists, dicts, bytearrays, numpy scalars ...) take a msgpack round trip, which also gives them the types
    a replay from disk gives (tuples as lists, bytearrays as bytes); the common flat map is copied as is."""
    if all(type(v) in _ATOMS for v in attrs.values()):
        return dict(attrs)
    return unpack(pack(attrs))


# ---- vectors ----


def normalize_vector(vector: Any) -> np.ndarray:
    """A finite, non-zero 1-D vector as L2-normalized float32; `InputError` otherwise."""
    try:
        v = np.asarray(vector, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"a concept vector must be numeric ({exc})") from exc
    if v.ndim != 1 or v.size == 0:
        raise InputError(f"a concept vector must be one-dimensional and non-empty, got shape {v.shape}")
    norm = float(np.linalg.norm(v))
    if not math.isfinite(norm) or norm == 0.0:
        raise InputError("a concept vector must be finite and non-zero (it is compared by cosine similarity)")
    return (v / norm).astype(VECTOR_DTYPE)


def vector_to_bytes(vector: np.ndarray | None) -> bytes | None:
    return None if vector is None else np.ascontiguousarray(vector, dtype=VECTOR_DTYPE).tobytes()


def vector_from_bytes(data: Any) -> np.ndarray | None:
    if data is None:
        return None
    if not isinstance(data, bytes) or len(data) % VECTOR_DTYPE.itemsize:
        raise CodecError("a vector must be float32 bytes")
    return np.frombuffer(data, dtype=VECTOR_DTYPE)  # read-only view: safe to share


# ---- records ----
# Written field by field rather than by looping over names: these run once per record on every write,
# snapshot and reopen (a million times for a large store), and the loops cost a third of the time.


def concept_to_dict(c: Concept, *, with_seq: bool, vector: np.ndarray | None = None) -> dict[str, Any]:
    """`vector`, when given, replaces `c.vector` (the caller's vector after normalization)."""
    d: dict[str, Any] = {
        "id": c.id,
        "text": c.text,
        "domain": c.domain,
        "confidence": c.confidence,
        "strength": c.strength,
        "valid_from": c.valid_from,
        "valid_to": c.valid_to,
        "recorded_at": c.recorded_at,
        "kind": _enum_value(ConceptKind, c.kind),
        "semantic_type": _enum_value(SemanticType, c.semantic_type),
        "sources": list(c.sources),
        "aliases": list(c.aliases),
        "attrs": dict(c.attrs),
        "vector": vector_to_bytes(c.vector if vector is None else vector),
    }
    if with_seq:
        d["seq"], d["last_seq"] = c.seq, c.last_seq
    return d


def concept_from_dict(d: Any) -> Concept:
    with _decoding("concept"):
        return Concept(
            id=d["id"],
            text=d["text"],
            kind=_member(_KINDS, d["kind"], "kind"),
            semantic_type=_member(_SEMANTIC_TYPES, d["semantic_type"], "semantic type"),
            domain=d["domain"],
            confidence=d["confidence"],
            strength=d["strength"],
            valid_from=d["valid_from"],
            valid_to=d["valid_to"],
            recorded_at=d["recorded_at"],
            sources=_list(d["sources"], "sources"),
            aliases=_list(d["aliases"], "aliases"),
            attrs=_map(d["attrs"]),
            vector=vector_from_bytes(d["vector"]),
            seq=d.get("seq", 0),
            last_seq=d.get("last_seq", 0),
        )


def concept_from_encoded(d: dict[str, Any]) -> Concept:
    """The concept of a dict `concept_to_dict` has just built from checked input (`store/batch.py`): no
    checks, the same record `concept_from_dict` builds from that dict's bytes (what replay reads)."""
    return Concept(
        d["id"],
        d["text"],
        _KINDS[d["kind"]],
        _SEMANTIC_TYPES[d["semantic_type"]],
        d["domain"],
        d["confidence"],
        d["strength"],
        d["valid_from"],
        d["valid_to"],
        d["recorded_at"],
        list(d["sources"]),
        list(d["aliases"]),
        copy_attrs(d["attrs"]),
        vector_from_bytes(d["vector"]),
    )


def association_to_dict(a: Association, *, with_seq: bool) -> dict[str, Any]:
    d: dict[str, Any] = {
        "id": a.id,
        "source": a.source,
        "target": a.target,
        "relation": a.relation,
        "negated": a.negated,
        "confidence": a.confidence,
        "strength": a.strength,
        "valid_from": a.valid_from,
        "valid_to": a.valid_to,
        "recorded_at": a.recorded_at,
        "type": _enum_value(AssociationType, a.type),
        "sources": list(a.sources),
        "statements": list(a.statements),
        "attrs": dict(a.attrs),
    }
    if with_seq:
        d["seq"], d["last_seq"], d["closed_seq"] = a.seq, a.last_seq, a.closed_seq
        d["history"] = [list(h) for h in a.history]
    return d


def association_from_dict(d: Any) -> Association:
    with _decoding("association"):
        return Association(
            id=d["id"],
            source=d["source"],
            target=d["target"],
            type=_member(_ASSOCIATION_TYPES, d["type"], "association type"),
            relation=d["relation"],
            negated=d["negated"],
            confidence=d["confidence"],
            strength=d["strength"],
            valid_from=d["valid_from"],
            valid_to=d["valid_to"],
            recorded_at=d["recorded_at"],
            sources=_list(d["sources"], "sources"),
            statements=_list(d["statements"], "statements"),
            attrs=_map(d["attrs"]),
            seq=d.get("seq", 0),
            last_seq=d.get("last_seq", 0),
            closed_seq=d.get("closed_seq"),
            history=[_list(h, "a history entry") for h in _list(d.get("history", []), "history")],
        )


def association_from_encoded(d: dict[str, Any]) -> Association:
    """As `concept_from_encoded`, for a dict `association_to_dict` has just built."""
    return Association(
        d["id"],
        d["source"],
        d["target"],
        _ASSOCIATION_TYPES[d["type"]],
        d["relation"],
        d["negated"],
        d["confidence"],
        d["strength"],
        d["valid_from"],
        d["valid_to"],
        d["recorded_at"],
        list(d["sources"]),
        list(d["statements"]),
        copy_attrs(d["attrs"]),
    )


@contextlib.contextmanager
def _decoding(kind: str) -> Iterator[None]:
    """Any failure while building a `kind` record from a dict, as one `CodecError` that says what."""
    try:
        yield
    except CodecError:
        raise
    except KeyError as exc:
        article = "an" if kind[0] in "aeiou" else "a"
        raise CodecError(f"{article} {kind} record lacks its field {exc.args[0]!r}") from exc
    except (TypeError, ValueError, AttributeError) as exc:
        raise CodecError(f"bad {kind} record ({exc!r})") from exc


def _enum_value(enum: Any, value: Any) -> str:
    """The stored value of an enum member, or of its value given as a plain string (ValueError if unknown)."""
    return value.value if type(value) is enum else enum(value).value


# ---- positional rows (snapshots) ----
# A snapshot stores each record as an array in this field order instead of a map: decoding a million
# records then makes no key strings and no dicts, and the dataclass is built from the row in one call
# (about 6x faster than maps on reopen). The snapshot header records the field names it was written with.

CONCEPT_ROW = (
    "id",
    "text",
    "kind",
    "semantic_type",
    "domain",
    "confidence",
    "strength",
    "valid_from",
    "valid_to",
    "recorded_at",
    "sources",
    "aliases",
    "attrs",
    "vector",
    "seq",
    "last_seq",
)
ASSOCIATION_ROW = (
    "id",
    "source",
    "target",
    "type",
    "relation",
    "negated",
    "confidence",
    "strength",
    "valid_from",
    "valid_to",
    "recorded_at",
    "sources",
    "statements",
    "attrs",
    "seq",
    "last_seq",
    "closed_seq",
    "history",
)


def concept_fields(c: Concept, vector: Any) -> list[Any]:
    """Every field of `c` in declaration order (`CONCEPT_ROW`), `vector` in the vector's place, lists and
    maps copied so that the result shares nothing mutable with `c`."""
    return [
        c.id,
        c.text,
        c.kind,
        c.semantic_type,
        c.domain,
        c.confidence,
        c.strength,
        c.valid_from,
        c.valid_to,
        c.recorded_at,
        list(c.sources),
        list(c.aliases),
        copy_attrs(c.attrs),
        vector,
        c.seq,
        c.last_seq,
    ]


def concept_to_row(c: Concept, vector: Any) -> list[Any]:
    """`vector` is what the row stores in the vector field: float32 bytes, a row number or None."""
    row = concept_fields(c, vector)
    row[2], row[3] = _enum_value(ConceptKind, c.kind), _enum_value(SemanticType, c.semantic_type)
    return row


def concept_from_row(row: Any) -> Concept:
    """The concept of a row whose vector field was left as stored (the caller resolves it)."""
    try:
        if len(row) != len(CONCEPT_ROW):
            raise CodecError(f"a concept row has {len(CONCEPT_ROW)} fields, this one {len(row)}")
        row[2], row[3] = _KINDS[row[2]], _SEMANTIC_TYPES[row[3]]
        return Concept(*row)
    except (KeyError, TypeError) as exc:
        raise CodecError(f"bad concept row ({exc!r})") from exc


def association_fields(a: Association) -> list[Any]:
    """Every field of `a` in declaration order (`ASSOCIATION_ROW`), sharing nothing mutable with it."""
    return [
        a.id,
        a.source,
        a.target,
        a.type,
        a.relation,
        a.negated,
        a.confidence,
        a.strength,
        a.valid_from,
        a.valid_to,
        a.recorded_at,
        list(a.sources),
        list(a.statements),
        copy_attrs(a.attrs),
        a.seq,
        a.last_seq,
        a.closed_seq,
        [list(h) for h in a.history],
    ]


def association_to_row(a: Association) -> list[Any]:
    row = association_fields(a)
    row[3] = _enum_value(AssociationType, a.type)
    return row


def association_from_row(row: Any) -> Association:
    try:
        if len(row) != len(ASSOCIATION_ROW):
            raise CodecError(f"an association row has {len(ASSOCIATION_ROW)} fields, this one {len(row)}")
        row[3] = _ASSOCIATION_TYPES[row[3]]
        return Association(*row)
    except (KeyError, TypeError) as exc:
        raise CodecError(f"bad association row ({exc!r})") from exc


# ---- mutations ----


def mutation_to_dict(m: Mutation) -> dict[str, Any]:
    """Encode a mutation for the WAL. Store-assigned fields (`seq`...) are left out; replay derives them."""
    if isinstance(m, PutConcept):
        return {"op": "put_concept", "concept": concept_to_dict(m.concept, with_seq=False)}
    if isinstance(m, PutAssociation):
        return {"op": "put_association", "association": association_to_dict(m.association, with_seq=False)}
    if isinstance(m, CloseAssociation):
        return {"op": "close_association", "id": m.association_id, "valid_to": m.valid_to}
    if isinstance(m, DeleteConcept):
        return {"op": "delete_concept", "id": m.concept_id}
    if isinstance(m, DeleteAssociation):
        return {"op": "delete_association", "id": m.association_id}
    if isinstance(m, ForgetSource):
        return {"op": "forget_source", "source": m.source_id}
    raise InputError(f"not a mutation: {type(m).__name__}; use the classes in sutra.model (PutConcept, ...)")


def mutation_from_dict(d: Any) -> Mutation:
    try:
        op = d["op"]
        if op == "put_concept":
            return PutConcept(concept_from_dict(d["concept"]))
        if op == "put_association":
            return PutAssociation(association_from_dict(d["association"]))
        if op == "close_association":
            return CloseAssociation(_str(d["id"]), d["valid_to"])
        if op == "delete_concept":
            return DeleteConcept(_str(d["id"]))
        if op == "delete_association":
            return DeleteAssociation(_str(d["id"]))
        if op == "forget_source":
            return ForgetSource(_str(d["source"]))
    except KeyError as exc:
        raise CodecError(f"a mutation record lacks its field {exc.args[0]!r}") from exc
    except TypeError as exc:
        raise CodecError(f"bad mutation record ({exc!r})") from exc
    raise CodecError(f"unknown mutation op {op!r}")


def _member(table: dict[str, Any], value: Any, name: str) -> Any:
    try:
        return table[value]
    except (KeyError, TypeError):
        raise CodecError(f"unknown {name} {value!r:.40}; one of {', '.join(table)}") from None


def _list(value: Any, name: str) -> list[Any]:
    # strict: list("abc") would quietly store ["a", "b", "c"] for a peer that sent a string
    if not isinstance(value, list):
        raise CodecError(f"{name} must be a list, got {type(value).__name__}")
    return list(value)


def _map(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise CodecError(f"attrs must be a map, got {type(value).__name__}")
    return dict(value)


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise CodecError(f"expected a string id, got {type(value).__name__}")
    return value
