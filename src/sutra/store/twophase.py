"""Two-phase commit across shards: the coordinator log, the protocol, and what recovery relies on.

The coordinator log is the sharded space's own `wal.log` (same frames, checksums and torn-tail rules as a
shard's WAL, see wal.py); its frames hold no mutations, only decisions: `{"commit": tx}`. The protocol for a
batch that touches several shards, after the batch was applied to their graphs (store/shardplan.py):

1. PREPARE: each participant appends its part as a PREPARE frame; all are made durable.
2. Decision: the coordinator appends COMMIT to its log and makes it durable. This is the commit point.
3. Each participant appends a COMMIT frame (made durable lazily: the decision already is).
4. The batch is acknowledged.

A failure before the decision is durable aborts: the graphs roll back and the prepared participants append
ABORT. A crash anywhere is settled when the space is next opened (store/shard.py): a participant's PREPARE
without an outcome commits if the coordinator log holds its COMMIT, and is otherwise presumed aborted (no
ABORT decision is ever needed in the log). Decisions are dropped from the log (`truncate`) only after every
shard's WAL is durable, when no participant can still be in doubt about them.

`set_crash_hook` lets the crash tests kill the process at a named step (`STEPS`); it is never set otherwise.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sutra.errors import StorageError
from sutra.store import wal
from sutra.store.shard import ABORT, COMMIT, PREPARE, Shard
from sutra.store.shardplan import Part

STEPS = (
    "prepare-written",  # the first participant's PREPARE frame is written (not yet durable)
    "prepared",  # every PREPARE is durable; no decision yet
    "decided",  # the coordinator's COMMIT is durable
    "commit-written",  # the first participant's COMMIT frame is written
    "committed",  # every participant's COMMIT is written; about to acknowledge
)

_crash_hook: Callable[[str], None] | None = None


def set_crash_hook(hook: Callable[[str], None] | None) -> None:
    """Call `hook(step)` at each step of the protocol (for crash tests: a hook that kills the process)."""
    global _crash_hook
    _crash_hook = hook


def _step(name: str) -> None:
    if _crash_hook is not None:
        _crash_hook(name)


class CoordinatorLog:
    """The durable record of commit decisions (the sharded space's `wal.log`)."""

    def __init__(self, path: Path, *, repair: bool, policy: str, batch_fsync_ms: float) -> None:
        recovered = wal.recover(path, repair=repair)
        self.committed: set[str] = set()
        for frame in recovered.frames:
            tx = (frame.extra or {}).get(COMMIT)
            if isinstance(tx, str):
                self.committed.add(tx)
        last = recovered.frames[-1].lsn if recovered.frames else 0
        self.torn_bytes = recovered.torn_bytes
        self.failed = False
        self._wal = wal.WalWriter(path, next_lsn=last + 1, policy=policy, batch_fsync_ms=batch_fsync_ms)

    @property
    def size(self) -> int:
        return self._wal.size

    @property
    def fsyncs(self) -> int:
        return self._wal.fsyncs

    def decided(self, tx: str) -> bool:
        return tx in self.committed

    def commit(self, tx: str) -> None:
        """Make the COMMIT decision for `tx` durable (under the fsync policy)."""
        lsn = self._wal.next_lsn
        try:
            self._wal.append(lsn, wal.encode_payload(lsn, [], {COMMIT: tx}))
            self._wal.wait_durable(lsn)
        except StorageError:
            # After a failed fsync the decision may or may not be on disk; no further decision can be
            # trusted to this log until it is reopened (the store stops accepting writes).
            self.failed = True
            raise
        self.committed.add(tx)

    def truncate(self, shards: Iterable[Shard]) -> None:
        """Drop every decision, once every participant's outcome records are durable."""
        for shard in shards:
            shard.sync()
        self._wal.truncate()
        self.committed.clear()

    def close(self) -> None:
        self._wal.close()


def commit_across(
    shards: list[Shard], parts: dict[int, Part], coordinator: CoordinatorLog, pool: ThreadPoolExecutor | None
) -> None:
    """Run the protocol for a batch already applied to the participants' graphs (see the module doc).

    `pool`, if given, runs the participants' fsyncs side by side. Returns once the batch is committed;
    raises (after the prepared participants logged ABORT) if it was not. A failure after the decision is
    durable does not undo the commit: recovery completes it.
    """
    tx = uuid.uuid4().hex
    participants = sorted(parts)
    prepared: list[int] = []
    try:
        lsns = {}
        for i in participants:
            part = parts[i]
            extra = {"tx": tx, "phase": PREPARE, "s": part.seqs, "p": participants}
            lsns[i] = shards[i].append(part.mutations, extra)
            prepared.append(i)
            if len(prepared) == 1:
                _step("prepare-written")
        if pool is None:
            for i in participants:
                shards[i].wait_durable(lsns[i])
        else:  # the participants' fsyncs overlap (they release the GIL); all finish before the decision
            for done in [pool.submit(shards[i].wait_durable, lsns[i]) for i in participants]:
                done.result()
        _step("prepared")
        coordinator.commit(tx)
    except BaseException:
        _abort(shards, prepared, tx)
        raise
    _step("decided")
    for n, i in enumerate(participants):
        try:
            shards[i].append([], {"tx": tx, "phase": COMMIT})
        except StorageError as exc:  # the decision stands; reopening completes this participant
            shards[i].fail(f"it could not log the COMMIT of transaction {tx} ({exc})")
        if n == 0:
            _step("commit-written")
    _step("committed")


def _abort(shards: list[Shard], prepared: list[int], tx: str) -> None:
    for i in prepared:
        try:
            shards[i].append([], {"tx": tx, "phase": ABORT})
        except StorageError as exc:  # without the record, recovery presumes the abort anyway
            shards[i].fail(f"it could not log the ABORT of transaction {tx} ({exc})")
