"""`ShardedStore`: one space split over N shards, each a `Shard` (a LocalStore) in its own subdirectory.

Directory layout::

    LOCK, manifest.json   as in any space; the manifest records `"shards": N`, fixed at creation
    wal.log               the coordinator log: commit decisions of cross-shard batches (twophase.py)
    shard-000/ ...        one LocalStore directory per shard (its manifest names its index)

Concepts are routed by a stable hash of their id, associations live with their source concept
(shardplan.py). Reads fan out and merge: by `seq` where a single store answers in store order (`seq` is one
global order: every shard's WAL records it), by score for searches, with BM25 statistics summed over the
shards (shardsearch.py). The "in" direction of `neighbors` asks every shard, since an edge lives with its
source; "out" asks only the concept's own shard.

Writes are serialized by one lock (the engine has one writer; concurrent writers lose group commit here). A
batch is applied to the shards' graphs under that lock; a batch that touched one shard is one ordinary
frame in that shard's WAL, acknowledged once durable; a batch that touched several goes through two-phase
commit (twophase.py). Readers take the same lock, so they never see a batch applied to some shards only.
Opening settles transactions a crash left in doubt before anything else is read or written.
"""

from __future__ import annotations

import contextlib
import functools
import heapq
import logging
import os
import re
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np

from sutra.config import FSYNC_POLICIES, FsyncPolicy
from sutra.errors import ConfigError, CorruptionError, StorageError
from sutra.model import Association, AssociationType, Concept, ConceptKind, Mutation
from sutra.store import layout, recovery, shardsearch, twophase
from sutra.store import manifest as manifest_file
from sutra.store.base import Direction, Store
from sutra.store.batch import encode_batch
from sutra.store.codec import normalize_vector
from sutra.store.local import DEFAULT_CHECKPOINT_WAL_BYTES, LocalStore
from sutra.store.lock import LOCK_NAME
from sutra.store.shard import Shard
from sutra.store.shardplan import BatchPlan, placement_problems, shard_of

log = logging.getLogger("sutra.store")

# Decisions are dropped from the coordinator log once it passes this size (after syncing every shard).
COORDINATOR_LOG_BYTES = 256 * 1024


SHARD_DIR = re.compile(r"shard-\d{3}")  # the names `shard_dir` gives


def shard_dir(directory: Path, index: int) -> Path:
    return directory / f"shard-{index:03d}"


def is_sharded(directory: Path) -> bool:
    """Whether `directory` holds a sharded space (its manifest records more than one shard)."""
    try:
        return manifest_file.load(directory).shards > 1
    except (OSError, StorageError, ConfigError):
        return False  # no space, or one the store itself will report on when it opens it


def open_existing(directory: Path, **options: Any) -> Store:
    """The space in `directory` as it was created, sharded or not (backup and import check their copies)."""
    return ShardedStore(directory, **options) if is_sharded(directory) else LocalStore(directory, **options)


