"""Deletion without orphans: concepts, associations and sources leave nothing behind in any index, and the
state after a delete is the same whether it is rebuilt from the WAL or loaded from a snapshot."""

from __future__ import annotations

import numpy as np
from tests.store.builders import dump, edge, entity, statement, unit

from sutra.model import DeleteAssociation, DeleteConcept, ForgetSource, PutAssociation, PutConcept
from sutra.store import LocalStore


def no_orphans(store: LocalStore) -> list[str]:
    """References that point at nothing: edge ends, cited statements, timeline entries."""
    problems = []
    ids = {c.id for c in store.concepts()}
    for c in store.concepts():
        for a in store.neighbors(c.id, "out"):
            problems += [f"{a.id} ends at missing {end}" for end in (a.source, a.target) if end not in ids]
            problems += [f"{a.id} cites missing {s}" for s in a.statements if s not in ids]
            cited = [h[1] for h in a.history if h[1]]
            problems += [f"{a.id} history cites missing {s}" for s in cited if s not in ids]
            if not a.sources:
                problems.append(f"{a.id} has no source left")
    return problems


def build_overlap(store: LocalStore) -> dict[str, object]:
    """Two sources that share one statement and one fact, plus a fact of d2 that leans on d1."""
    ann, bob, oslo = entity("Ann", "d1", "d2"), entity("Bob", "d1"), entity("Oslo", "d1", "d2")
    shared = statement("Ann knows Bob.", "d1", "d2", vector=unit(8, 1))
    only1 = statement("Bob lives in Oslo.", "d1", vector=unit(8, 2))
    only2 = statement("She visits Oslo.", "d2", vector=unit(8, 3))
    store.apply([PutConcept(x) for x in (ann, bob, oslo, shared, only1, only2)])
    visits1 = edge(ann, "visits", oslo, "d1", statements=(only1.id,))
    visits2 = edge(ann, "visits", oslo, "d2", statements=(only2.id,), attrs={"support": ["d1"]})
    store.apply([PutAssociation(edge(bob, "lives_in", oslo, "d1", statements=(only1.id,)))])
    store.apply([PutAssociation(visits1)])
    store.apply([PutAssociation(visits2)])  # reinforces the same fact from d2
    return {"ann": ann, "bob": bob, "oslo": oslo, "shared": shared, "only1": only1, "only2": only2}


def test_forget_source_keeps_shared_facts_and_drops_every_trace_of_the_source(open_store):
    store = open_store()
    c = build_overlap(store)
    visits_id = edge(c["ann"], "visits", c["oslo"]).id
    assert len(store.get_association(visits_id).history) == 2

    store.apply([ForgetSource("d1")])

    assert store.by_source("d1") == []
    assert store.get_concept(c["only1"].id) is None and store.get_concept(c["bob"].id) is None
    visits = store.get_association(visits_id)
    assert visits.sources == ["d2"] and visits.statements == [c["only2"].id]
    assert [h[1] for h in visits.history] == [c["only2"].id]  # d1's assertion left the timeline
    assert visits.attrs["support"] == []  # no longer cites the forgotten source
    assert store.get_concept(c["shared"].id).sources == ["d2"]
    assert store.find_entities("bob") == []
    assert [cid for cid, _ in store.search_text("lives Oslo", k=10)] == [c["only2"].id]
    assert c["only1"].id not in [cid for cid, _ in store.search_vector(unit(8, 2), k=10)]
    assert store.check() == [] and no_orphans(store) == []


def test_delete_is_the_same_after_wal_replay_and_after_a_snapshot(open_store, tmp_path):
    store = open_store("db")
    c = build_overlap(store)
    store.apply([ForgetSource("d1"), DeleteConcept(c["shared"].id)])
    store.apply([DeleteAssociation(edge(c["ann"], "visits", c["oslo"]).id)])
    live = dump(store)
    store.close()

    with LocalStore(tmp_path / "db") as replayed:  # no checkpoint yet: everything comes from the WAL
        assert replayed.recovery.frames_replayed > 0
        assert dump(replayed) == live
        assert replayed.check() == [] and no_orphans(replayed) == []
        replayed.checkpoint()
    with LocalStore(tmp_path / "db") as loaded:  # from the snapshot alone
        assert loaded.recovery.frames_replayed == 0
        assert dump(loaded) == live
        assert loaded.search_vector(unit(8, 1), k=10) == loaded.search_vector(unit(8, 1), k=10)
        assert c["shared"].id not in [cid for cid, _ in loaded.search_vector(unit(8, 1), k=10)]
        assert loaded.check() == [] and no_orphans(loaded) == []


def test_deleted_vectors_never_come_back_from_a_saved_hnsw_index(open_store, tmp_path):
    dim, n = 16, 300
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((n, dim)).astype(np.float32)
    store = open_store("db", vector_index="hnsw")
    items = [statement(f"fact number {i}", f"src{i % 3}", vector=vectors[i]) for i in range(n)]
    store.apply([PutConcept(s) for s in items])
    store.checkpoint()  # the index is saved with the snapshot...
    store.apply([ForgetSource("src0")])  # ...and then a third of its vectors are forgotten (WAL only)
    gone = {s.id for i, s in enumerate(items) if i % 3 == 0}
    store.close()

    for _ in range(2):  # once replaying the forget over the saved index, once from a fresh checkpoint
        with LocalStore(tmp_path / "db", vector_index="hnsw") as reopened:
            assert reopened.stats()["vectors"] == n - len(gone)
            for i in range(0, n, 3):
                hits = {cid for cid, _ in reopened.search_vector(vectors[i], k=20)}
                assert not hits & gone
            assert (
                reopened.search_text("number")
                and not {cid for cid, _ in reopened.search_text("number", k=n)} & gone
            )
            assert reopened.check() == []
            reopened.checkpoint()


def test_forgetting_everything_leaves_an_empty_clean_store(open_store, tmp_path):
    store = open_store("db")
    build_overlap(store)
    store.apply([ForgetSource("d1")])
    store.apply([ForgetSource("d2")])
    stats = store.stats()
    assert (stats["concepts"], stats["associations"], stats["vectors"]) == (0, 0, 0)
    assert store.search_text("Ann Oslo") == [] and store.search_vector(unit(8, 1)) == []
    assert store.check() == []
    store.close()
    with LocalStore(tmp_path / "db") as reopened:
        assert reopened.stats()["concepts"] == 0 and reopened.check() == []
