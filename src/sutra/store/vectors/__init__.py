"""Vector index backends behind one small interface, chosen by name.

exact  numpy brute force: exact, best below a few thousand vectors, the test oracle
hnsw   hnswlib HNSW graph: approximate, fast at 100k+, persisted at checkpoints
auto   exact until DEFAULT_THRESHOLD vectors, then hnsw (the default)
"""

from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path

from sutra.errors import ConfigError
from sutra.store.vectors.auto import DEFAULT_THRESHOLD, AutoIndex
from sutra.store.vectors.base import VectorIndex
from sutra.store.vectors.exact import ExactIndex
from sutra.store.vectors.hnsw import HnswIndex

BACKENDS = ("auto", "exact", "hnsw")

__all__ = [
    "BACKENDS",
    "DEFAULT_THRESHOLD",
    "AutoIndex",
    "ExactIndex",
    "HnswIndex",
    "VectorIndex",
    "make_index",
    "remove_saved_index",
]


def make_index(
    backend: str,
    dim: int,
    *,
    directory: Path | None = None,
    lsn: int | None = None,
    loading: Future[HnswIndex | None] | None = None,
) -> VectorIndex:
    """A new empty index, or, given `directory` and `lsn`, the one persisted there at that LSN if any
    (`loading`: that load, already started by `hnsw.load_in_background`)."""
    if backend not in BACKENDS:
        raise ConfigError(f"unknown vector index {backend!r}; choose one of {', '.join(BACKENDS)}")
    saved = None
    if loading is not None:
        loaded = loading.result()
        saved = loaded if loaded is not None and loaded.saved_lsn == lsn else None
    elif directory is not None and lsn is not None and backend != "exact":
        saved = HnswIndex.load(directory, dim=dim, lsn=lsn)
    if backend == "exact":
        return ExactIndex(dim)
    if backend == "hnsw":
        return saved if saved is not None else HnswIndex(dim)
    return AutoIndex(dim, inner=saved)


def remove_saved_index(directory: Path) -> None:
    """Delete a persisted index (used when the current backend does not persist, so it would go stale)."""
    HnswIndex.remove_saved(directory)
