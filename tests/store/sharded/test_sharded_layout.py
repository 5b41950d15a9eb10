"""The sharded space on disk, routing, bad input, and two-phase commit when a step fails.

Failures are injected by replacing one participant's or the coordinator's method on a real store (the only
fakes here); everything else is the real engine in temporary directories.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from tests.store.builders import edge, entity, statement, unit

from sutra.config import Settings
from sutra.errors import ConfigError, CorruptionError, InputError, NotFoundError, StorageError
from sutra.model import PutAssociation, PutConcept
from sutra.store import LocalStore, ShardedStore, open_store, sharded, wal
from sutra.store.codec import concept_to_dict
from sutra.store.shardplan import shard_of

REPO = Path(__file__).resolve().parents[3]


def spread(store: ShardedStore, count: int = 2) -> list:
    """Entities that live in `count` different shards."""
    found: dict[int, object] = {}
    i = 0
    while len(found) < count:
        e = entity(f"Person {i}", "s1")
        found.setdefault(shard_of(e.id, 4), e)
        i += 1
    return list(found.values())


def test_routing_is_stable_across_processes_and_spreads_ids() -> None:
    ids = [f"e:{i:016x}" for i in range(1000)]
    here = [shard_of(i, 4) for i in ids]
    code = (
        "from sutra.store.shardplan import shard_of as s; print([s(f'e:{i:016x}', 4) for i in range(1000)])"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}  # Python's own hash() would change with this
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert json.loads(out.stdout) == here
    counts = Counter(here)
    assert sorted(counts) == [0, 1, 2, 3] and min(counts.values()) > 200


def test_the_manifest_fixes_the_shard_count(tmp_path: Path) -> None:
    directory = tmp_path / "space"
    with open_store(directory, Settings(fsync="off", shards=4)) as store:
        assert isinstance(store, ShardedStore)
        store.apply([PutConcept(e) for e in spread(store, 3)])
    assert json.loads((directory / "manifest.json").read_text())["shards"] == 4
    shard_manifests = [json.loads((directory / f"shard-{i:03d}/manifest.json").read_text()) for i in range(4)]
    assert [m["shard"] for m in shard_manifests] == [0, 1, 2, 3]
    for shards in (1, 8):  # the count is the manifest's, whatever the settings say now
        with open_store(directory, Settings(fsync="off", shards=shards)) as store:
            assert isinstance(store, ShardedStore) and store.stats()["shards"] == 4
            assert store.stats()["concepts"] == 3 and store.check() == []
    with open_store(tmp_path / "single", Settings(fsync="off")) as store:
        assert isinstance(store, LocalStore)  # one shard stays the default, unchanged


def test_a_plain_store_refuses_a_sharded_space_and_its_shards(tmp_path: Path) -> None:
    directory = tmp_path / "space"
    ShardedStore(directory, shards=4, fsync="off").close()
    before = sorted(p.name for p in directory.rglob("*"))
    for path in (directory, directory / "shard-002"):
        with pytest.raises(ConfigError, match="sharded space"):
            LocalStore(path)
    assert sorted(p.name for p in directory.rglob("*")) == before
    with pytest.raises(ConfigError, match="not a sharded space"):
        LocalStore(tmp_path / "single").close()
        ShardedStore(tmp_path / "single")


def test_missing_or_swapped_shards_are_reported(tmp_path: Path) -> None:
    directory = tmp_path / "space"
    with ShardedStore(directory, shards=4, fsync="off") as store:
        store.apply([PutConcept(e) for e in spread(store, 4)])
    os.rename(directory / "shard-000", tmp_path / "aside")
    with pytest.raises(CorruptionError, match="shard-000 is missing"):
        ShardedStore(directory)
    os.rename(directory / "shard-001", directory / "shard-000")
    os.rename(tmp_path / "aside", directory / "shard-001")
    with pytest.raises(CorruptionError, match="should hold shard 0"):
        ShardedStore(directory)
    shutil.rmtree(directory / "shard-000")
    shutil.rmtree(directory / "shard-001")
    with pytest.raises(CorruptionError, match="are missing"):
        ShardedStore(directory)


def test_bad_batches_change_nothing_in_any_shard(tmp_path: Path) -> None:
    with ShardedStore(tmp_path / "space", shards=4, fsync="off") as store:
        a, b = spread(store)
        store.apply([PutConcept(a)])
        version = store.version()
        with pytest.raises(InputError):
            store.apply([PutConcept(b), "not a mutation"])  # type: ignore[list-item]
        with pytest.raises(NotFoundError, match="does not exist"):  # b is in another shard, and missing
            store.apply([PutConcept(entity("Other", "s1")), PutAssociation(edge(a, "knows", b, "s1"))])
        store.apply([PutConcept(b), PutAssociation(edge(a, "knows", b, "s1"))])
        with pytest.raises(NotFoundError):
            store.apply([PutAssociation(edge(b, "likes", entity("Ghost"), "s1"))])
        assert store.get_concept(entity("Other").id) is None and store.get_concept(b.id) is not None
        assert store.version() > version
        s1 = statement("One.", "s1", vector=unit(8, 1))
        store.apply([PutConcept(s1)])
        others = (statement(f"Two {i}.", "s1", vector=unit(16, i)) for i in range(50))
        other = next(s for s in others if shard_of(s.id, 4) != shard_of(s1.id, 4))
        with pytest.raises(ConfigError, match="8-dimensional"):
            store.apply([PutConcept(other)])
        assert store.check() == []


def test_version_moves_with_every_shard(tmp_path: Path) -> None:
    with ShardedStore(tmp_path / "space", shards=4, fsync="off") as store:
        seen = {store.version()}
        for e in spread(store, 4):
            store.apply([PutConcept(e)])
            seen.add(store.version())
        assert len(seen) == 5


def test_a_failed_prepare_aborts_everywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    directory = tmp_path / "space"
    with ShardedStore(directory, shards=4, fsync="off") as store:
        a, b = spread(store)
        store.apply([PutConcept(a)])
        before = store.concepts()
        second = store._shards[max(shard_of(a.id, 4), shard_of(b.id, 4))]
        real = second.append

        def failing(mutations, extra):
            if extra.get("phase") == "prepare":
                raise StorageError("disk full (injected)")
            return real(mutations, extra)

        monkeypatch.setattr(second, "append", failing)
        with pytest.raises(StorageError, match="injected"):
            store.apply([PutConcept(b), PutAssociation(edge(a, "knows", b, "s1"))])
        assert store.concepts() == before and store.neighbors(a.id) == [] and store.check() == []
        monkeypatch.undo()
        store.apply([PutConcept(b)])  # the store goes on
    with ShardedStore(directory) as store:
        assert not store.resolved  # the prepared participant logged ABORT: nothing was in doubt
        assert [c.id for c in store.concepts()] == [a.id, b.id] and store.check() == []


def test_a_failed_decision_aborts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with ShardedStore(tmp_path / "space", shards=4, fsync="off") as store:
        a, b = spread(store)

        def failing(tx: str) -> None:
            raise StorageError("no decision (injected)")

        monkeypatch.setattr(store._coordinator, "commit", failing)
        with pytest.raises(StorageError, match="injected"):
            store.apply([PutConcept(a), PutConcept(b)])
        assert store.concepts() == [] and store.check() == []


def test_a_lost_commit_record_is_completed_on_reopen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    directory = tmp_path / "space"
    with ShardedStore(directory, shards=4, fsync="off") as store:
        a, b = spread(store)
        late = store._shards[shard_of(b.id, 4)]
        real = late.append

        def failing(mutations, extra):
            if extra.get("phase") == "commit":
                raise StorageError("cannot write (injected)")
            return real(mutations, extra)

        monkeypatch.setattr(late, "append", failing)
        store.apply([PutConcept(a), PutConcept(b)])  # decided: acknowledged although one record is missing
        monkeypatch.undo()
        assert store.get_concept(b.id) is not None
        with pytest.raises(StorageError, match="stopped accepting writes"):
            store.apply([PutConcept(b)])
    with ShardedStore(directory) as store:
        assert list(store.resolved.values()) == ["commit"]
        assert store.get_concept(a.id) is not None and store.get_concept(b.id) is not None
        assert store.check() == []


def test_outcome_records_are_idempotent(tmp_path: Path) -> None:
    directory = tmp_path / "space"
    with ShardedStore(directory, shards=4, fsync="off") as store:
        a, b = spread(store)
        store.apply([PutConcept(a), PutConcept(b), PutAssociation(edge(a, "knows", b, "s1"))])
        before = (store.concepts(), store.neighbors(b.id, "in"))
        frames = [f for s in store._shards for f in wal_frames(s.path)]
        tx = next(f.extra["tx"] for f in frames if f.extra and f.extra.get("phase") == "prepare")
        for shard in store._shards:  # a COMMIT delivered twice, an ABORT of something never prepared
            shard.append([], {"tx": tx, "phase": "commit"})
            shard.append([], {"tx": "f" * 32, "phase": "abort"})
        with pytest.raises(StorageError, match="write through"):
            store._shards[0].apply([PutConcept(entity("Direct"))])
    with ShardedStore(directory) as store:
        assert (store.concepts(), store.neighbors(b.id, "in")) == before
        assert not store.resolved and store.check() == []


def test_a_manifest_that_lost_the_vector_size_gets_it_back(tmp_path: Path) -> None:
    directory = tmp_path / "space"
    with ShardedStore(directory, shards=4, fsync="off") as store:
        store.apply([PutConcept(statement("One.", "s1", vector=unit(8, 1)))])
    manifest = json.loads((directory / "manifest.json").read_text())
    (directory / "manifest.json").write_text(json.dumps({**manifest, "dim": None}))
    with ShardedStore(directory) as store:
        assert store.stats()["dim"] == 8 and store.search_vector(unit(8, 1), k=1)[0][1] > 0.99


def wal_frames(directory: Path) -> list:
    return wal.scan((directory / "wal.log").read_bytes()).frames


def test_a_failed_creation_leaves_the_folder_empty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = sharded.Shard

    def shard(path: Path, *, index: int, **options: object) -> object:
        if index == 2:
            raise StorageError("cannot create (injected)")
        return real(path, index=index, **options)

    monkeypatch.setattr(sharded, "Shard", shard)
    (tmp_path / "space").mkdir()
    with pytest.raises(StorageError, match="injected"):
        ShardedStore(tmp_path / "space", shards=4)
    assert list((tmp_path / "space").iterdir()) == []
    monkeypatch.undo()
    with ShardedStore(tmp_path / "space", shards=4, fsync="off") as store:  # and it can be created later
        assert store.check() == []


def test_check_reports_what_no_single_shard_can_see(tmp_path: Path) -> None:
    with ShardedStore(tmp_path / "space", shards=4, fsync="off") as store:
        a, b = spread(store)
        store.apply([PutConcept(a), PutConcept(b), PutAssociation(edge(a, "knows", b, "s1"))])
        assert store.check() == []
        stray = entity("Stray", "s1", recorded_at=1.0)
        wrong = store._shards[(shard_of(stray.id, 4) + 1) % 4]
        wrong.begin()  # bypass routing: the record lands in a shard that does not own it
        wrong.apply_dict({"op": "put_concept", "concept": concept_to_dict(stray, with_seq=False)}, seq=1)
        wrong.finish(keep=True)
        problems = store.check()
        assert any(f"concept {stray.id} is stored in shard {wrong.index}" in p for p in problems)
        assert any("share seq 2" in p for p in problems)  # b already has store order 2
