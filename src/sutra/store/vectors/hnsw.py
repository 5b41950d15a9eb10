"""Approximate cosine search with hnswlib (HNSW graph), for stores past a few thousand vectors.

hnswlib labels are integers, so each concept id gets a fresh label whenever its vector is (re)inserted; the
old label is marked deleted and `allow_replace_deleted` lets new vectors reuse the slots of deleted ones, so
deletions do not grow the index forever. (Updating a live label in place was rejected: with vacant slots
around, hnswlib's `replace_deleted` path would file the label twice.)

Persistence: `save` writes the graph to `vectors.<lsn>.hnsw` and then `vectors.meta` (label map + LSN), each
atomically; the meta file is the commit point, so a crash between the two leaves the old meta pointing at the
old, still present, graph. A loader uses the index only when its LSN equals the snapshot's.
"""

from __future__ import annotations

import contextlib
import os
import re
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from sutra.errors import ConfigError
from sutra.store.codec import CodecError, pack, unpack
from sutra.store.fsutil import atomic_write, fsync_dir
from sutra.store.vectors.base import VectorIndex

META_NAME = "vectors.meta"
_GRAPH_NAME = re.compile(r"vectors\.\d+\.hnsw")  # exactly the names `save` writes; nothing else is touched
# ef_construction 100 rather than the usual 200: on these 2-core machines it builds ~1.5x faster (1.35k vs
# 0.9k 384-d vectors/s) at the same recall@10 in our measurement; M=16 and ef=64 at query time are hnswlib's
# common defaults. benchmarks/storage_wal.py has the store-level numbers.
M, EF_CONSTRUCTION, EF_SEARCH = 16, 100, 64


def _hnswlib() -> Any:
    try:
        import hnswlib
    except ImportError as exc:  # pragma: no cover - hnswlib is a core dependency
        raise ConfigError("the hnsw vector index needs hnswlib: pip install hnswlib") from exc
    return hnswlib


class HnswIndex(VectorIndex):
    name = "hnsw"

    def __init__(self, dim: int, capacity: int = 1024, *, _index: Any = None) -> None:
        super().__init__(dim)
        if _index is None:
            _index = _hnswlib().Index(space="cosine", dim=dim)
            _index.init_index(
                max_elements=capacity,
                ef_construction=EF_CONSTRUCTION,
                M=M,
                allow_replace_deleted=True,
                random_seed=1,
            )
        self._index = _index
        self.saved_lsn: int | None = None  # set by `load`: the LSN the loaded graph was saved at
        self._labels: dict[str, int] = {}
        self._ids: dict[int, str] = {}
        self._next_label = 0
        self.ef_search = EF_SEARCH  # candidates kept while searching: the recall/speed dial
        self._ef_set = -1  # the ef hnswlib was last given

    def __len__(self) -> int:
        return len(self._labels)

    def upsert(self, ids: list[str], vectors: np.ndarray) -> None:
        if not ids:
            return
        for concept_id in ids:
            self.remove(concept_id)
        labels = np.arange(self._next_label, self._next_label + len(ids), dtype=np.uint64)
        self._next_label += len(ids)
        needed = self._index.get_current_count() + len(ids)
        if needed > self._index.get_max_elements():
            self._index.resize_index(max(needed, 2 * self._index.get_max_elements()))
        self._index.add_items(np.asarray(vectors, dtype=np.float32), labels, replace_deleted=True)
        for concept_id, label in zip(ids, labels.tolist(), strict=True):
            self._labels[concept_id], self._ids[label] = label, concept_id

    def remove(self, concept_id: str) -> None:
        label = self._labels.pop(concept_id, None)
        if label is not None:
            del self._ids[label]
            self._index.mark_deleted(label)

    def search(self, query: np.ndarray, k: int) -> list[tuple[str, float]]:
        k = min(k, len(self._labels))
        if k <= 0:
            return []
        ef = max(self.ef_search, 2 * k)
        query = np.asarray(query, dtype=np.float32)
        while True:
            if ef != self._ef_set:  # set_ef costs a call into hnswlib; most searches reuse the last value
                self._index.set_ef(ef)
                self._ef_set = ef
            try:
                labels, distances = self._index.knn_query(query, k=k)
                break
            except RuntimeError:  # too few live neighbours reachable at this ef (many deletions): widen
                if ef >= self._index.get_current_count():
                    raise
                ef *= 4
        # exactly k hits: sorting them (ties by id, as `rank` does) is all that is left to do
        ids = self._ids
        hits = zip([ids[label] for label in labels[0].tolist()], (1.0 - distances[0]).tolist(), strict=True)
        return sorted(hits, key=lambda hit: (-hit[1], hit[0]))

    def ids(self) -> set[str]:
        return set(self._labels)

    # ---- persistence ----

    def save(self, directory: Path, lsn: int) -> bool:
        graph_name = f"vectors.{lsn}.hnsw"
        tmp = directory / (graph_name + ".tmp")
        self._index.save_index(str(tmp))
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, directory / graph_name)
        fsync_dir(directory)
        meta = {
            "lsn": lsn,
            "dim": self.dim,
            "graph": graph_name,
            "next_label": self._next_label,
            "labels": list(self._labels.items()),
        }
        atomic_write(directory / META_NAME, pack(meta))
        for old in _saved_graphs(directory):
            if old.name != graph_name:
                with contextlib.suppress(FileNotFoundError):
                    old.unlink()
        return True

    @staticmethod
    def remove_saved(directory: Path) -> None:
        for path in [directory / META_NAME, *_saved_graphs(directory)]:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    @classmethod
    def load(cls, directory: Path, *, dim: int, lsn: int | None = None) -> HnswIndex | None:
        """The index last saved in `directory` (its `saved_lsn` set), or None when there is none or it is
        damaged; given `lsn`, also None when it was saved at another LSN, decided before the graph is read."""
        try:
            meta = unpack((directory / META_NAME).read_bytes())
            if meta["dim"] != dim or (lsn is not None and meta["lsn"] != lsn):
                return None
            raw = _hnswlib().Index(space="cosine", dim=dim)
            raw.load_index(str(directory / meta["graph"]), allow_replace_deleted=True)
            index = cls(dim, _index=raw)
            index._labels = dict(meta["labels"])  # dict() over the pairs: ~3x faster than a comprehension
            index._ids = dict(zip(index._labels.values(), index._labels, strict=True))
            index._next_label = meta["next_label"]
            index.saved_lsn = int(meta["lsn"])
        except (OSError, CodecError, KeyError, TypeError, ValueError, RuntimeError):
            return None  # derived data: the caller rebuilds it from the vectors
        if not set(index._ids) <= set(raw.get_ids_list()):
            return None
        return index


def load_in_background(directory: Path, dim: int) -> Future[HnswIndex | None]:
    """Start `HnswIndex.load` on its own thread. hnswlib reads the graph without holding the GIL, so a
    store opening meanwhile decodes its snapshot in parallel (4-5 s of a 1M-concept store's open). The
    snapshot's LSN is not known yet: the caller compares it with the result's `saved_lsn`."""
    pool = ThreadPoolExecutor(1, thread_name_prefix="sutra-hnsw-load")
    try:
        return pool.submit(HnswIndex.load, directory, dim=dim)
    finally:
        pool.shutdown(wait=False)  # the thread ends once the load is done


def _saved_graphs(directory: Path) -> list[Path]:
    return [p for p in directory.glob("vectors.*.hnsw") if _GRAPH_NAME.fullmatch(p.name)]
