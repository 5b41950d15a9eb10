"""A store reopened from a snapshot decodes records only when they are read, and behaves exactly as one
that decoded everything: the same records, edges, counts and index answers, before and after changes."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import msgpack
import numpy as np
import pytest
from tests.store.builders import dump, edge, entity, statement, unit
from tests.store.test_store_codec import write_format_3

from sutra.errors import CorruptionError
from sutra.model import (
    AssociationType,
    CloseAssociation,
    ConceptKind,
    DeleteConcept,
    ForgetSource,
    PutAssociation,
    PutConcept,
)
from sutra.store import LocalStore, snapshot
from sutra.store.codec import concept_to_row

CAUSAL = AssociationType.CAUSAL
# stats that differ between two stores of the same records, or move with a checkpoint or reopen
VOLATILE = ("path", "recovery", "fsyncs", "wal_bytes", "snapshot_lsn")


def build(store: LocalStore) -> None:
    """Two documents sharing an entity: edges of two types, a closed edge, vectors, aliases."""
    ann, bob, city = entity("Ann", "d1", aliases=("Annie",)), entity("Bob", "d2"), entity("Paris", "d1", "d2")
    s1 = statement("Ann lives in Paris.", "d1", vector=unit(8, 1))
    s2 = statement("Bob lives in Paris.", "d2", vector=unit(8, 2))
    s3 = statement("Ann knows Bob.", "d1", vector=unit(8, 3))
    lives = edge(ann, "located_in", city, "d1", statements=(s1.id,))
    store.apply([PutConcept(c) for c in (ann, bob, city, s1, s2, s3)] + [PutAssociation(lives)])
    store.apply(
        [
            PutAssociation(edge(bob, "located_in", city, "d2", statements=(s2.id,))),
            PutAssociation(edge(ann, "knows", bob, "d1", statements=(s3.id,))),
            PutAssociation(edge(s1, "causes", s3, "d1", type=AssociationType.CAUSAL, statements=(s1.id,))),
        ]
    )
    store.apply([CloseAssociation(lives.id, valid_to="2024-05-01")])


def observable(store: LocalStore) -> dict:
    """The records and every index answer a reader can see."""
    ids = [c.id for c in store.concepts()]
    records = dump(store)
    for record in records["concepts"] + records["associations"]:
        record.pop("recorded_at")  # the two stores compared were written at different moments
    return {
        **records,
        "stats": {k: v for k, v in store.stats().items() if k not in VOLATILE},
        "in": {cid: [a.id for a in store.neighbors(cid, "in")] for cid in ids},
        "causal": {
            cid: [a.id for a in store.neighbors(cid, "both", [AssociationType.CAUSAL])] for cid in ids
        },
        "entities": {name: store.find_entities(name) for name in ("ann", "ANNIE", "paris", "Bob")},
        "by_source": {src: store.by_source(src) for src in ("d1", "d2")},
        "kinds": {str(k): [c.id for c in store.concepts(k)] for k in ConceptKind},
        "vector": store.search_vector(unit(8, 2), k=3),
        "text": store.search_text("lives Paris", k=3),
    }


@pytest.mark.parametrize("vector_index", ["auto", "hnsw"])
def test_a_reopened_store_decodes_nothing_until_read_and_answers_as_before(open_store, vector_index):
    store = open_store(vector_index=vector_index)
    build(store)
    before = observable(store)
    store.checkpoint()
    store.close()
    again = open_store(vector_index=vector_index)
    # a saved HNSW graph is loaded; the exact index (small stores) is rebuilt from the vector file
    assert again.recovery.vector_index_loaded is (vector_index == "hnsw")
    graph = again._graph
    tables = (graph.concepts, graph.associations, graph._out, graph._in, graph._cited_by)
    assert all(table.decoded() == 0 for table in tables)  # records and index entries alike
    stats = again.stats()  # counts come from the snapshot's columns
    assert again._graph.concepts.decoded() == 0
    assert stats["concepts"] == 6 and stats["current_associations"] == 3
    assert observable(again) == before
    assert again.check() == []


@pytest.mark.parametrize(
    "change",
    [
        lambda s: s.apply([ForgetSource("d1")]),
        lambda s: s.apply([DeleteConcept(entity("Paris").id)]),
        lambda s: s.apply([PutConcept(statement("Ann moved.", "d3")), PutConcept(entity("Ann", "d3"))]),
        lambda s: s.apply([PutAssociation(edge(entity("Bob"), "knows", entity("Ann"), "d2", statements=()))]),
    ],
    ids=["forget", "delete", "reinforce", "new-edge"],
)
def test_changes_after_a_lazy_open_match_the_same_changes_on_a_store_never_reopened(open_store, change):
    """The adopted indexes hold tuples until first changed: every primitive must copy them correctly."""
    kept, reopened = open_store("kept"), open_store("reopened")
    for store in (kept, reopened):
        build(store)
    reopened.checkpoint()
    reopened.close()
    reopened = open_store("reopened")
    for store in (kept, reopened):
        change(store)
    expected = observable(kept)
    assert observable(reopened) == expected
    assert reopened.check() == []
    reopened.checkpoint()  # and the snapshot written from a half-decoded table reads back the same
    reopened.close()
    assert observable(open_store("reopened")) == expected


def test_a_failed_batch_after_a_lazy_open_rolls_back_to_the_same_state(open_store):
    store = open_store()
    build(store)
    store.checkpoint()
    store.close()
    store = open_store()
    before = observable(store)
    ghost = edge(entity("Ann"), "knows", entity("Nobody"), "d9")
    with pytest.raises(Exception, match="does not exist"):
        store.apply([ForgetSource("d1"), PutAssociation(ghost)])  # the forget is undone, order restored
    assert observable(store) == before
    assert store.check() == []


def edit_sections(path: Path, edit) -> None:
    """Let `edit(sections, footer)` change a snapshot's sections, then recompute the checksum, as a hand
    edit that knew the format would."""
    data = path.read_bytes()
    body = data[snapshot.HEADER.size : len(data) - snapshot.TRAILER.size]
    (footer_length,) = struct.unpack_from("<I", body, len(body) - 4)
    footer = msgpack.unpackb(body[len(body) - 4 - footer_length : len(body) - 4])
    sections = {name: body[a:b] for name, (a, b) in footer["sections"].items()}
    edit(sections, footer)
    new_body, places = b"", {}
    for name, section in sections.items():
        places[name] = [len(new_body), len(new_body) + len(section)]
        new_body += section
    footer["sections"] = places
    packed = msgpack.packb(footer, use_bin_type=True)
    new_body += packed + struct.pack("<I", len(packed))
    path.write_bytes(
        data[: snapshot.HEADER.size]
        + new_body
        + snapshot.TRAILER.pack(zlib.crc32(new_body), len(new_body), snapshot.END)
    )


def rewrite_concept_row(path: Path, index: int, packed_row: bytes, table: str = "concept") -> None:
    def edit(sections, footer):
        offsets = np.frombuffer(sections[f"{table}_offsets"], dtype="<u8")
        rows = [sections[f"{table}_rows"][offsets[i] : offsets[i + 1]] for i in range(len(offsets) - 1)]
        rows[index] = packed_row
        sections[f"{table}_rows"] = b"".join(rows)
        sections[f"{table}_offsets"] = np.cumsum([0] + [len(r) for r in rows], dtype="<u8").tobytes()

    edit_sections(path, edit)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("text", None),
        ("id", ["c", 1]),
        ("aliases", [None]),
        ("strength", "x"),
        ("attrs", {1: 2}),
        ("id", "e:bob"),
    ],
)
def test_a_record_whose_checksum_matches_but_fields_do_not_is_a_corruption_error_when_read(
    tmp_path, field, value
):
    with LocalStore(tmp_path / "db") as store:
        store.apply([PutConcept(entity("Ann", "d"))])
        store.checkpoint()
        [concept] = store.concepts()
    row = concept_to_row(concept, None)
    row[snapshot.CONCEPT_ROW.index(field)] = value
    rewrite_concept_row(tmp_path / "db" / snapshot.SNAPSHOT_NAME, 0, msgpack.packb(row, use_bin_type=True))
    with LocalStore(tmp_path / "db") as store:  # opening reads no record ...
        with pytest.raises(CorruptionError, match="a record holds a value no store writes"):
            store.concepts()  # ... reading this one says the snapshot is damaged and what to do
        with pytest.raises(CorruptionError, match="Restore the data directory from a backup"):
            store.get_concept(concept.id)


def test_a_space_with_a_format_3_snapshot_opens_and_its_next_checkpoint_writes_format_4(open_store, tmp_path):
    store = open_store()
    build(store)
    store.checkpoint()
    before, view = observable(store), store.frozen()
    store.close()
    path = tmp_path / "db" / snapshot.SNAPSHOT_NAME
    for old in path.parent.glob("snapshot.*.npy"):
        old.unlink()  # format 3 kept vectors inline in the rows
    write_format_3(path, lsn=view.lsn, seq=view.seq, concepts=view.concepts, associations=view.associations)
    store = open_store()
    assert store._graph.concepts.decoded() == 6  # decoded whole, as format 3 always was
    assert observable(store) == before and store.check() == []
    store.apply([ForgetSource("d2")])
    store.checkpoint()
    assert snapshot.HEADER.unpack_from(path.read_bytes())[1] == snapshot.SNAPSHOT_VERSION
    after = observable(store)
    store.close()
    assert observable(open_store()) == after


@pytest.mark.parametrize("packed", [b"\x93\xa3\xff\xff\xff\x01\x02", b"\x91\x01\x02", b"\xc1"])
def test_a_row_that_is_not_msgpack_is_a_corruption_error_when_read(tmp_path, packed):
    with LocalStore(tmp_path / "db") as store:
        store.apply([PutConcept(entity("Ann", "d"))])
        store.checkpoint()
    rewrite_concept_row(tmp_path / "db" / snapshot.SNAPSHOT_NAME, 0, packed)
    with (
        LocalStore(tmp_path / "db") as store,
        pytest.raises(CorruptionError, match="a record holds a value no store writes"),
    ):
        store.concepts()


def test_check_reports_a_column_that_disagrees_with_its_row(open_store, tmp_path):
    store = open_store()
    build(store)
    store.checkpoint()
    store.close()
    path = tmp_path / "db" / snapshot.SNAPSHOT_NAME
    edit_sections(path, lambda sections, footer: sections.update(concept_kind=bytes([1] * 6)))  # all "entity"
    store = open_store()
    assert any("its kind column says" in problem for problem in store.check())


@pytest.mark.parametrize("lsn", [-5, "7"])
def test_a_footer_whose_lsn_is_not_a_count_is_refused(tmp_path, lsn):
    with LocalStore(tmp_path / "db") as store:
        store.apply([PutConcept(entity("Ann", "d"))])
        store.checkpoint()
    edit_sections(tmp_path / "db" / snapshot.SNAPSHOT_NAME, lambda sections, footer: footer.update(lsn=lsn))
    with pytest.raises(CorruptionError, match="lsn and seq are not counts"):
        LocalStore(tmp_path / "db")


def test_a_damaged_snapshot_is_reported_as_damage_even_when_the_damage_names_a_missing_file(tmp_path):
    with LocalStore(tmp_path / "db") as store:
        store.apply([PutConcept(statement("Ann sings.", "d", vector=unit(8, 1)))])
        store.checkpoint()
    path = tmp_path / "db" / snapshot.SNAPSHOT_NAME
    [vectors] = path.parent.glob("snapshot.*.npy")
    data = path.read_bytes()
    path.write_bytes(data.replace(vectors.name.encode(), b"snapshot.9.npy"))  # checksum not recomputed
    with pytest.raises(CorruptionError, match="its checksum does not match"):
        LocalStore(tmp_path / "db")


def test_a_failed_batch_that_deleted_and_put_again_restores_seq_order(open_store):
    store = open_store()
    a, b = entity("A", "d1"), entity("B", "d1")
    store.apply([PutConcept(a), PutConcept(b)])
    with pytest.raises(Exception, match="does not exist"):
        store.apply(
            [DeleteConcept(a.id), PutConcept(entity("A", "d1")), PutAssociation(edge(a, "r", entity("Z")))]
        )
    assert [c.text for c in store.concepts()] == ["A", "B"]
    assert store.check() == []


@pytest.mark.parametrize("entry", [{"semantic": 7}, ["a:1"], {"colour": ["a:1"]}])
def test_a_graph_index_entry_a_store_never_writes_is_a_corruption_error_when_used(tmp_path, entry):
    with LocalStore(tmp_path / "db") as store:
        build(store)
        store.checkpoint()
    path = tmp_path / "db" / snapshot.SNAPSHOT_NAME
    rewrite_concept_row(path, 0, msgpack.packb(entry, use_bin_type=True), table="index_out")
    with LocalStore(tmp_path / "db") as store:
        [first] = [c for c in store.concepts() if c.text == "Ann"]  # the first key of the saved out-index
        with pytest.raises(CorruptionError, match="graph index entry"):
            store.neighbors(first.id, "out")


@pytest.mark.parametrize("dtype", ["float32", "int8"])
def test_a_checkpoint_after_a_lazy_open_copies_unread_rows_and_vectors_as_they_are(open_store, dtype):
    store = open_store(vector_dtype=dtype)
    build(store)
    store.checkpoint()
    store.close()
    store = open_store()
    store.apply([ForgetSource("d2"), PutConcept(statement("Eve sings.", "d5", vector=unit(8, 11)))])
    decoded = store._graph.concepts.decoded(), store._graph.associations.decoded()
    store.checkpoint()  # the rows nobody read are copied packed, their vectors from the old vector file
    assert (store._graph.concepts.decoded(), store._graph.associations.decoded()) == decoded
    assert decoded[0] < 5 and decoded[1] < 4
    expected = observable(store)
    store.close()
    again = open_store()
    assert observable(again) == expected and again.check() == []
    assert [c.text for c in again.concepts()][-1] == "Eve sings."
    assert again.search_vector(unit(8, 11), k=1)[0][0] == statement("Eve sings.").id


def test_forgetting_a_source_an_edge_leans_on_reads_only_that_edge_after_a_lazy_open(open_store):
    store = open_store()
    build(store)
    leaning = edge(entity("Bob"), "has", entity("Paris"), "d2", attrs={"support": ["d1", "d9"]})
    store.apply([PutAssociation(leaning)])
    store.checkpoint()
    store.close()
    store = open_store()
    store.apply([ForgetSource("d9")])  # cited by nothing but the support of one edge
    assert store._graph.associations.decoded() == 1
    assert store.get_association(leaning.id).attrs["support"] == ["d1"]
    assert store.check() == []
