"""Exact (brute force) cosine search with numpy: the default for small stores and the test oracle.

One matrix product over all vectors; at 5,000 x 384 that is well under a millisecond, faster than an HNSW
graph's overhead at that size, and its results are exact and independent of insertion history.
"""

from __future__ import annotations

import numpy as np

from sutra.store.vectors.base import VectorIndex, rank


class ExactIndex(VectorIndex):
    name = "exact"

    def __init__(self, dim: int) -> None:
        super().__init__(dim)
        self._ids: list[str] = []
        self._pos: dict[str, int] = {}
        self._matrix = np.empty((16, dim), dtype=np.float32)

    def __len__(self) -> int:
        return len(self._ids)

    def upsert(self, ids: list[str], vectors: np.ndarray) -> None:
        for concept_id, vector in zip(ids, vectors, strict=True):
            pos = self._pos.get(concept_id)
            if pos is None:
                pos = len(self._ids)
                if pos == len(self._matrix):
                    self._matrix = np.concatenate([self._matrix, np.empty_like(self._matrix)])
                self._ids.append(concept_id)
                self._pos[concept_id] = pos
            self._matrix[pos] = vector

    def remove(self, concept_id: str) -> None:
        pos = self._pos.pop(concept_id, None)
        if pos is None:
            return
        last = len(self._ids) - 1
        if pos != last:  # keep the matrix dense: move the last row into the hole
            moved = self._ids[last]
            self._ids[pos], self._pos[moved] = moved, pos
            self._matrix[pos] = self._matrix[last]
        self._ids.pop()

    def search(self, query: np.ndarray, k: int) -> list[tuple[str, float]]:
        sims = self._matrix[: len(self._ids)] @ np.asarray(query, dtype=np.float32)
        return rank(self._ids, sims, k)

    def ids(self) -> set[str]:
        return set(self._ids)

    def vectors(self) -> tuple[list[str], np.ndarray]:
        return list(self._ids), self._matrix[: len(self._ids)].copy()
