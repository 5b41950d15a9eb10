"""What each mutation means: reinforcement, closing and reopening, deletion cascades, forgetting sources."""

from __future__ import annotations

import pytest
from tests.store.builders import dump, edge, entity, statement, unit

from sutra.errors import InputError, NotFoundError
from sutra.model import (
    CloseAssociation,
    ConceptKind,
    DeleteAssociation,
    DeleteConcept,
    ForgetSource,
    PutAssociation,
    PutConcept,
)
from sutra.store import LocalStore, ShardedStore


def test_put_concept_twice_reinforces_instead_of_replacing(open_store):
    store = open_store()
    first = entity("Paris", "d1", "d2", aliases=("Lutetia",), confidence=0.6, strength=1.0, attrs={"a": 1})
    store.apply([PutConcept(first)])
    again = entity(
        "Paris",
        "d3",
        "d1",
        aliases=("City of Light", "Lutetia"),
        confidence=0.9,
        strength=2.0,
        attrs={"a": 99, "b": 2},
    )
    store.apply([PutConcept(again)])
    c = store.get_concept(first.id)
    assert c.sources == ["d2", "d3", "d1"]  # union; the re-asserted d1 moves to the end
    assert c.aliases == ["Lutetia", "City of Light"]
    assert c.strength == 3.0
    assert c.confidence == 0.9
    assert c.attrs == {"a": 1, "b": 2}  # existing keys kept, new ones added
    assert (c.seq, c.last_seq) == (1, 2)
    assert store.find_entities("city of light") == [first.id]
    assert store.check() == []


def test_reinforcing_keeps_the_vector_unless_a_new_one_is_given(open_store):
    store = open_store()
    s = statement("Water boils at 100 C.", "d1", vector=unit(8, 1))
    store.apply([PutConcept(s)])
    store.apply([PutConcept(statement("Water boils at 100 C.", "d2"))])
    assert store.get_concept(s.id).vector == pytest.approx(unit(8, 1))
    store.apply([PutConcept(statement("Water boils at 100 C.", "d3", vector=unit(8, 2)))])
    assert store.get_concept(s.id).vector == pytest.approx(unit(8, 2))
    assert store.search_vector(unit(8, 2), k=1)[0][0] == s.id
    assert store.check() == []


def test_recorded_at_is_stamped_once_and_seq_counts_puts(open_store):
    store = open_store()
    a, b = entity("A", "d"), entity("B", "d")
    store.apply([PutConcept(a), PutConcept(b), PutAssociation(edge(a, "knows", b, "d"))])
    first = store.get_concept(a.id).recorded_at
    assert first > 0
    store.apply([PutConcept(a)])
    assert store.get_concept(a.id).recorded_at == first
    assert store.stats()["seq"] == 4
    assert store.check() == []


def test_association_reinforcement_unions_statements_and_reopens_when_closed(open_store):
    store = open_store()
    a, b, s1, s2 = (
        entity("Ann", "d1"),
        entity("Oslo", "d1"),
        statement("Ann lives in Oslo.", "d1"),
        statement("Ann lives in Oslo now.", "d2"),
    )
    e = edge(a, "lives_in", b, "d1", statements=(s1.id,))
    store.apply([PutConcept(a), PutConcept(b), PutConcept(s1), PutConcept(s2), PutAssociation(e)])
    store.apply([CloseAssociation(e.id, valid_to="2020")])
    closed = store.get_association(e.id)
    assert not closed.current and closed.valid_to == "2020" and closed.closed_seq == 5
    assert store.neighbors(a.id, current_only=True) == []
    assert [x.id for x in store.neighbors(a.id)] == [e.id]

    store.apply([PutAssociation(edge(a, "lives_in", b, "d2", statements=(s2.id, s1.id), strength=0.5))])
    reopened = store.get_association(e.id)
    assert reopened.current and reopened.valid_to is None
    assert reopened.sources == ["d1", "d2"]
    assert reopened.statements == [s2.id, s1.id]
    assert reopened.strength == 1.5
    assert store.check() == []


