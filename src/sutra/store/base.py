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

from sutra.errors import InputError
from sutra.model import Association, AssociationType, Concept, ConceptKind, Mutation

Direction = Literal["out", "in", "both"]
# how many partial paths `find_paths` may expand before it stops with what it has
PATH_SEARCH_BUDGET = 10_000


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

    # ---- composite reads: built on the methods above; a remote store runs them server-side ----

    def find_paths(
        self, start: str, goal: str, max_depth: int = 3, *, current_only: bool = True, limit: int = 10
    ) -> list[list[Association]]:
        """Simple paths of outgoing edges from `start` to `goal`, at most `max_depth` edges long: shortest
        first, then in store order; at most `limit` of them. The walk stops after expanding
        `PATH_SEARCH_BUDGET` partial paths, so a dense graph cannot make it run without end."""
        for name, value in (("max_depth", max_depth), ("limit", limit)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InputError(f"find_paths: {name} must be a whole number of at least 1, got {value!r}")
        found: list[list[Association]] = []
        frontier: list[list[Association]] = [[]]
        expanded = 0
        for _ in range(max_depth):
            grown: list[list[Association]] = []
            for path in frontier:
                tip = path[-1].target if path else start
                seen = {start, *(a.target for a in path)}
                for a in self.neighbors(tip, "out", current_only=current_only):
                    if a.target == goal:
                        found.append([*path, a])
                        if len(found) >= limit:
                            return found
                    elif a.target not in seen:
                        grown.append([*path, a])
                expanded += 1
                if expanded >= PATH_SEARCH_BUDGET:
                    return found
            frontier = grown
        return found

    def time_range(
        self, since: str | None = None, until: str | None = None, kind: ConceptKind | None = None
    ) -> list[Concept]:
        """Concepts whose event time (`valid_from`) lies in [since, until], oldest first. ISO-8601 strings
        of one shape order like the times they name, and a date bound compares by prefix, so
        `until="2024-03-01"` keeps that whole day."""

        def inside(when: str | None) -> bool:
            return (
                when is not None
                and (not since or when[: len(since)] >= since)
                and (not until or when[: len(until)] <= until)
            )

        hits = [c for c in self.concepts(kind) if inside(c.valid_from)]
        return sorted(hits, key=lambda c: (c.valid_from, c.seq))

    def health(self) -> dict[str, Any]:
        """A cheap liveness answer: {"status": "ok", "version": ...}; a remote store adds the server's."""
        return {"status": "ok", "version": self.version()}

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
