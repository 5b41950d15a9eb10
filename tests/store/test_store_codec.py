"""Hypothesis round-trips: every mutation type survives encode -> msgpack -> decode, and so do snapshots."""

from __future__ import annotations

import zlib
from dataclasses import fields

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sutra.errors import CorruptionError, InputError
from sutra.model import (
    Association,
    AssociationType,
    CloseAssociation,
    Concept,
    ConceptKind,
    DeleteAssociation,
    DeleteConcept,
    ForgetSource,
    PutAssociation,
    PutConcept,
    SemanticType,
)
from sutra.store import codec, snapshot, wal
from sutra.store.batch import decode_batch, encode_batch
from sutra.store.snapshot import read_snapshot, write_snapshot

ids = st.text(min_size=1, max_size=12)
texts = st.text(max_size=40)
finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
maybe_time = st.none() | st.text(max_size=25)
json_leaf = st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | finite | texts
attrs = st.dictionaries(
    st.text(max_size=8),
    st.recursive(
        json_leaf,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
        max_leaves=6,
    ),
    max_size=4,
)
vectors = st.none() | st.integers(1, 16).flatmap(
    lambda n: st.lists(st.floats(-1e3, 1e3, width=32), min_size=n, max_size=n).map(
        lambda xs: np.asarray(xs, dtype=np.float32)
    )
)

concepts = st.builds(
    Concept,
    id=ids, text=texts, kind=st.sampled_from(ConceptKind), semantic_type=st.sampled_from(SemanticType),
    domain=texts, confidence=finite, strength=finite, valid_from=maybe_time, valid_to=maybe_time,
    recorded_at=finite, sources=st.lists(ids, max_size=4), aliases=st.lists(ids, max_size=3), attrs=attrs,
    vector=vectors,
)  # fmt: skip
associations = st.builds(
    Association,
    id=ids, source=ids, target=ids, type=st.sampled_from(AssociationType), relation=texts,
    negated=st.booleans(), confidence=finite, strength=finite, valid_from=maybe_time, valid_to=maybe_time,
    recorded_at=finite, sources=st.lists(ids, max_size=4), statements=st.lists(ids, max_size=4), attrs=attrs,
)  # fmt: skip
mutations = st.one_of(
    st.builds(PutConcept, concepts),
    st.builds(PutAssociation, associations),
    st.builds(CloseAssociation, ids, maybe_time),
    st.builds(DeleteConcept, ids),
    st.builds(DeleteAssociation, ids),
    st.builds(ForgetSource, ids),
)


def comparable(obj: object) -> object:
    """A mutation or record as plain data (numpy vectors as bytes) so == is exact."""
    if isinstance(obj, Concept):
        return codec.concept_to_dict(obj, with_seq=True)
    if isinstance(obj, Association):
        return codec.association_to_dict(obj, with_seq=True)
    if hasattr(obj, "__slots__"):
        return (type(obj).__name__, *(comparable(getattr(obj, name)) for name in obj.__slots__))
    return obj


@settings(max_examples=300)
@given(mutations)
def test_every_mutation_round_trips_through_msgpack(m):
    decoded = codec.mutation_from_dict(codec.unpack(codec.pack(codec.mutation_to_dict(m))))
    assert type(decoded) is type(m)
    assert comparable(decoded) == comparable(m)


@given(st.lists(mutations, max_size=6), st.integers(1, 2**62))
def test_a_batch_round_trips_through_a_wal_frame(batch, lsn):
    payload = wal.encode_payload(lsn, [codec.mutation_to_dict(m) for m in batch])
    got_lsn, decoded = wal.decode_payload(payload)
    assert got_lsn == lsn
    assert [comparable(m) for m in decoded] == [comparable(m) for m in batch]


@given(concepts.filter(lambda c: c.vector is None or bool(np.linalg.norm(c.vector) > 0)))
def test_apply_encoding_normalizes_vectors_and_stamps_record_time(c):
    (d,), dim = encode_batch([PutConcept(c)], now=123.0)
    decoded = codec.mutation_from_dict(codec.unpack(codec.pack(d))).concept
    assert decoded.recorded_at == (c.recorded_at or 123.0)
    if c.vector is None:
        assert decoded.vector is None and dim is None
    else:
        assert dim == c.vector.size
        assert abs(float(np.linalg.norm(decoded.vector)) - 1.0) < 1e-5


@settings(max_examples=30, deadline=None)
# a store's records have unique ids, and a snapshot is read back as tables keyed by them
@given(
    st.lists(concepts, max_size=5, unique_by=lambda c: c.id),
    st.lists(associations, max_size=5, unique_by=lambda a: a.id),
    st.integers(0, 2**40),
)
def test_snapshots_round_trip(tmp_path_factory, cs, assocs, lsn):
    for i, c in enumerate(cs):
        c.seq = c.last_seq = i + 1
    for i, a in enumerate(assocs):
        a.seq, a.last_seq, a.closed_seq = i + 10, i + 11, (i if i % 2 else None)
    path = tmp_path_factory.mktemp("snap") / "snapshot.bin"
    write_snapshot(path, lsn=lsn, seq=99, concepts=cs, associations=assocs)
    snap = read_snapshot(path)
    assert (snap.lsn, snap.seq) == (lsn, 99)
    assert [comparable(c) for c in snap.concepts] == [comparable(c) for c in cs]
    assert [comparable(a) for a in snap.associations] == [comparable(a) for a in assocs]