def test_delete_concept_removes_edges_index_entries_and_vector(open_store):
    store = open_store()
    a, b = entity("Ann", "d"), entity("Bob", "d", aliases=("Robert",))
    s = statement("Ann knows Bob.", "d", vector=unit(4, 0))
    e = edge(a, "knows", b, "d", statements=(s.id,))
    store.apply([PutConcept(a), PutConcept(b), PutConcept(s), PutAssociation(e)])
    store.apply([DeleteConcept(b.id), DeleteConcept(s.id), DeleteConcept("no-such-id")])
    assert store.get_concept(b.id) is None and store.get_association(e.id) is None
    assert store.find_entities("robert") == [] and store.neighbors(a.id, "both") == []
    assert store.search_text("knows") == [] and store.search_vector(unit(4, 0)) == []
    assert store.by_source("d") == [a.id]
    assert store.check() == []


def test_delete_statement_drops_it_from_associations_that_cite_it(open_store):
    store = open_store()
    a, b = entity("Ann", "d1"), entity("Bob", "d1")
    s1, s2 = statement("Ann met Bob.", "d1"), statement("Ann saw Bob.", "d1")
    e = edge(a, "met", b, "d1", statements=(s1.id, s2.id))
    store.apply([PutConcept(x) for x in (a, b, s1, s2)] + [PutAssociation(e)])
    store.apply([DeleteConcept(s1.id)])
    assert store.get_association(e.id).statements == [s2.id]
    store.apply([DeleteAssociation(e.id), DeleteAssociation(e.id)])
    assert store.get_association(e.id) is None
    assert store.check() == []


def test_forget_source_removes_only_what_that_source_alone_supports(open_store):
    store = open_store()
    ann, bob, oslo = entity("Ann", "d1", "d2"), entity("Bob", "d1"), entity("Oslo")  # Oslo: no sources
    shared = statement("Ann knows Bob.", "d1", "d2")
    only1 = statement("Bob lives in Oslo.", "d1")
    knows = edge(ann, "knows", bob, "d1", "d2", statements=(shared.id,))
    lives = edge(bob, "lives_in", oslo, "d1", statements=(only1.id,))
    visits = edge(ann, "visits", oslo, "d2", statements=(shared.id, only1.id))
    store.apply([PutConcept(x) for x in (ann, bob, oslo, shared, only1)])
    store.apply([PutAssociation(x) for x in (knows, lives, visits)])

    store.apply([ForgetSource("d1")])
    assert store.by_source("d1") == []
    assert store.get_concept(only1.id) is None and store.get_association(lives.id) is None
    assert store.get_concept(bob.id) is None  # only d1 named Bob
    assert store.get_association(knows.id) is None  # its endpoint Bob is gone
    assert store.get_concept(ann.id).sources == ["d2"]
    assert store.get_concept(shared.id).sources == ["d2"]
    assert store.get_association(visits.id).statements == [shared.id]  # the deleted statement is dropped
    assert store.get_concept(oslo.id) is not None  # still linked by `visits`

    store.apply([ForgetSource("d2")])
    assert store.concepts() == []  # Oslo had no sources and lost its last edge: no orphans
    assert store.stats()["associations"] == 0
    assert store.check() == []


def test_forget_unknown_source_is_a_no_op(open_store):
    store = open_store()
    store.apply([PutConcept(entity("Ann", "d1"))])
    store.apply([ForgetSource("nope")])
    assert len(store.concepts()) == 1
    assert store.check() == []


def test_a_failing_batch_changes_nothing(open_store):
    store = open_store()
    ann, bob = entity("Ann", "d1"), entity("Bob", "d1")
    store.apply([PutConcept(ann)])
    before = (store.concepts(), store.stats()["lsn"], store.stats()["seq"])
    ghost = entity("Ghost")
    bad = [
        PutConcept(entity("Ann", "d9", aliases=("Annie",))),
        PutConcept(bob),
        DeleteConcept(ann.id),
        PutAssociation(edge(bob, "knows", ghost, "d1")),
    ]
    with pytest.raises(NotFoundError, match="does not exist"):
        store.apply(bad)
    assert (store.concepts(), store.stats()["lsn"], store.stats()["seq"]) == before
    assert store.find_entities("annie") == [] and store.find_entities("ann") == [ann.id]
    with pytest.raises(NotFoundError):
        store.apply([CloseAssociation("a:missing")])
    with pytest.raises(InputError, match="re-put"):
        store.apply([PutConcept(statement("x", id=ann.id))])
    assert store.check() == []


