"""The default backend: exact search while the store is small, HNSW once it grows.

Below `threshold` vectors a brute-force matrix product is both faster and exact; past it the index is
rebuilt once as HNSW (one bulk `add_items`, multi-threaded inside hnswlib) and stays HNSW, so a store does
not flip back and forth around the threshold.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sutra.store.vectors.base import VectorIndex
from sutra.store.vectors.exact import ExactIndex
from sutra.store.vectors.hnsw import HnswIndex

DEFAULT_THRESHOLD = 5_000


class AutoIndex(VectorIndex):
    name = "auto"

    def __init__(self, dim: int, threshold: int | None = None, inner: VectorIndex | None = None) -> None:
        super().__init__(dim)
        self.threshold = DEFAULT_THRESHOLD if threshold is None else threshold
        self.inner: VectorIndex = inner if inner is not None else ExactIndex(dim)

    @property
    def backend(self) -> str:
        return self.inner.name

    def __len__(self) -> int:
        return len(self.inner)

    def upsert(self, ids: list[str], vectors: np.ndarray) -> None:
        self.inner.upsert(ids, vectors)
        if isinstance(self.inner, ExactIndex) and len(self.inner) >= self.threshold:
            all_ids, matrix = self.inner.vectors()
            promoted = HnswIndex(self.dim, capacity=2 * len(all_ids))
            promoted.upsert(all_ids, matrix)
            self.inner = promoted

    def remove(self, concept_id: str) -> None:
        self.inner.remove(concept_id)

    def search(self, query: np.ndarray, k: int) -> list[tuple[str, float]]:
        return self.inner.search(query, k)

    def ids(self) -> set[str]:
        return self.inner.ids()

    def save(self, directory: Path, lsn: int) -> bool:
        return self.inner.save(directory, lsn)
