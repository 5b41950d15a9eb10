"""`Shard`: one shard of a sharded space, a `LocalStore` that is also a two-phase-commit participant.

A shard owns the concepts whose id routes to it (`routing.shard_of`) and the associations whose source it
owns; an association's target may live in another shard. Every frame a shard writes carries, in the WAL
payload's `x` map, the global store order (`s`: the `seq` before each mutation), so `seq` and `history`
compare across shards exactly as in a single store. The sharded store's coordinator (store/sharded.py)
applies a batch to the shards' graphs first, then writes:

    one shard touched      {"s": seqs}, mutations                       applied on replay
    several shards         {"tx": id, "phase": "prepare", "s": seqs}, mutations    held on replay
                           {"tx": id, "phase": "commit"} / {"tx": id, "phase": "abort"}

Replay applies a prepared batch when its COMMIT frame is read and drops it at its ABORT. A PREPARE with
neither at the end of the WAL is in doubt (a crash came between the prepare and the participant's decision
record): `decided(tx)` (the coordinator log) says whether the coordinator made COMMIT durable; if not, the
transaction is presumed aborted. The outcome is written to the WAL at once, so it is resolved only once.
Applying is idempotent: a COMMIT or ABORT for a transaction not prepared here does nothing.

Writes are serialized by the coordinator: nothing else is written to a shard between a PREPARE and its
decision, so applying a prepared batch at its COMMIT (or at the end of replay) gives the state it had live.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sutra.errors import CorruptionError, StorageError
from sutra.model import Mutation, PutConcept
from sutra.store import manifest as manifest_file
from sutra.store import wal
from sutra.store.batch import decode_mutation
from sutra.store.graph import Graph
from sutra.store.keyword import KeywordIndex
from sutra.store.local import LocalStore

PREPARE, COMMIT, ABORT = "prepare", "commit", "abort"


@dataclass(slots=True)
class Prepared:
    tx: str
    mutations: list[Mutation]
    seqs: list[int]


class Shard(LocalStore):
    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        index: int,
        owns: Callable[[str], bool],
        decided: Callable[[str], bool],
        **options: Any,
    ) -> None:
        self.index = index
        self._owns = owns
        self._pending: dict[str, Prepared] = {}
        self.resolved: dict[str, str] = {}  # in-doubt transactions resolved on open: id -> commit/abort
        super().__init__(path, **options)
        try:
            self._resolve(decided)
        except BaseException:
            self.close()
            raise

    # ---- opening ----

    def _initial_manifest(self) -> manifest_file.Manifest:
        manifest = manifest_file.new_manifest()
        manifest.shard = self.index
        return manifest

    def _check_role(self) -> None:
        if self._manifest.shard != self.index:
            raise CorruptionError(
                f"{self.path} should hold shard {self.index}, but its manifest says shard "
                f"{self._manifest.shard}: the shard directories were moved or mixed up. Restore them."
            )

    def _replay_frame(self, frame: wal.Frame) -> None:
        x = frame.extra if frame.extra is not None else {}
        phase, tx = x.get("phase"), x.get("tx")
        if self._pending and tx not in self._pending:
            raise CorruptionError(f"it follows the undecided PREPARE of transaction {min(self._pending)}")
        if phase is None:
            self._apply_sequenced(frame.mutations, _seqs(x, frame.mutations))
        elif not isinstance(tx, str):
            raise CorruptionError("its transaction record has no transaction id")
        elif phase == PREPARE:
            self._pending[tx] = Prepared(tx, frame.mutations, _seqs(x, frame.mutations))
        elif phase == COMMIT:
            prepared = self._pending.pop(tx, None)
            if prepared is not None:
                self._apply_sequenced(prepared.mutations, prepared.seqs)
        elif phase == ABORT:
            self._pending.pop(tx, None)
        else:
            raise CorruptionError(f"its transaction record has the unknown phase {phase!r}")

    def _resolve(self, decided: Callable[[str], bool]) -> None:
        """Settle the transactions a crash left in doubt, writing each outcome to the WAL (durably)."""
        if not self._pending:
            return
        for tx, prepared in list(self._pending.items()):
            commit = decided(tx)
            if commit:
                self._apply_sequenced(prepared.mutations, prepared.seqs)
                self._indexes.flush()
            self.append([], {"tx": tx, "phase": COMMIT if commit else ABORT})
            self.resolved[tx] = COMMIT if commit else ABORT
            del self._pending[tx]
        self.sync()

    def _apply_sequenced(self, mutations: list[Mutation], seqs: list[int]) -> None:
        """Apply one batch, each mutation at its global store order; all of it or none."""
        self._graph.begin()
        try:
            for m, seq in zip(mutations, seqs, strict=True):
                self._apply_one(m, seq)
        except BaseException:
            self._rollback()
            raise
        self._graph.commit()

    def _apply_one(self, m: Mutation, seq: int) -> None:
        if isinstance(m, PutConcept) and m.concept.vector is not None:
            self._ensure_dim(m.concept.vector.size)
            self._compact_vectors([m])  # held in the space's dtype, live and on replay, as a LocalStore does
        self._graph.seq = seq
        self._graph.apply(m)

    def apply(self, batch: Sequence[Mutation]) -> None:
        raise StorageError(
            f"{self.path} is shard {self.index} of a sharded space; write through the space's own store "
            "(sutra.store.open_store on its parent directory)"
        )

    # ---- the coordinator's side (called under the sharded store's lock) ----

    @property
    def graph(self) -> Graph:
        """The live graph, for the coordinator's cross-shard reads. Never change it directly."""
        return self._graph

    def begin(self) -> None:
        self._check_writable()
        self._graph.begin()

    def apply_dict(self, mutation: dict[str, Any], seq: int) -> None:
        """Apply one encoded mutation inside the batch `begin` opened (decoded anew: the graph owns it)."""
        self._apply_one(decode_mutation(mutation), seq)

    def finish(self, *, keep: bool) -> None:
        """End the batch `begin` opened: keep it, or roll it back; then bring the vector index up to date."""
        try:
            if keep:
                self._graph.commit()
            else:
                self._rollback()
        finally:
            self._indexes.flush()

    def append(self, mutations: list[dict[str, Any]], extra: dict[str, Any]) -> int:
        """Append one frame (not yet durable); return its LSN."""
        with self._rw:
            self._check_writable()
            lsn = self._wal.next_lsn
            self._wal.append(lsn, wal.encode_payload(lsn, mutations, extra))
            return lsn

    def wait_durable(self, lsn: int) -> None:
        """Return once frame `lsn` is durable as the fsync policy defines it."""
        self._wal.wait_durable(lsn)

    def sync(self) -> None:
        """Make every frame written so far durable, whatever the policy."""
        self._wal.sync()

    def fail(self, reason: str) -> None:
        """Stop accepting writes until reopened: a transaction's outcome is missing from this WAL, and
        nothing may follow its PREPARE there before recovery settles it."""
        self._failure = reason

    @property
    def keywords(self) -> KeywordIndex:
        return self._indexes.keywords

    def maybe_checkpoint(self) -> None:
        if self._wal.size >= self._checkpoint_due:
            self._auto_checkpoint()

    @property
    def in_doubt(self) -> list[str]:
        return list(self._pending)


def _seqs(x: dict[str, Any], mutations: list[Mutation]) -> list[int]:
    seqs = x.get("s")
    if not isinstance(seqs, list) or len(seqs) != len(mutations) or not all(isinstance(s, int) for s in seqs):
        raise CorruptionError("its store-order list does not match its mutations")
    return seqs
