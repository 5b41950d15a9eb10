"""LocalStore as a whole: reads, reopening, snapshots + WAL recovery, data-directory parameters."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from tests.store.builders import dump, edge, entity, statement, unit

from sutra.config import Settings
from sutra.errors import ConfigError, CorruptionError, StorageError
from sutra.model import (
    AssociationType,
    CloseAssociation,
    ConceptKind,
    DeleteConcept,
    ForgetSource,
    PutAssociation,
)
from sutra.model import PutConcept as Put
from sutra.store import LocalStore, open_store
from sutra.store.snapshot import SNAPSHOT_NAME


def build_history(store: LocalStore, n: int = 30, dim: int = 8) -> None:
    """A mixed history: puts, reinforcement, closing, deletion and forgetting, across many batches."""
    people = [entity(f"Person {i}", f"doc{i % 4}", aliases=(f"P{i}",)) for i in range(n)]
    store.apply([Put(p) for p in people])
    for i in range(0, n - 1):
        s = statement(f"Person {i} knows person {i + 1} well.", f"doc{i % 4}", vector=unit(dim, i))
        store.apply(
            [
                Put(s),
                PutAssociation(edge(people[i], "knows", people[i + 1], f"doc{i % 4}", statements=(s.id,))),
            ]
        )
    store.apply([Put(entity("Person 3", "doc9", strength=2.0))])
    store.apply([CloseAssociation(edge(people[5], "knows", people[6]).id, valid_to="2021")])
    store.apply([DeleteConcept(people[7].id)])
    store.apply([ForgetSource("doc2")])


def test_reads(open_store):
    store = open_store()
    ann, bob, oslo = entity("Ann", "d1"), entity("Bob", "d1"), entity("Oslo", "d1", aliases=("Christiania",))
    s1 = statement("Ann lives in Oslo and works in Oslo.", "d1", vector=unit(8, 1))
    s2 = statement("Bob knows Ann.", "d2", vector=unit(8, 2))
    rule = statement("If someone lives in a city, they visit it.", "d3", kind=ConceptKind.RULE)
    lives = edge(ann, "lives_in", oslo, "d1", type=AssociationType.SEMANTIC, statements=(s1.id,))
    knows = edge(bob, "knows", ann, "d2", type=AssociationType.SEMANTIC)
    part = edge(oslo, "part_of", oslo, "d1", type=AssociationType.COMPOSITIONAL)
    store.apply(
        [Put(x) for x in (ann, bob, oslo, s1, s2, rule)] + [PutAssociation(x) for x in (lives, knows, part)]
    )

    assert [a.id for a in store.neighbors(ann.id)] == [lives.id]
    assert [a.id for a in store.neighbors(ann.id, "in")] == [knows.id]
    assert [a.id for a in store.neighbors(ann.id, "both")] == [lives.id, knows.id]
    assert [a.id for a in store.neighbors(oslo.id, "both")] == [lives.id, part.id]  # a self-loop once
    assert store.neighbors(oslo.id, "both", types=[AssociationType.COMPOSITIONAL])[0].id == part.id
    assert store.neighbors(ann.id, "both", relations=["knows"])[0].id == knows.id
    with pytest.raises(ConfigError):
        store.neighbors(ann.id, "sideways")  # type: ignore[arg-type]

    assert store.find_entities("  CHRISTIANIA ") == [oslo.id]
    assert store.find_entities("nobody") == []
    hits = store.search_text("where does Ann live? Oslo")
    assert hits[0][0] == s1.id and all(score > 0 for _, score in hits)
    assert store.search_text("visit city")[0][0] == rule.id
    assert store.search_text("the of and") == []
    near = store.search_vector(unit(8, 2) * 5.0, k=2)
    assert near[0][0] == s2.id and near[0][1] == pytest.approx(1.0, abs=1e-5)
    assert [c.id for c in store.concepts(ConceptKind.ENTITY)] == [ann.id, bob.id, oslo.id]
    assert store.by_source("d1") == [ann.id, bob.id, oslo.id, s1.id, lives.id, part.id]
    with pytest.raises(ConfigError, match="8-dimensional"):
        store.search_vector(unit(4, 0))

    stats = store.stats()
    assert stats["concepts"] == 6 and stats["associations"] == 3
    assert stats["concepts_by_kind"] == {"entity": 3, "rule": 1, "statement": 2}
    assert stats["associations_by_type"] == {"compositional": 1, "semantic": 2}
    assert stats["dim"] == 8 and stats["vectors"] == 2 and stats["fsync"] == "always"
    assert stats["lsn"] == 1 and stats["snapshot_lsn"] == 0 and stats["wal_bytes"] > 16
    assert store.check() == []


def test_reopen_gives_the_same_state(open_store, tmp_path):
    store = open_store("a")
    build_history(store)
    live = dump(store)
    live_search = (store.search_text("person knows"), store.search_vector(unit(8, 3), k=5))
    store.close()
    again = open_store("a")
    assert again.recovery.frames_replayed == again.stats()["lsn"]
    assert dump(again) == live
    assert (again.search_text("person knows"), again.search_vector(unit(8, 3), k=5)) == live_search
    # and the same mutations into a fresh directory give the same records (ids and seqs; times aside)
    other = open_store("b")
    build_history(other)
    strip = lambda d: [{k: v for k, v in r.items() if k != "recorded_at"} for r in d["concepts"]]  # noqa: E731
    assert strip(dump(other)) == strip(live)
    assert again.check() == [] and other.check() == []


def test_recovery_from_snapshot_plus_more_wal(open_store):
    store = open_store()
    build_history(store, n=20)
    store.checkpoint()
    assert store.stats()["wal_bytes"] == 16
    more = [entity(f"Late {i}", "late") for i in range(5)]
    store.apply([Put(x) for x in more])
    store.apply([PutAssociation(edge(more[0], "follows", more[1], "late"))])
    live = dump(store)
    lsn = store.stats()["lsn"]
    store.close()
    again = open_store()
    assert again.recovery.snapshot_lsn == lsn - 2 and again.recovery.frames_replayed == 2
    assert dump(again) == live
    assert again.check() == []


def test_crash_between_snapshot_and_wal_truncation_is_harmless(open_store, tmp_path):
    store = open_store()
    build_history(store, n=10)
    shutil.copy(tmp_path / "db" / "wal.log", tmp_path / "wal.before")
    store.checkpoint()  # renames the snapshot, then truncates the WAL
    live = dump(store)
    store.close()
    shutil.copy(tmp_path / "wal.before", tmp_path / "db" / "wal.log")  # as if the truncation never happened
    again = open_store()
    assert again.recovery.frames_replayed == 0
    assert dump(again) == live
    again.apply([Put(entity("After", "x"))])
    assert again.stats()["lsn"] == again.stats()["snapshot_lsn"] + 1
    assert again.check() == []


def test_automatic_checkpoint_when_the_wal_grows(open_store):
    store = open_store(checkpoint_wal_bytes=4096)
    for i in range(40):
        store.apply([Put(statement(f"Fact number {i} is about something.", "d"))])
    stats = store.stats()
    assert stats["snapshot_lsn"] > 0 and stats["wal_bytes"] < 4096
    live = dump(store)
    store.close()
    assert dump(open_store()) == live


def test_dimension_is_fixed_by_the_first_vector(open_store, tmp_path):
    store = open_store()
    store.apply([Put(statement("a", vector=unit(8, 0)))])
    assert json.loads((tmp_path / "db" / "manifest.json").read_text())["dim"] == 8
    with pytest.raises(ConfigError, match="8-dimensional"):
        store.apply([Put(statement("b", vector=unit(16, 0)))])
    assert store.check() == []


def test_newer_formats_are_refused_with_a_clear_error(open_store, tmp_path):
    store = open_store()
    store.apply([Put(entity("A", "d"))])
    store.checkpoint()
    store.close()
    snapshot = tmp_path / "db" / SNAPSHOT_NAME
    data = bytearray(snapshot.read_bytes())
    data[8] = 99  # format version
    snapshot.write_bytes(bytes(data))
    with pytest.raises(ConfigError, match="upgrade Sutra"):
        LocalStore(tmp_path / "db")
    data[8] = 1
    data[-20] ^= 0xFF  # inside the checksummed body/trailer
    snapshot.write_bytes(bytes(data))
    with pytest.raises(CorruptionError, match="snapshot"):
        LocalStore(tmp_path / "db")
    manifest = tmp_path / "db" / "manifest.json"
    manifest.write_text(json.dumps({"format": 7, "dim": None}))
    with pytest.raises(ConfigError, match="upgrade Sutra"):
        LocalStore(tmp_path / "db")
    LocalStore(tmp_path / "other").close()  # a failed open released its lock: nothing else is affected


def test_closed_store_refuses_writes_and_close_is_idempotent(open_store):
    store = open_store()
    store.close()
    store.close()
    with pytest.raises(StorageError, match="closed"):
        store.apply([Put(entity("A"))])


def test_open_store_uses_settings(tmp_path):
    settings = Settings(data_dir=tmp_path / "from-settings", fsync="batch", batch_fsync_ms=5.0)
    with open_store(settings=settings) as store:
        store.apply([Put(entity("A", "d"))])
        assert store.stats()["fsync"] == "batch"
        assert store.check() == []
    with open_store(tmp_path / "explicit", settings) as store:
        assert store.stats()["path"] == str(tmp_path / "explicit")
        assert store.check() == []


@pytest.mark.parametrize("policy", ["batch", "off"])
def test_relaxed_fsync_policies_still_survive_a_clean_close(open_store, policy):
    store = open_store(fsync=policy, batch_fsync_ms=1.0)
    for i in range(20):
        store.apply([Put(entity(f"E{i}", "d"))])
    store.close()
    again = open_store(fsync=policy)
    assert len(again.concepts()) == 20
    assert again.check() == []


def test_hnsw_index_matches_exact_and_is_loaded_on_cold_start(open_store):
    dim, n = 16, 600
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((n, dim)).astype(np.float32)
    items = [statement(f"item {i}", "d", vector=vectors[i]) for i in range(n)]
    hnsw, exact = open_store("h", vector_index="hnsw"), open_store("e", vector_index="exact")
    for store in (hnsw, exact):
        store.apply([Put(x) for x in items])
        store.apply([DeleteConcept(items[i].id) for i in range(0, n, 7)])
    queries = rng.standard_normal((20, dim))
    recall = np.mean(
        [
            len({i for i, _ in hnsw.search_vector(q, 10)} & {i for i, _ in exact.search_vector(q, 10)}) / 10
            for q in queries
        ]
    )
    assert recall >= 0.95
    hnsw.checkpoint()
    before = [hnsw.search_vector(q, 5) for q in queries]
    hnsw.close()
    again = open_store("h", vector_index="hnsw")
    assert again.recovery.vector_index_loaded
    assert [again.search_vector(q, 5) for q in queries] == before
    again.apply([Put(statement("item new", "d", vector=queries[0]))])
    assert again.search_vector(queries[0], 1)[0][0] == statement("item new").id
    assert again.check() == [] and exact.check() == []


def test_auto_index_switches_to_hnsw_past_the_threshold(open_store, monkeypatch):
    monkeypatch.setattr("sutra.store.vectors.auto.DEFAULT_THRESHOLD", 50)
    store = open_store()
    store.apply([Put(statement(f"s{i}", "d", vector=unit(8, i))) for i in range(49)])
    assert store.stats()["vector_index"] == "exact"
    store.apply([Put(statement("s49", "d", vector=unit(8, 49)))])
    assert store.stats()["vector_index"] == "hnsw"
    assert store.search_vector(unit(8, 3), 1)[0][0] == statement("s3").id
    assert store.check() == []