@pytest.mark.parametrize(
    "bad",
    [
        [PutConcept(entity("A", confidence=float("nan")))],
        [PutConcept(statement("v", vector=[0.0, 0.0]))],
        [PutConcept(statement("v", vector=[1.0, 2.0])), PutConcept(statement("w", vector=[1.0, 2.0, 3.0]))],
        [PutConcept(entity("A", attrs={1: "x"}))],
        [PutConcept(entity("A", attrs={"x": object()}))],
        ["not a mutation"],
        [PutConcept(entity("A", id=""))],
        [PutConcept(entity("A", ""))],
    ],
)
def test_invalid_input_is_refused_before_the_wal(open_store, bad):
    store = open_store()
    with pytest.raises(InputError):
        store.apply(bad)
    assert store.stats()["lsn"] == 0 and store.stats()["wal_bytes"] == 16
    assert store.check() == []


def test_concepts_come_back_in_store_order_and_copies_do_not_leak(open_store):
    store = open_store()
    xs = [entity(f"E{i}", "d") for i in range(5)]
    store.apply([PutConcept(x) for x in reversed(xs)])
    store.apply([DeleteConcept(xs[2].id), PutConcept(xs[2])])
    assert [c.text for c in store.concepts()] == ["E4", "E3", "E1", "E0", "E2"]
    assert [c.text for c in store.concepts(ConceptKind.STATEMENT)] == []
    got = store.get_concept(xs[0].id)
    got.sources.append("mutated")
    assert store.get_concept(xs[0].id).sources == ["d"]
    assert store.check() == []


@pytest.mark.parametrize("shards", [None, 3])
def test_the_store_shares_nothing_with_the_caller_and_holds_what_replay_rebuilds(tmp_path, shards):
    def reopen():
        return LocalStore(tmp_path / "s") if shards is None else ShardedStore(tmp_path / "s", shards=shards)

    store = reopen()
    nested = {"rule": {"if": ["red", "cold"], "then": ("round",)}, "support": ["d0"], "n": 3}
    a, b = entity("A", "d", attrs=nested), entity("B", "d")
    link = edge(a, "knows", b, "d", attrs={"support": ["d0"]})
    store.apply([PutConcept(a), PutConcept(b), PutAssociation(link)])
    # the caller keeps changing its objects after the write was acknowledged
    nested["rule"]["if"].append("big")
    nested["support"].clear()
    link.attrs["support"].append("d9")
    a.sources.append("d-late")
    stored = store.get_concept(a.id)
    assert stored.attrs == {"rule": {"if": ["red", "cold"], "then": ["round"]}, "support": ["d0"], "n": 3}
    assert stored.sources == ["d"]
    assert store.neighbors(a.id, "out")[0].attrs == {"support": ["d0"]}
    # and a reader changing what it was given changes nothing either
    stored.attrs["rule"]["if"].append("read-write")
    store.neighbors(a.id, "out")[0].attrs["support"].append("read-write")
    store.neighbors(a.id, "out")[0].history.append([0, "ghost"])
    assert store.get_concept(a.id).attrs["rule"]["if"] == ["red", "cold"]
    assert store.neighbors(a.id, "out")[0].attrs == {"support": ["d0"]}
    assert len(store.neighbors(a.id, "out")[0].history) == 1
    raw = bytearray(b"orig")
    c = entity("C", "d", attrs={"blob": raw})
    store.apply([PutConcept(c)])
    raw[:] = b"HACKED!"
    assert store.get_concept(c.id).attrs == {"blob": b"orig"}  # as replay gives it back
    live = dump(store)
    store.close()
    store = reopen()
    try:
        assert dump(store) == live  # the WAL replays to exactly the live records
        assert store.check() == []
    finally:
        store.close()


@pytest.mark.parametrize("shards", [None, 3])
def test_numbers_too_large_and_ids_that_are_not_text_are_clear_input_errors(tmp_path, shards):
    store = LocalStore(tmp_path / "s") if shards is None else ShardedStore(tmp_path / "s", shards=shards)
    try:
        with pytest.raises(InputError, match="confidence must be a finite number"):
            store.apply([PutConcept(entity("A", "d", confidence=10**400))])
        with pytest.raises(InputError, match="valid UTF-8"):
            store.apply([PutConcept(entity("B", "d", id="c:\udcff"))])
        assert store.stats()["concepts"] == 0 and store.check() == []
    finally:
        store.close()
