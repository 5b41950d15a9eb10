"""Concurrent writers share fsyncs (group commit); failures of the disk are reported, never swallowed."""

from __future__ import annotations

import errno
import threading
import time

import pytest
from tests.store.builders import entity

from sutra.errors import StorageError
from sutra.model import PutConcept
from sutra.store import wal

THREADS, PER_THREAD = 8, 40


def test_concurrent_writers_are_all_acknowledged_with_fewer_fsyncs(open_store):
    store = open_store(fsync="always")
    start = threading.Barrier(THREADS)
    acked: list[tuple[int, int]] = []
    errors: list[BaseException] = []

    def writer(t: int) -> None:
        try:
            start.wait()
            for i in range(PER_THREAD):
                store.apply([PutConcept(entity(f"T{t}-{i}", f"thread-{t}"))])
                acked.append((t, i))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    assert len(acked) == THREADS * PER_THREAD
    assert {c.text for c in store.concepts()} == {f"T{t}-{i}" for t, i in acked}
    fsyncs = store.stats()["fsyncs"]
    assert 0 < fsyncs < THREADS * PER_THREAD, fsyncs
    store.close()
    again = open_store()
    assert len(again.concepts()) == THREADS * PER_THREAD
    assert again.check() == []


def test_batch_policy_syncs_in_the_background(open_store):
    store = open_store(fsync="batch", batch_fsync_ms=5.0)
    store.apply([PutConcept(entity("A", "d"))])
    deadline = time.monotonic() + 5
    while store.stats()["fsyncs"] == 0 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert store.stats()["fsyncs"] >= 1
    assert store.check() == []


def test_a_failed_fsync_stops_writes_until_reopened(open_store, monkeypatch):
    store = open_store()
    store.apply([PutConcept(entity("Before", "d"))])

    def broken_fsync(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(wal, "_fsync", broken_fsync)
    with pytest.raises(StorageError, match=r"fsync .* failed"):
        store.apply([PutConcept(entity("During", "d"))])
    with pytest.raises(StorageError, match="reopen"):
        store.apply([PutConcept(entity("After", "d"))])
    monkeypatch.undo()
    store.close()
    again = open_store()
    assert {c.text for c in again.concepts()} <= {"Before", "During"}
    assert again.check() == []


def test_a_failed_write_rolls_the_batch_back(open_store, monkeypatch):
    store = open_store()
    store.apply([PutConcept(entity("Before", "d"))])
    size = store.stats()["wal_bytes"]
    real_write = wal.os.write

    def full_disk(fd: int, data: bytes) -> int:
        real_write(fd, bytes(data)[:7])  # a partial frame reaches the file, then the disk is full
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(wal.os, "write", full_disk)
    with pytest.raises(StorageError, match="free disk space"):
        store.apply([PutConcept(entity("Before", "e")), PutConcept(entity("Lost", "e"))])
    monkeypatch.undo()
    assert [c.sources for c in store.concepts()] == [["d"]]
    assert store.stats()["wal_bytes"] == size
    store.apply([PutConcept(entity("After", "d"))])
    store.close()
    again = open_store()
    assert [c.text for c in again.concepts()] == ["Before", "After"]
    assert again.check() == []
