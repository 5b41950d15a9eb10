"""A sharded store behaves exactly like a single store: same records, same store order, same answers.

Random batches of every mutation kind go to a LocalStore and a 4-shard ShardedStore side by side; batches
that fail must fail in both with the same error and change nothing. After every batch, after reopening
(WAL replay) and after a checkpoint, everything a reader can observe is compared, and `check()` is clean.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tests.store.builders import unit
from tests.store.sharded.workload import Workload, view

from sutra.errors import SutraError
from sutra.model import Concept
from sutra.store import LocalStore, ShardedStore
from sutra.store.base import Store


def apply_both(single: Store, sharded: Store, batch: list) -> str:
    outcomes = []
    for store in (single, sharded):
        before = store.version()
        try:
            store.apply(batch)
            outcomes.append("ok")
        except SutraError as exc:
            outcomes.append(type(exc).__name__)
            assert store.version() == before or isinstance(store, ShardedStore)  # a 2PC abort logs ABORT
    assert outcomes[0] == outcomes[1], (outcomes, batch)
    return outcomes[0]


def assert_same(single: Store, sharded: Store, known: list[Concept]) -> None:
    assert view(sharded, known) == view(single, known)
    for seed in range(3):
        query = unit(8, seed)
        expected, got = single.search_vector(query, k=4), sharded.search_vector(query, k=4)
        assert [cid for cid, _ in got] == [cid for cid, _ in expected]
        np.testing.assert_allclose([s for _, s in got], [s for _, s in expected], rtol=1e-5)
    assert single.check() == [] and sharded.check() == []


@pytest.mark.parametrize("seed", range(4))
def test_same_state_and_answers_as_a_single_store(tmp_path: Path, seed: int) -> None:
    w = Workload(seed)
    single = LocalStore(tmp_path / "single", fsync="off")
    sharded = ShardedStore(tmp_path / "sharded", shards=4, fsync="off")
    outcomes = []
    try:
        for _ in range(60):
            outcomes.append(apply_both(single, sharded, w.batch()))
            assert_same(single, sharded, w.seen)
        single.close()
        sharded.close()
        single, sharded = LocalStore(tmp_path / "single"), ShardedStore(tmp_path / "sharded")
        assert_same(single, sharded, w.seen)  # replayed from the WALs
        single.checkpoint()
        sharded.checkpoint()
        for _ in range(20):
            outcomes.append(apply_both(single, sharded, w.batch()))
        single.close()
        sharded.close()
        single, sharded = LocalStore(tmp_path / "single"), ShardedStore(tmp_path / "sharded")
        assert_same(single, sharded, w.seen)  # snapshot + WAL
    finally:
        single.close()
        sharded.close()
    assert outcomes.count("ok") >= 20 and len(set(outcomes)) > 1  # many batches applied, some failed
