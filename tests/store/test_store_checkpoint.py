"""A failing checkpoint never loses data and never fails a write that is already durable (C5)."""

from __future__ import annotations

import errno
import gc
import logging
import weakref

import pytest
from tests.store.builders import entity, statement

from sutra.errors import StorageError
from sutra.model import PutConcept
from sutra.store import LocalStore, local


class FullDisk:
    """Fault injection: the snapshot writer fails as on a full disk, and counts the attempts."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, path, **kwargs) -> int:
        self.calls += 1
        raise OSError(errno.ENOSPC, "No space left on device", str(path))


def put(store, i: int) -> None:
    store.apply([PutConcept(statement(f"Fact number {i} is about something.", "d"))])


def test_a_failed_automatic_checkpoint_does_not_fail_the_durable_apply(open_store, monkeypatch, caplog):
    store = open_store(checkpoint_wal_bytes=4096)
    full = FullDisk()
    monkeypatch.setattr(local, "write_graph_snapshot", full)
    with caplog.at_level(logging.WARNING, logger="sutra.store"):
        for i in range(60):
            put(store, i)  # none of these may raise: each was durable before the checkpoint was tried
    assert "automatic checkpoint failed" in caplog.text and "No space left" in caplog.text
    stats = store.stats()
    assert stats["snapshot_lsn"] == 0 and stats["wal_bytes"] > 4096  # the WAL is kept
    assert 1 < full.calls < 60 - 20  # retried later, not after every single batch
    monkeypatch.undo()
    for i in range(60, 70):
        put(store, i)  # the disk has room again: the next retry succeeds
    stats = store.stats()
    assert stats["snapshot_lsn"] > 0 and stats["wal_bytes"] < 4096
    store.close()
    again = open_store()
    assert len(again.concepts()) == 70
    assert again.check() == []


def test_an_explicit_checkpoint_reports_the_failure_and_keeps_everything(open_store, monkeypatch):
    store = open_store()
    for i in range(5):
        put(store, i)
    monkeypatch.setattr(local, "write_graph_snapshot", FullDisk())
    with pytest.raises(StorageError, match=r"checkpoint .* failed .*nothing is lost"):
        store.checkpoint()
    put(store, 5)  # the store still accepts writes
    monkeypatch.undo()
    store.checkpoint()
    store.close()
    again = open_store()
    assert len(again.concepts()) == 6 and again.recovery.snapshot_lsn == 6
    assert again.check() == []


def test_a_large_store_s_records_are_frozen_out_of_the_collector_and_still_freed(tmp_path, monkeypatch):
    with LocalStore(tmp_path / "db") as store:
        store.apply([PutConcept(entity(f"E{i}", "d")) for i in range(50)])
        store.checkpoint()
    gc.unfreeze()
    with LocalStore(tmp_path / "db") as small:  # below the threshold: nothing is frozen
        assert gc.get_freeze_count() == 0 and small.stats()["concepts"] == 50
    monkeypatch.setattr(local, "FREEZE_SNAPSHOT_BYTES", 1)
    try:
        store = LocalStore(tmp_path / "db")
        assert gc.get_freeze_count() > 0
        graph = weakref.ref(store._graph)
        store.close()
        del store
        assert graph() is None  # reference counting still frees the frozen records
    finally:
        gc.unfreeze()