class ShardedStore(Store):
    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        shards: int | None = None,
        fsync: FsyncPolicy = "always",
        batch_fsync_ms: float = 10.0,
        checkpoint_wal_bytes: int = DEFAULT_CHECKPOINT_WAL_BYTES,
        repair: bool = False,
        vector_index: str = "auto",
        vector_dtype: str | None = None,
    ) -> None:
        if fsync not in FSYNC_POLICIES:
            raise ConfigError(f"fsync policy {fsync!r} is not one of {', '.join(FSYNC_POLICIES)}")
        # `shards` is used when the space is created; an existing one keeps the count its manifest records
        if shards is not None and not 2 <= shards <= manifest_file.MAX_SHARDS:
            raise ConfigError(f"a sharded store has 2 to {manifest_file.MAX_SHARDS} shards, got {shards}")
        self.path = Path(path)
        self.fsync = fsync
        self._rw = threading.RLock()
        self._closed = True
        self._failure: str | None = None
        self._shards: list[Shard] = []
        self._syncers: ThreadPoolExecutor | None = None
        try:
            new = replace(manifest_file.new_manifest(), shards=shards or 1)
            claim = layout.claim(self.path, manifest=new)
        except OSError as exc:
            raise layout.storage_error(exc, self.path) from exc
        options = {
            "fsync": fsync,
            "batch_fsync_ms": batch_fsync_ms,
            "checkpoint_wal_bytes": checkpoint_wal_bytes,
            "repair": repair,
            "vector_index": vector_index,
            "vector_dtype": vector_dtype,
        }
        try:
            self._open(created=claim.created, options=options)
        except BaseException:
            for shard in self._shards:
                shard.close()
            if hasattr(self, "_coordinator"):
                self._coordinator.close()
            if claim.created:  # leave the folder as it was: without the shards this open created
                for i in range(len(self._shards)):
                    _remove_new_shard(shard_dir(self.path, i))
            claim.abandon()
            raise
        self._dir_lock = claim.lock
        self._closed = False
        if fsync == "always":  # only then does a PREPARE wait for an fsync worth overlapping
            self._syncers = ThreadPoolExecutor(len(self._shards), thread_name_prefix="sutra-shard-sync")

    def _open(self, *, created: bool, options: dict[str, Any]) -> None:
        self._manifest = manifest_file.load(self.path)
        count = self._manifest.shards
        if count < 2:
            raise ConfigError(
                f"{self.path} is not a sharded space"
                + (" (a new one needs a shard count: shards=N, N from 2)" if created else "")
                + "; open it with sutra.store.open_store"
            )
        recovery.require_wal(self.path / layout.WAL_NAME, repair=options["repair"])
        self._coordinator = twophase.CoordinatorLog(
            self.path / layout.WAL_NAME,
            repair=options["repair"],
            policy=options["fsync"],
            batch_fsync_ms=options["batch_fsync_ms"],
        )
        self._check_shard_dirs(count, created)
        for i in range(count):
            self._shards.append(
                Shard(
                    shard_dir(self.path, i),
                    index=i,
                    owns=functools.partial(_owned, i, count),
                    decided=self._coordinator.decided,
                    **options,
                )
            )
        self.resolved = {tx: outcome for s in self._shards for tx, outcome in s.resolved.items()}
        if self.resolved:
            log.warning("%s: settled %d in-doubt transaction(s) on open", self.path, len(self.resolved))
        self._coordinator.truncate(self._shards)  # every outcome is now durable in the shards' WALs
        self._adopt_dim()
        self._seq = max(s.graph.seq for s in self._shards)

    def _adopt_dim(self) -> None:
        """The space's vector size is the shards' (a manifest that lost it, `"dim": null`, gets it back)."""
        dims = {s.stats()["dim"] for s in self._shards} - {None}
        if len(dims) > 1 or (dims and self._manifest.dim is not None and dims != {self._manifest.dim}):
            raise CorruptionError(
                f"the shards of {self.path} hold vectors of different sizes ({sorted(dims)}; the space's "
                f"manifest says {self._manifest.dim}): a shard directory comes from another space. Restore "
                "the data directory from a backup."
            )
        if dims and self._manifest.dim is None:
            self._ensure_dim(dims.pop())

    def _check_shard_dirs(self, count: int, created: bool) -> None:
        missing = [i for i in range(count) if not shard_dir(self.path, i).exists()]
        if not missing or created:
            return
        if len(missing) == count and self._coordinator.size <= 16:  # a creation interrupted before them
            log.warning("%s: creating the shard directories an interrupted creation left out", self.path)
            return
        raise CorruptionError(
            f"{self.path} is a space of {count} shards, but the director{'ies' if len(missing) > 1 else 'y'} "
            f"{', '.join(shard_dir(self.path, i).name for i in missing)} "
            f"{'are' if len(missing) > 1 else 'is'} missing: their data is gone. Restore the data directory "
            "from a backup."
        )

    # ---- writing ----

    def apply(self, batch: Sequence[Mutation]) -> None:
        dicts, dim = encode_batch(batch)
        if not dicts:
            return
        with self._rw:
            self._check_writable()
            if dim is not None:
                self._ensure_dim(dim)
            plan = BatchPlan(self._shards, self._seq)
            plan.run(dicts)
            single: tuple[Shard, int] | None = None
            try:
                if len(plan.parts) == 1:
                    ((i, part),) = plan.parts.items()
                    single = self._shards[i], self._shards[i].append(part.mutations, {"s": part.seqs})
                else:
                    twophase.commit_across(self._shards, plan.parts, self._coordinator, self._syncers)
            except BaseException as exc:
                plan.finish(keep=False)
                if isinstance(exc, StorageError) and self._coordinator.failed:
                    self._failure = f"the coordinator log failed ({exc})"
                raise
            plan.finish(keep=True)
            self._seq = plan.seq
            touched = [self._shards[i] for i in plan.parts]
        if single is not None:
            single[0].wait_durable(single[1])  # outside the lock: concurrent writers share fsyncs
        self._maintain(touched)

    def _maintain(self, touched: list[Shard]) -> None:
        """Checkpoint shards whose WAL outgrew the threshold; drop old decisions from the coordinator log."""
        with self._rw:
            if self._closed:
                return
            for shard in touched:
                shard.maybe_checkpoint()
            if self._coordinator.size >= COORDINATOR_LOG_BYTES:
                try:
                    self._coordinator.truncate(self._shards)
                except (OSError, StorageError) as exc:  # only an optimisation: the log stays correct
                    log.warning("%s: could not trim the coordinator log (%s)", self.path, exc)

    def _ensure_dim(self, dim: int) -> None:
        manifest_file.check_dim(self._manifest, dim, self.path)
        if self._manifest.dim is None:
            self._manifest = replace(self._manifest, dim=dim)
            manifest_file.save(self.path, self._manifest)

    @contextlib.contextmanager
    def writes_paused(self) -> Iterator[None]:
        """Hold back writers for the block (readers too: one lock serves both here); a backup copies the
        files meanwhile."""
        with self._rw:
            self._check_writable()
            yield

    def checkpoint(self) -> None:
        with self._rw:
            self._check_writable()
            for shard in self._shards:
                shard.checkpoint()
            self._coordinator.truncate(self._shards)

    # ---- reading ----

    def _home(self, concept_id: str) -> Shard:
        return self._shards[shard_of(concept_id, len(self._shards))]

    def get_concept(self, concept_id: str) -> Concept | None:
        with self._rw:
            return self._home(concept_id).get_concept(concept_id)

    def get_association(self, association_id: str) -> Association | None:
        with self._rw:
            for shard in self._shards:
                found = shard.get_association(association_id)
                if found is not None:
                    return found
            return None

    def neighbors(
        self,
        concept_id: str,
        direction: Direction = "out",
        types: Iterable[AssociationType] | None = None,
        relations: Iterable[str] | None = None,
        current_only: bool = False,
    ) -> list[Association]:
        if direction not in ("out", "in", "both"):
            raise ConfigError(f"direction must be 'out', 'in' or 'both', got {direction!r}")
        types = None if types is None else list(types)
        relations = None if relations is None else list(relations)
        with self._rw:
            home = self._home(concept_id)
            lists = [home.neighbors(concept_id, direction, types, relations, current_only)]
            if direction != "out":  # edges into the concept live with their sources, in any shard
                lists += [
                    s.neighbors(concept_id, "in", types, relations, current_only)
                    for s in self._shards
                    if s is not home
                ]
            return list(heapq.merge(*lists, key=lambda a: a.seq))

    def find_entities(self, name: str) -> list[str]:
        with self._rw:
            found = [(s.graph.concepts[cid].seq, cid) for s in self._shards for cid in s.find_entities(name)]
            return [cid for _, cid in sorted(found)]

    def search_text(self, query: str, k: int = 10) -> list[tuple[str, float]]:
        with self._rw:
            return shardsearch.search_text([s.keywords for s in self._shards], query, k)

    def search_vector(self, vector: np.ndarray, k: int = 10) -> list[tuple[str, float]]:
        query = normalize_vector(vector)
        with self._rw:
            if self._manifest.dim is None:
                return []
            manifest_file.check_dim(self._manifest, query.size, self.path)
            return shardsearch.merge_ranked([s.search_vector(query, k) for s in self._shards], k)

    def concepts(self, kind: ConceptKind | None = None) -> list[Concept]:
        with self._rw:
            return list(heapq.merge(*(s.concepts(kind) for s in self._shards), key=lambda c: c.seq))

    def by_source(self, source_id: str) -> list[str]:
        """Concepts first, then associations, each in store order (as a single store lists them)."""
        with self._rw:
            concepts, associations = [], []
            for s in self._shards:
                g = s.graph
                for oid in g.ids_by_source(source_id):
                    if oid in g.concepts:
                        concepts.append((g.concepts[oid].seq, oid))
                    else:
                        associations.append((g.associations[oid].seq, oid))
            return [oid for _, oid in sorted(concepts)] + [oid for _, oid in sorted(associations)]

    def stats(self) -> dict[str, Any]:
        with self._rw:
            per = [s.stats() for s in self._shards]

            def total(key: str) -> int:
                return sum(p[key] for p in per)

            def merged(key: str) -> dict[str, int]:
                counts: Counter[str] = Counter()
                for p in per:
                    counts.update(p[key])
                return dict(sorted(counts.items()))

            return {
                "path": str(self.path),
                "shards": len(self._shards),
                "concepts": total("concepts"),
                "associations": total("associations"),
                "current_associations": total("current_associations"),
                "concepts_by_kind": merged("concepts_by_kind"),
                "concepts_by_semantic_type": merged("concepts_by_semantic_type"),
                "associations_by_type": merged("associations_by_type"),
                "vectors": total("vectors"),
                "vector_index": next((p["vector_index"] for p in per if p["vector_index"]), None),
                "dim": self._manifest.dim,
                "vector_dtype": per[0]["vector_dtype"],  # every shard was created with the same form
                "seq": self._seq,
                "lsn": total("lsn"),
                "wal_bytes": total("wal_bytes") + self._coordinator.size,
                "fsync": self.fsync,
                "fsyncs": total("fsyncs") + self._coordinator.fsyncs,
                "concepts_per_shard": [p["concepts"] for p in per],
                "recovery": {
                    "shards": [asdict(s.recovery) for s in self._shards],
                    "in_doubt_resolved": dict(Counter(self.resolved.values())),
                },
            }

    def version(self) -> int:
        with self._rw:
            return sum(s.version() for s in self._shards)  # each only grows, so the sum moves with any

    def check(self) -> list[str]:
        with self._rw:
            problems = [f"shard {s.index}: {p}" for s in self._shards for p in s.check()]
            problems += placement_problems(self._shards)
            return problems

    # ---- lifecycle ----

    def close(self) -> None:
        with self._rw:
            if self._closed:
                return
            self._closed = True
            try:
                if self._syncers is not None:
                    self._syncers.shutdown()
                for shard in self._shards:
                    shard.close()
                self._coordinator.close()
            finally:
                self._dir_lock.release()

    def __enter__(self) -> ShardedStore:
        return self

    def _check_writable(self) -> None:
        layout.check_writable(self.path, closed=self._closed, failure=self._failure, logs="WALs")


def _remove_new_shard(directory: Path) -> None:
    """Remove a shard directory a failed creation made (only the files a new space starts with)."""
    layout.remove_created(directory)
    with contextlib.suppress(OSError):
        (directory / LOCK_NAME).unlink()
    with contextlib.suppress(OSError):
        directory.rmdir()  # only if empty: never remove what someone else put there


def _owned(index: int, count: int, concept_id: str) -> bool:
    return shard_of(concept_id, count) == index
