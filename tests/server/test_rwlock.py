"""The space lock: reads share it, a write has it alone, and a waiting write is not starved by reads."""

from __future__ import annotations

import threading
import time

from sutra.server.rwlock import ReadWriteLock


def test_readers_hold_the_lock_together() -> None:
    lock = ReadWriteLock()
    inside = threading.Barrier(3, timeout=10)  # passes only if all three readers are inside at once

    def read() -> None:
        with lock.reading():
            inside.wait()

    threads = [threading.Thread(target=read) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert not inside.broken


def test_a_writer_waits_for_readers_and_excludes_everyone() -> None:
    lock = ReadWriteLock()
    events: list[str] = []
    reader_in = threading.Event()
    release_reader = threading.Event()

    def read() -> None:
        with lock.reading():
            events.append("read start")
            reader_in.set()
            release_reader.wait(10)
            events.append("read end")

    def write() -> None:
        with lock.writing():
            events.append("write")

    r = threading.Thread(target=read)
    r.start()
    reader_in.wait(10)
    w = threading.Thread(target=write)
    w.start()
    time.sleep(0.1)  # the writer is now waiting
    assert events == ["read start"]
    release_reader.set()
    r.join(10)
    w.join(10)
    assert events == ["read start", "read end", "write"]


def test_a_waiting_writer_goes_before_readers_that_come_after_it() -> None:
    lock = ReadWriteLock()
    order: list[str] = []
    first_in = threading.Event()
    release_first = threading.Event()

    def first_reader() -> None:
        with lock.reading():
            first_in.set()
            release_first.wait(10)

    def writer() -> None:
        with lock.writing():
            order.append("write")

    def late_reader() -> None:
        with lock.reading():
            order.append("late read")

    threads = [threading.Thread(target=first_reader)]
    threads[0].start()
    first_in.wait(10)
    threads.append(threading.Thread(target=writer))
    threads[1].start()
    time.sleep(0.1)
    threads.append(threading.Thread(target=late_reader))
    threads[2].start()
    time.sleep(0.1)
    assert order == []  # the late reader queues behind the writer instead of joining the first reader
    release_first.set()
    for t in threads:
        t.join(10)
    assert order == ["write", "late read"]


def test_a_writer_that_raises_releases_the_lock() -> None:
    lock = ReadWriteLock()
    try:
        with lock.writing():
            raise RuntimeError("learning failed")
    except RuntimeError:
        pass
    with lock.reading():  # would wait for ever if the failed write still held it
        pass
