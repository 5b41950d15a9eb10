"""Durability under SIGKILL: every acknowledged batch survives, whole; no batch is ever half-applied.

A child process writes numbered batches with fsync="always" and prints each id once `apply` returned; the
parent kills it with SIGKILL at a random moment, again and again in the same directory (so every round
starts by recovering from the previous kill, with checkpoints happening along the way), then checks that
every acknowledged batch is fully present and that every batch present at all is complete.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.store.crash_writer import batch

from sutra.store import LocalStore

WRITER = Path(__file__).with_name("crash_writer.py")
REPO = Path(__file__).resolve().parents[2]
KILLS = 22


def run_and_kill(directory: Path, round_no: int, rng: random.Random) -> list[int]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    child = subprocess.Popen(
        [sys.executable, str(WRITER), str(directory), str(round_no), str(24 * 1024)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        first = child.stdout.readline()  # wait until it is writing (it recovered and acknowledged one batch)
        assert first.endswith("\n"), child.stderr.read()
        time.sleep(rng.uniform(0.0, 0.25))
        child.send_signal(signal.SIGKILL)
        rest = child.stdout.read()
    finally:
        child.kill()
        child.wait()
        child.stdout.close()
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL
    lines = (first + rest).split("\n")
    return [int(x) for x in lines[:-1]]  # the last element is "" or a line cut short by the kill


def presence(store: LocalStore, round_no: int, i: int) -> list[bool]:
    """For each record of batch i: is it there (with this batch's source)?"""
    found = []
    for m in batch(round_no, i):
        record = getattr(m, "concept", None) or m.association
        getter = store.get_concept if hasattr(m, "concept") else store.get_association
        stored = getter(record.id)
        found.append(stored is not None and record.sources[0] in stored.sources)
    return found


@pytest.mark.slow
def test_acknowledged_batches_survive_sigkill(tmp_path):
    rng = random.Random(20240607)
    directory = tmp_path / "db"
    acked: dict[int, list[int]] = {}
    for round_no in range(KILLS):
        acked[round_no] = run_and_kill(directory, round_no, rng)
        assert acked[round_no] == list(range(len(acked[round_no])))

    with LocalStore(directory) as store:
        assert store.stats()["snapshot_lsn"] > 0  # checkpoints happened between kills
        for round_no, ids in acked.items():
            for i in ids:
                assert all(presence(store, round_no, i)), (
                    f"acknowledged batch {round_no}/{i} is not all there"
                )
            # at most one unacknowledged batch was in flight: it is there completely or not at all
            in_flight = presence(store, round_no, len(ids))
            assert all(in_flight) or not any(in_flight), f"batch {round_no}/{len(ids)} is half-applied"
            assert not any(presence(store, round_no, len(ids) + 1))
        assert store.check() == []
