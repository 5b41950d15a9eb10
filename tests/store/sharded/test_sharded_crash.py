"""Cross-shard atomicity under SIGKILL: at every step of two-phase commit, and at random moments.

A child process (crash_child.py) writes batches that span shards, with fsync="always", and prints each
batch's number once `apply` returned. It is killed either by itself at a named protocol step (the NTH time
it gets there) or by the parent at a random moment, round after round in the same directory, so every round
starts by recovering from the previous kill (settling in-doubt transactions) and checkpoints and
coordinator-log trims happen along the way. Afterwards: every acknowledged batch is there, whole; the batch
in flight is there whole or not at all, and exactly as the protocol says (committed once the decision was
durable, presumed aborted before); "forget" batches, which also forget their predecessor, show that a
batch's deletions and insertions across shards land together; and `check()` is clean on every shard.
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
from tests.store.sharded.crash_child import batch, source

from sutra.model import PutAssociation, PutConcept
from sutra.store import ShardedStore, twophase

CHILD = Path(__file__).with_name("crash_child.py")
REPO = Path(__file__).resolve().parents[3]
COMMITTED_STEPS = ("decided", "commit-written", "committed")  # the decision is durable: it must commit


def run_child(
    directory: Path, round_no: int, mode: str, *, step: str = "", nth: int = 0, delay: float = 0
) -> tuple[list[int], list[str]]:
    """Run one round; return the acknowledged batch numbers and how opening settled in-doubt ones."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    args = [sys.executable, str(CHILD), str(directory), str(round_no), mode]
    args += [step, str(nth)] if step else []
    child = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        if not step:
            first = child.stdout.readline()  # it recovered and acknowledged a batch: now kill it mid-write
            assert first.endswith("\n"), child.stderr.read()
            time.sleep(delay)
            child.send_signal(signal.SIGKILL)
            out = first + child.stdout.read()
            err = child.stderr.read()
        else:
            out, err = child.communicate(timeout=60)
            assert child.returncode == -signal.SIGKILL, err
    finally:
        child.kill()
        child.wait()
        child.stdout.close()
        child.stderr.close()
    lines = out.split("\n")
    acked = [int(x) for x in lines[:-1]]  # the last element is "" or a line cut short by the kill
    assert acked == list(range(len(acked)))
    settled = [line.split()[1:] for line in err.split("\n") if line.startswith("settled")]
    assert len(settled) == 1, err
    return acked, settled[0]


def presence(store: ShardedStore, round_no: int, i: int) -> list[bool]:
    """For each record batch i puts: is it there, citing the batch's source?"""
    src = source(round_no, i)
    found = []
    for m in batch(round_no, i, "grow"):
        if isinstance(m, PutConcept):
            stored = store.get_concept(m.concept.id)
        else:
            assert isinstance(m, PutAssociation)
            stored = store.get_association(m.association.id)
        found.append(stored is not None and src in stored.sources)
    return found


def state(store: ShardedStore, round_no: int, i: int) -> str:
    found = presence(store, round_no, i)
    return "present" if all(found) else "absent" if not any(found) else f"HALF-APPLIED {found}"


def verify_round(store: ShardedStore, round_no: int, mode: str, acked: list[int], step: str) -> None:
    n = len(acked)
    in_flight = state(store, round_no, n)
    assert in_flight in ("present", "absent"), f"round {round_no} batch {n}: {in_flight}"
    if step:  # the kill came at a known step of batch n's commit
        assert in_flight == ("present" if step in COMMITTED_STEPS else "absent"), (round_no, step)
    assert state(store, round_no, n + 1) == "absent"
    if mode == "grow":
        for i in acked:
            assert state(store, round_no, i) == "present", f"acknowledged batch {round_no}/{i} is missing"
        return
    for i in range(max(n - 1, 0)):  # each forgotten by the batch after it
        assert state(store, round_no, i) == "absent", f"forgotten batch {round_no}/{i} is still there"
    if n:  # the last acknowledged batch is gone exactly when the batch in flight (forgetting it) committed
        expected = "absent" if in_flight == "present" else "present"
        assert state(store, round_no, n - 1) == expected, f"round {round_no}: batches {n - 1}, {n} disagree"


def finish(directory: Path, rounds: list[tuple[int, str, list[int], str]]) -> None:
    with ShardedStore(directory) as store:
        for round_no, mode, acked, step in rounds:
            verify_round(store, round_no, mode, acked, step)
        assert store.check() == []
        assert store.stats()["lsn"] > 0


@pytest.mark.slow
def test_a_kill_at_every_protocol_step(tmp_path: Path) -> None:
    directory = tmp_path / "space"
    rounds: list[tuple[int, str, list[int], str]] = []
    settled_after: dict[str, list[list[str]]] = {step: [] for step in twophase.STEPS}
    for mode in ("grow", "forget"):
        for step in twophase.STEPS:
            for nth in (1, 2, 4):
                round_no = len(rounds)
                acked, settled = run_child(directory, round_no, mode, step=step, nth=nth)
                if rounds:
                    settled_after[rounds[-1][3]].append(settled)
                assert len(acked) == nth - 1  # every batch spans shards: the NTH commit is batch NTH-1
                rounds.append((round_no, mode, acked, step))
    assert len(rounds) == 30
    finish(directory, rounds)
    # What the next open found in doubt, by the step the kill came at: only the first participant's
    # PREPARE ("prepare-written"), every participant's, or all but the first ("commit-written"); after
    # "committed" every outcome is already in the WALs.
    for step, outcomes in settled_after.items():
        assert outcomes, step
        expected = {"commit"} if step in COMMITTED_STEPS else {"abort"}
        for found in outcomes:
            if step == "committed":
                assert found == [], found
            else:
                assert found and set(found) == expected, (step, found)
        if step == "prepare-written":
            assert all(len(found) == 1 for found in outcomes)


@pytest.mark.slow
def test_kills_at_random_moments(tmp_path: Path) -> None:
    rng = random.Random(20261203)
    directory = tmp_path / "space"
    rounds = []
    for round_no in range(70):
        mode = "forget" if round_no % 2 else "grow"
        acked, _ = run_child(directory, round_no, mode, delay=rng.uniform(0.0, 0.08))
        rounds.append((round_no, mode, acked, ""))
    finish(directory, rounds)
    with ShardedStore(directory) as store:  # checkpoints and trims happened between the kills
        assert any(s["snapshot_lsn"] > 0 for s in store.stats()["recovery"]["shards"])