@given(st.lists(mutations, max_size=6))
def test_the_records_applied_equal_the_records_replayed(batch):
    """`apply` builds its records from the encoded dicts; recovery from the WAL bytes: the same records."""
    try:
        dicts, _ = encode_batch(batch, now=5.0)
    except InputError:
        return  # hypothesis builds some invalid mutations (empty ids ...): they never reach either path
    replayed = wal.decode_payload(wal.encode_payload(1, dicts))[1]
    assert [comparable(m) for m in decode_batch(dicts)] == [comparable(m) for m in replayed]


def test_snapshot_rows_follow_the_record_fields():
    assert tuple(f.name for f in fields(Concept)) == codec.CONCEPT_ROW
    assert tuple(f.name for f in fields(Association)) == codec.ASSOCIATION_ROW


def write_format_2(path, *, lsn, seq, concepts, associations):
    """A snapshot as format 2 wrote it: a header map, then an array of record maps for each table."""
    body = codec.pack({"lsn": lsn, "seq": seq, "concepts": len(concepts), "associations": len(associations),
                       "vectors": None, "layout": "arrays"})  # fmt: skip
    body += codec.pack([codec.concept_to_dict(c, with_seq=True) for c in concepts])
    body += codec.pack([codec.association_to_dict(a, with_seq=True) for a in associations])
    path.write_bytes(
        snapshot.HEADER.pack(snapshot.MAGIC, 2)
        + body
        + snapshot.TRAILER.pack(zlib.crc32(body), len(body), snapshot.END)
    )


def write_format_3(path, *, lsn, seq, concepts, associations):
    """A snapshot as format 3 wrote it: a header map, then an array of positional rows for each table."""
    body = codec.pack({"lsn": lsn, "seq": seq, "concepts": len(concepts), "associations": len(associations),
                       "vectors": None, "layout": "rows", "concept_fields": list(codec.CONCEPT_ROW),
                       "association_fields": list(codec.ASSOCIATION_ROW)})  # fmt: skip
    body += codec.pack([codec.concept_to_row(c, codec.vector_to_bytes(c.vector)) for c in concepts])
    body += codec.pack([codec.association_to_row(a) for a in associations])
    path.write_bytes(
        snapshot.HEADER.pack(snapshot.MAGIC, 3)
        + body
        + snapshot.TRAILER.pack(zlib.crc32(body), len(body), snapshot.END)
    )


@pytest.mark.parametrize("write", [write_format_2, write_format_3])
@settings(max_examples=20, deadline=None)
@given(
    st.lists(concepts, max_size=4, unique_by=lambda c: c.id),
    st.lists(associations, max_size=4, unique_by=lambda a: a.id),
)
def test_older_snapshot_formats_are_still_read(tmp_path_factory, write, cs, assocs):
    for i, c in enumerate(cs):
        c.seq = c.last_seq = i + 1
    path = tmp_path_factory.mktemp("old") / "snapshot.bin"
    write(path, lsn=7, seq=50, concepts=cs, associations=assocs)
    snap = read_snapshot(path)
    assert snap.indexes is None  # decoded whole: the store builds its indexes from the records
    assert [comparable(c) for c in snap.concepts] == [comparable(c) for c in cs]
    assert [comparable(a) for a in snap.associations] == [comparable(a) for a in assocs]


def test_rows_written_with_other_fields_are_refused(tmp_path, monkeypatch):
    path = tmp_path / "snapshot.bin"
    monkeypatch.setattr(snapshot, "CONCEPT_ROW", (*codec.CONCEPT_ROW, "colour"))
    write_snapshot(path, lsn=1, seq=0, concepts=[], associations=[])
    monkeypatch.undo()
    with pytest.raises(CorruptionError, match="other record fields"):
        read_snapshot(path)


@pytest.mark.parametrize(("field", "value"), [("sources", "abc"), ("sources", {"s": 1}), ("aliases", None)])
def test_decoding_refuses_a_string_or_map_where_a_list_belongs(field, value):
    """What a storage-server peer sends is decoded strictly: list("abc") would store ["a", "b", "c"]."""
    concept = Concept("c:1", "t", ConceptKind.ENTITY, SemanticType.ENTITY)
    record = codec.concept_to_dict(concept, with_seq=False)
    record[field] = value
    with pytest.raises(codec.CodecError, match=f"{field} must be a list"):
        codec.mutation_from_dict({"op": "put_concept", "concept": record})
