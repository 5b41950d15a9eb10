"""The Store interface: everything above storage talks to this and nothing else.

A store holds concepts and associations, keeps them durable (WAL + snapshots) and indexed (adjacency by
type and direction, entity aliases, BM25 keywords, vectors). Writes go through `apply`, which returns only
once the batch is durable under the configured fsync policy.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import Any, Literal

import numpy as np

from sutra.model import Association, AssociationType, Concept, ConceptKind, Mutation

Direction = Literal["out", "in", "both"]


class Store(ABC):
    @abstractmethod
    def apply(self, batch: Sequence[Mutation]) -> None:
        """Apply mutations atomically (all or none after a crash) and durably; then acknowledge."""

    @abstractmethod
    def get_concept(self, concept_id: str) -> Concept | None: ...

    @abstractmethod
    def get_association(self, association_id: str) -> Association | None: ...

    @abstractmethod
    def neighbors(
        self,
        concept_id: str,
        direction: Direction = "out",
        types: Iterable[AssociationType] | None = None,
        relations: Iterable[str] | None = None,
        current_only: bool = False,
    ) -> list[Association]:
        """Edges touching a concept, in store order (`seq`), filtered by type, relation and currency."""

    @abstractmethod
    def find_entities(self, name: str) -> list[str]:
        """Concept ids whose name or alias equals `name` (case-insensitive, whitespace-collapsed)."""

    @abstractmethod
    def search_text(self, query: str, k: int = 10) -> list[tuple[str, float]]:
        """BM25 over concept texts: (concept id, score), best first."""

    @abstractmethod
    def search_vector(self, vector: np.ndarray, k: int = 10) -> list[tuple[str, float]]:
        """Nearest concepts by cosine similarity: (concept id, similarity), best first."""

    @abstractmethod
    def concepts(self, kind: ConceptKind | None = None) -> list[Concept]:
        """All concepts (optionally of one kind), in store order."""

    @abstractmethod
    def by_source(self, source_id: str) -> list[str]:
        """Ids of concepts and associations that cite `source_id`."""

    @abstractmethod
    def stats(self) -> dict[str, Any]: ...

    @abstractmethod
    def version(self) -> int:
        """A number that changes whenever the stored state changes (cheap; for caches above the store)."""

    @abstractmethod
    def checkpoint(self) -> None:
        """Write an atomic snapshot and truncate the WAL."""

    @abstractmethod
    def check(self) -> list[str]:
        """Verify every index against the primary data; return a list of problems (empty = healthy)."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
