"""`LocalStore`: the embedded storage engine, one data directory, one writing process.

Directory layout::

    LOCK                 flock'ed while open; names the holder (lock.py)
    manifest.json        format version, vector dimension; marks the folder as a space (manifest.py)
    snapshot.bin         the graph as of some LSN (snapshot.py)
    wal.log              batches after that LSN (wal.py)
    vectors.meta, vectors.<lsn>.hnsw   a saved HNSW index, used on open when its LSN is the snapshot's
    wal.log.torn-<time>, wal.log.dropped-<time>   bytes recovery cut off the WAL, kept as evidence

Write path (`apply`): validate and encode the batch without the lock (batch.py); under the lock give it the
next LSN, decode the encoded bytes and apply *those* to the graph (so the live state is exactly what replay
will rebuild), append the frame, and on any failure roll the graph back; then, outside the lock, wait until
the frame is durable, sharing fsyncs with concurrent writers (group commit). A batch is therefore visible to
readers a moment before it is durable, but it is acknowledged to its writer only once durable.

Open path: claim the directory (layout.py: refuse a folder that is not a space, lock it, create the space if
new), manifest, snapshot, indexes (loading a saved vector index when it matches), then replay WAL frames newer
than the snapshot. A torn tail is cut with a warning; corruption stops the open unless `repair=True`, which
truncates at the first bad frame and reports what was dropped in `recovery`. What is cut is kept in a side
file next to the WAL. Files the manifest says must exist (`wal.log` always, `snapshot.bin` after the first
checkpoint) are never silently replaced by empty ones. A failed open leaves the directory as it found it.

Checkpoints hold back writers for their whole length and readers not at all: the graph is written as it is
(snapshot.write_graph_snapshot), which nothing but readers touch meanwhile, and they only decode records
into the tables, which changes nothing saved. `frozen()` gives export and backup a consistent copy of the
records (the lists are copied under the lock; records are never changed in place). Checkpoints run
automatically once the WAL passes `checkpoint_wal_bytes`. If one fails
(a full disk), the batch that triggered it is already durable in the WAL, so `apply` still succeeds: the
failure is logged, the WAL is kept, and the checkpoint is retried after the WAL has grown by another quarter
of the threshold.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from sutra.config import FSYNC_POLICIES, FsyncPolicy
from sutra.errors import ConfigError, CorruptionError, StorageError
from sutra.model import Association, AssociationType, Concept, ConceptKind, Mutation, PutConcept
from sutra.store import layout, recovery, wal
from sutra.store import manifest as manifest_file
from sutra.store.base import Direction, Store
from sutra.store.batch import decode_batch, encode_batch
from sutra.store.codec import association_fields, concept_fields, normalize_vector
from sutra.store.graph import Graph
from sutra.store.indexes import Indexes
from sutra.store.recovery import RecoveryReport
from sutra.store.snapshot import SNAPSHOT_NAME, read_snapshot, write_graph_snapshot
from sutra.store.vectors import BACKENDS, hnsw, remove_saved_index
from sutra.store.vectors import storage as vector_storage
from sutra.store.vectors.hnsw import META_NAME as HNSW_META

log = logging.getLogger("sutra.store")

WAL_NAME = layout.WAL_NAME
DEFAULT_CHECKPOINT_WAL_BYTES = 64 * 1024 * 1024


class LocalStore(Store):
    # A shard of a sharded space (store/shard.py) owns only some concept ids; a plain store owns them all.
    _owns: Callable[[str], bool] | None = None

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        fsync: FsyncPolicy = "always",
        batch_fsync_ms: float = 10.0,
        checkpoint_wal_bytes: int = DEFAULT_CHECKPOINT_WAL_BYTES,
        repair: bool = False,
        vector_index: str = "auto",
        vector_dtype: str | None = None,
    ) -> None:
        """`vector_dtype` ("float32", "float16", "int8") applies while the space holds no vector yet; after
        that it is the manifest's, and asking for another one is a `ConfigError`."""
        if fsync not in FSYNC_POLICIES:
            raise ConfigError(f"fsync policy {fsync!r} is not one of {', '.join(FSYNC_POLICIES)}")
        if vector_index not in BACKENDS:
            raise ConfigError(f"vector index {vector_index!r} is not one of {', '.join(BACKENDS)}")
        if vector_dtype is not None and vector_dtype not in vector_storage.VECTOR_DTYPES:
            raise ConfigError(
                f"vector dtype {vector_dtype!r} is not one of {', '.join(vector_storage.VECTOR_DTYPES)}"
            )
        if batch_fsync_ms <= 0 or checkpoint_wal_bytes <= 0:
            raise ConfigError("batch_fsync_ms and checkpoint_wal_bytes must be positive")
        self.path = Path(path)
        self.fsync = fsync
        self._checkpoint_bytes = self._checkpoint_due = checkpoint_wal_bytes
        self._rw = threading.RLock()
        self._writes = threading.RLock()  # taken before `_rw` by writers and checkpoints (see above)
        self._closed = True
        self._failure: str | None = None
        try:
            claim = layout.claim(self.path, manifest=self._initial_manifest())
            try:
                with _gc_paused(), _frozen_after_loading(self.path / SNAPSHOT_NAME):
                    self._open(
                        repair=repair,
                        batch_fsync_ms=batch_fsync_ms,
                        vector_index=vector_index,
                        vector_dtype=vector_dtype,
                    )
            except BaseException:
                claim.abandon()
                raise
        except OSError as exc:
            raise layout.storage_error(exc, self.path) from exc
        self._dir_lock = claim.lock
        self._closed = False

    def _open(
        self, *, repair: bool, batch_fsync_ms: float, vector_index: str, vector_dtype: str | None
    ) -> None:
        started = time.perf_counter()
        report = RecoveryReport()
        self._manifest = manifest_file.load(self.path)
        if vector_dtype is not None and vector_dtype != self._manifest.vector_dtype:
            if self._manifest.dim is not None:
                raise ConfigError(
                    f"{self.path} holds its vectors as {self._manifest.vector_dtype}; the vector dtype is "
                    f"chosen when a space is created and cannot become {vector_dtype}. Export and import the "
                    "space into a new one to change it."
                )
            self._save_manifest(vector_dtype=vector_dtype)
        self._check_role()
        report.wal_recreated = recovery.require_wal(self.path / WAL_NAME, repair=repair)
        loading = None  # the saved vector index, read on a thread while the snapshot is decoded here
        if self._manifest.dim is not None and vector_index != "exact" and (self.path / HNSW_META).exists():
            loading = hnsw.load_in_background(self.path, self._manifest.dim)
        snap = read_snapshot(self.path / SNAPSHOT_NAME)
        if snap is None and self._manifest.snapshot:
            raise CorruptionError(
                f"{self.path / SNAPSHOT_NAME} is missing, but {manifest_file.MANIFEST_NAME} records that a "
                "checkpoint wrote it: the history before the WAL is gone. Restore the data directory from "
                "a backup."
            )
        # through a weak reference: a closure over `self` would make the store a reference cycle, freed only
        # by the cyclic collector (which then walks the whole graph) instead of when it is dropped
        this = weakref.ref(self)
        self._indexes = Indexes(vector_index, concepts=lambda: this()._graph.concepts.values())  # type: ignore[union-attr]
        self._graph = Graph(hooks=self._indexes, owns=self._owns)
        where = f"the snapshot {self.path / SNAPSHOT_NAME} cannot be loaded: "
        with _records_checked(where, ". Restore the data directory from a backup."):
            if snap is not None:
                report.snapshot_lsn = snap.lsn
                if snap.indexes is not None:  # format 4: records are decoded when first read
                    dims = {snap.dim} if snap.dim is not None else set()
                    self._ensure_adopted_dim(
                        recovery.adopt_dims(self._manifest, self.path, dims, SNAPSHOT_NAME)
                    )
                    self._graph.adopt(snap.concept_table, snap.association_table, snap.indexes, snap.seq)
                else:
                    self._adopt_dim(snap.concepts, SNAPSHOT_NAME)
                    self._graph.load(snap.concepts, snap.associations, snap.seq)
                if not self._manifest.snapshot:  # a space from before the mark existed, or a crash before
                    self._save_manifest(snapshot=True)
            saved_at = {"dim": self._manifest.dim, "directory": self.path, "lsn": report.snapshot_lsn}
            if snap is not None and snap.entities is not None:
                report.vector_index_loaded = self._indexes.adopt(
                    snap.entities,
                    snap.vector_ids or (),
                    snap.vectors,
                    loading=loading,
                    **saved_at,
                )
            else:
                report.vector_index_loaded = self._indexes.rebuild(
                    list(self._graph.concepts.values()), loading=loading, **saved_at
                )
            del snap
        last_lsn = self._replay(report, repair=repair)
        self._snapshot_lsn = report.snapshot_lsn
        self._wal = wal.WalWriter(
            self.path / WAL_NAME, next_lsn=last_lsn + 1, policy=self.fsync, batch_fsync_ms=batch_fsync_ms
        )
        report.seconds = time.perf_counter() - started
        self.recovery = report

    def _initial_manifest(self) -> manifest_file.Manifest | None:
        return None  # the default manifest of a new space

    def _check_role(self) -> None:
        """A sharded space, or one of its shards, is opened only through `open_store` (store/sharded.py)."""
        if self._manifest.shards > 1 or self._manifest.shard is not None:
            raise ConfigError(
                f"{self.path} is {'a shard of ' if self._manifest.shard is not None else ''}a sharded space; "
                "open the space's own directory with sutra.store.open_store"
            )

    def _adopt_dim(self, concepts: Iterable[Concept], where: str) -> None:
        self._ensure_adopted_dim(recovery.adopt_dim(self._manifest, self.path, concepts, where))

    def _ensure_adopted_dim(self, dim: int | None) -> None:
        if dim is not None:
            self._ensure_dim(dim)  # `"dim": null` lost the value; the data says what it was

    def _save_manifest(self, **changes: Any) -> None:
        manifest_file.save(self.path, replace(self._manifest, **changes))
        for name, value in changes.items():
            setattr(self._manifest, name, value)

    def _replay(self, report: RecoveryReport, *, repair: bool) -> int:
        last_lsn = recovery.replay(
            self.path / WAL_NAME,
            report,
            repair=repair,
            check=lambda frame: self._adopt_dim(
                recovery.put_concepts(frame.mutations), f"{WAL_NAME} (LSN {frame.lsn})"
            ),
            apply=self._replay_frame,
        )
        self._indexes.flush()
        return last_lsn

    def _replay_frame(self, frame: wal.Frame) -> None:
        if frame.extra is not None:  # only a shard of a sharded space writes these (store/shard.py)
            raise CorruptionError(
                "it holds a sharded space's transaction record, which a plain store cannot apply"
            )
        with _records_checked():  # recovery says which frame (and offers repair)
            self._apply_decoded(frame.mutations)  # rolled back whole if it fails

    # ---- writing ----

    def apply(self, batch: Sequence[Mutation]) -> None:
        with _gc_paused():  # see _gc_paused: a batch allocates thousands of short-lived objects
            dicts, dim = encode_batch(batch)
            if not dicts:
                return
            with self._writes, self._rw:
                self._check_writable()
                if dim is not None:
                    self._ensure_dim(dim)
                lsn = self._wal.next_lsn
                payload = wal.encode_payload(lsn, dicts)
                mutations = decode_batch(dicts)
                self._compact_vectors(mutations)
                self._graph.begin()
                try:
                    for m in mutations:
                        self._graph.apply(m)
                    self._wal.append(lsn, payload)
                except BaseException:
                    self._rollback()
                    raise
                finally:
                    self._indexes.flush()
                self._graph.commit()
        self._wal.wait_durable(lsn)
        if self._wal.size >= self._checkpoint_due:
            self._auto_checkpoint()

    def _auto_checkpoint(self) -> None:
        """Checkpoint after a durable batch; a failure must not make that batch look failed (see above)."""
        with self._writes:
            if self._closed or self._wal.size < self._checkpoint_due:
                return
            try:
                self._checkpoint_locked()
            # any failure: a checkpoint is only an optimisation here (and hnswlib does not raise OSError)
            except Exception as exc:
                self._checkpoint_due = self._wal.size + max(1, self._checkpoint_bytes // 4)
                log.warning(
                    "%s: automatic checkpoint failed (%s); every batch is still durable in the WAL, which is "
                    "kept. Retrying once it has grown by another %d bytes; free disk space if it is full.",
                    self.path,
                    exc,
                    self._checkpoint_due - self._wal.size,
                )

    def _apply_decoded(self, mutations: list[Mutation]) -> None:
        """Replay one batch: all of it or (after rolling back) none of it. Vectors wait for `flush()`."""
        dims = {
            m.concept.vector.size
            for m in mutations
            if isinstance(m, PutConcept) and m.concept.vector is not None
        }
        for dim in dims:
            self._ensure_dim(dim)
        self._compact_vectors(mutations)
        self._graph.begin()
        try:
            for m in mutations:
                self._graph.apply(m)
        except BaseException:
            self._rollback()
            raise
        self._graph.commit()

    def _compact_vectors(self, mutations: list[Mutation]) -> None:
        """Hold new vectors in the space's dtype, live and on replay alike (so both build the same state)."""
        dtype = self._manifest.vector_dtype
        if dtype == "float32":
            return
        for m in mutations:
            if isinstance(m, PutConcept) and m.concept.vector is not None:
                m.concept.vector = vector_storage.encode(m.concept.vector, dtype)

    def _ensure_dim(self, dim: int) -> None:
        manifest_file.check_dim(self._manifest, dim, self.path)
        if self._manifest.dim is None:
            self._save_manifest(dim=dim)
        self._indexes.ensure_vectors(dim)

    def _rollback(self) -> None:
        try:
            self._graph.rollback()
        except BaseException as exc:
            self._failure = f"rolling back a failed batch failed ({exc!r})"
            raise

    def checkpoint(self) -> None:
        with self._writes:
            with self._rw:
                self._check_writable()
            try:
                self._checkpoint_locked()
            except OSError as exc:
                raise StorageError(
                    f"checkpoint of {self.path} failed ({exc}); nothing is lost, the WAL still holds every "
                    "batch. Free disk space (or fix what the error names) and retry."
                ) from exc

    def _checkpoint_locked(self) -> None:
        """Snapshot, then mark it in the manifest (once), then truncate the WAL: each step is crash-safe.

        Called holding `_writes`, so nothing changes meanwhile; readers are not held back: the graph is saved
        as it is (records and index entries not read since the store opened are copied as they were packed),
        and what readers do to it meanwhile (decode and keep records) changes nothing saved."""
        with self._rw:
            if self._closed:
                raise StorageError(f"the store at {self.path} is closed; open it again to read it")
            lsn, seq = self._wal.next_lsn - 1, self._graph.seq
        if lsn == self._snapshot_lsn:  # nothing new; the WAL may still hold frames the snapshot covers
            if self._wal.size > wal.FILE_HEADER.size:
                self._wal.truncate()
            self._checkpoint_due = self._checkpoint_bytes
            return
        write_graph_snapshot(
            self.path / SNAPSHOT_NAME,
            lsn=lsn,
            seq=seq,
            graph=self._graph,
            entities=self._indexes.entities.saved(),
            vector_dtype=self._manifest.vector_dtype,
        )
        # hnswlib's save only reads the graph, as searches do; with writers held back it cannot change
        if self._indexes.vectors is None or not self._indexes.vectors.save(self.path, lsn):
            remove_saved_index(self.path)  # an older saved index would only be a stale file
        with self._rw:
            self._snapshot_lsn = lsn
            if not self._manifest.snapshot:
                self._save_manifest(snapshot=True)
            self._wal.truncate()
        self._checkpoint_due = self._checkpoint_bytes

    @contextlib.contextmanager
    def writes_paused(self) -> Iterator[None]:
        """Hold back writers (readers go on) for the block; a backup copies the files meanwhile."""
        with self._writes:
            with self._rw:
                self._check_writable()
            yield

    def frozen(self) -> FrozenView:
        """A consistent copy of the whole graph as of the last applied batch, for export and backup. Only
        the lists are copied (under the lock, briefly); the records are shared, never changed.
        Records adopted from a snapshot and not read since are decoded after the lock is released."""
        with self._rw:
            if self._closed:
                raise StorageError(f"the store at {self.path} is closed; open it again to read it")
            lsn, seq, dim, dtype = (
                self._wal.next_lsn - 1,
                self._graph.seq,
                self._manifest.dim,
                self._manifest.vector_dtype,
            )
            concepts, associations = self._graph.concepts, self._graph.associations
            concept_entries, association_entries = concepts.entries(), associations.entries()
        # records not read since the store opened are decoded here, outside the lock, without caching them
        return FrozenView(
            lsn=lsn,
            seq=seq,
            dim=dim,
            vector_dtype=dtype,
            concepts=list(concepts.materialize(concept_entries)),
            associations=list(associations.materialize(association_entries)),
        )

    # ---- reading ----

    def get_concept(self, concept_id: str) -> Concept | None:
        with self._rw:
            c = self._graph.concepts.get(concept_id)
            return None if c is None else _copy_concept(c)

    def get_association(self, association_id: str) -> Association | None:
        with self._rw:
            a = self._graph.associations.get(association_id)
            return None if a is None else _copy_association(a)

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
        wanted = None if relations is None else set(relations)
        with self._rw:
            return [
                _copy_association(a)
                for a in self._graph.edges(concept_id, direction, types)
                if (wanted is None or a.relation in wanted) and (a.closed_seq is None or not current_only)
            ]

    def find_entities(self, name: str) -> list[str]:
        with self._rw:
            ids = self._indexes.entities.find(name)
            return sorted(ids, key=lambda cid: self._graph.concepts[cid].seq)

    def search_text(self, query: str, k: int = 10) -> list[tuple[str, float]]:
        with self._rw:
            return self._indexes.keywords.search(query, k)

    def search_vector(self, vector: np.ndarray, k: int = 10) -> list[tuple[str, float]]:
        query = normalize_vector(vector)
        with self._rw:
            if self._indexes.vectors is None:
                return []
            manifest_file.check_dim(self._manifest, query.size, self.path)
            return self._indexes.vectors.search(query, k)

    def concepts(self, kind: ConceptKind | None = None) -> list[Concept]:
        with self._rw:
            table = self._graph.concepts
            return [
                _copy_concept(c) for c in (table.values() if kind is None else table.select("kind", kind))
            ]

    def by_source(self, source_id: str) -> list[str]:
        with self._rw:
            return self._graph.ids_by_source(source_id)

    def stats(self) -> dict[str, Any]:
        with self._rw:
            concepts, assocs = self._graph.concepts, self._graph.associations
            vectors = self._indexes.vectors
            return {
                "path": str(self.path),
                "concepts": len(concepts),
                "associations": len(assocs),
                "current_associations": assocs.tally("current")[True],
                "concepts_by_kind": _counts(concepts.tally("kind")),
                # what `find --type` filters on (a statement's kind is "statement", its type one of nine)
                "concepts_by_semantic_type": _counts(concepts.tally("semantic_type")),
                "associations_by_type": _counts(assocs.tally("type")),
                "vectors": 0 if vectors is None else len(vectors),
                "vector_index": None if vectors is None else getattr(vectors, "backend", vectors.name),
                "dim": self._manifest.dim,
                "vector_dtype": self._manifest.vector_dtype,
                "seq": self._graph.seq,
                "lsn": self._wal.next_lsn - 1,
                "snapshot_lsn": self._snapshot_lsn,
                "wal_bytes": self._wal.size,
                "fsync": self.fsync,
                "fsyncs": self._wal.fsyncs,
                "recovery": asdict(self.recovery),
            }

    def version(self) -> int:
        return self._wal.next_lsn  # one WAL frame per applied batch, so it moves with every change

    def check(self) -> list[str]:
        with self._rw:
            problems = self._graph.check()
            problems += self._indexes.check(self._graph.concepts.values(), self._manifest.dim)
            return problems

    # ---- lifecycle ----

    def close(self) -> None:
        with self._writes, self._rw:
            if self._closed:
                return
            self._closed = True
            try:
                self._wal.close()
            finally:
                self._dir_lock.release()

    def __enter__(self) -> LocalStore:
        return self

    def _check_writable(self) -> None:
        layout.check_writable(self.path, closed=self._closed, failure=self._failure)


def _counts(tally: Counter[Any]) -> dict[str, int]:
    return {str(value): n for value, n in sorted(tally.items())}


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Hold off Python's cyclic garbage collector while a batch is applied or a store is loaded.

    Both allocate many objects that live on (records, index entries), and each allocation burst would
    otherwise trigger collections that traverse them again and again: measured on `benchmarks/storage.py`,
    batched writes run ~1.5x faster without them. Our records hold no reference cycles, so nothing is left
    for the collector that reference counting does not free; it runs again as soon as the block ends.
    If the caller turned collection off, it stays off."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextlib.contextmanager
def _records_checked(where: str = "", advice: str = "") -> Iterator[None]:
    """Records whose checksum matches but whose fields have the wrong types (a file edited by hand and its
    checksum recomputed) fail while the graph and its indexes are built: say so, not a raw TypeError."""
    try:
        yield
    except (TypeError, AttributeError, ValueError, KeyError) as exc:
        raise CorruptionError(
            f"{where}its checksum matches but a record holds a value no store writes "
            f"({type(exc).__name__}: {exc}){advice}"
        ) from exc


# Snapshots above this size (about 150,000 records) are large enough for `_frozen_after_loading`.
FREEZE_SNAPSHOT_BYTES = 32 << 20


@contextlib.contextmanager
def _frozen_after_loading(snapshot: Path) -> Iterator[None]:
    """Move a large store's loaded records out of the cyclic collector's sight (`gc.freeze`).

    Loading a million concepts leaves some twenty million tracked objects, and every full collection the
    process ran afterwards walked them all (5 s each on the 1M benchmark store), though records hold no
    cycles. Frozen objects are still freed by reference counting when the store drops them; only cyclic
    garbage that exists at the moment of freezing would stay until `gc.unfreeze()`, so the process's own
    garbage is collected first, while the store's records do not exist yet and that is cheap.
    Used inside `_gc_paused`, so that no collection can run between loading and freezing."""
    try:
        large = snapshot.stat().st_size >= FREEZE_SNAPSHOT_BYTES
    except OSError:
        large = False  # no snapshot (a new or WAL-only space): recovery reports anything worse
    if large:
        gc.collect()
    yield
    if large:
        gc.freeze()


@dataclass(frozen=True, slots=True)
class FrozenView:
    """The store's records as of `lsn` (see `LocalStore.frozen`); concept vectors in `vector_dtype`."""

    lsn: int
    seq: int
    dim: int | None
    vector_dtype: str
    concepts: list[Concept]
    associations: list[Association]


def _copy_concept(c: Concept) -> Concept:
    # Stored records are shared and never changed in place; callers get their own lists and dicts, and
    # vectors as float32 whatever form the space keeps them in. Built from the fields by position:
    # `dataclasses.replace` was a fifth of an ask's time outside parsing.
    vector = None if c.vector is None else vector_storage.decode(c.vector)
    return Concept(*concept_fields(c, vector))


def _copy_association(a: Association) -> Association:
    return Association(*association_fields(a))
