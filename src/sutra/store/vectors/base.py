"""The vector index interface: concept ids with L2-normalized float32 vectors, searched by cosine similarity.

Indexes are derived data: the vectors themselves live on the concepts (snapshot + WAL), so an index can
always be rebuilt. A backend that can persist itself (`save`) lets a cold start skip that rebuild.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

import numpy as np


class VectorIndex(ABC):
    name: ClassVar[str]

    def __init__(self, dim: int) -> None:
        self.dim = dim

    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def upsert(self, ids: list[str], vectors: np.ndarray) -> None:
        """Add or replace vectors (rows of a float32 matrix, already normalized)."""

    @abstractmethod
    def remove(self, concept_id: str) -> None:
        """Forget a vector; unknown ids are ignored."""

    @abstractmethod
    def search(self, query: np.ndarray, k: int) -> list[tuple[str, float]]:
        """(concept id, cosine similarity), best first, ties by id."""

    @abstractmethod
    def ids(self) -> set[str]: ...

    def save(self, directory: Path, lsn: int) -> bool:
        """Persist the index as of `lsn`; return False if this backend does not persist (the default)."""
        return False


def rank(ids: list[str], sims: np.ndarray, k: int) -> list[tuple[str, float]]:
    """The k best (id, similarity) pairs, ties broken by id, so results never depend on storage order."""
    if k <= 0 or not len(ids):
        return []
    if k < len(ids):
        kth = np.partition(sims, len(sims) - k)[len(sims) - k]
        keep = np.flatnonzero(sims >= kth)  # every tie at the boundary, then sort them by id
    else:
        keep = np.arange(len(ids))
    best = sorted(((ids[i], float(sims[i])) for i in keep), key=lambda p: (-p[1], p[0]))
    return best[:k]
