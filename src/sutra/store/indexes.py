"""The secondary indexes kept in step with the graph: entity names, BM25 keywords and vectors.

`Indexes` receives the graph's change notifications (`concept_put`, `concept_removed`), including the ones a
rollback makes, and can compare itself with indexes rebuilt from the primary records (`check`).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from sutra.model import Concept
from sutra.store.entity_index import EntityIndex
from sutra.store.keyword import KeywordIndex
from sutra.store.vectors import VectorIndex, make_index


class Indexes:
    def __init__(self, vector_backend: str = "auto") -> None:
        self.vector_backend = vector_backend
        self.entities = EntityIndex()
        self.keywords = KeywordIndex()
        self.vectors: VectorIndex | None = None  # created once the dimension is known

    def rebuild(self, concepts: list[Concept], *, dim: int | None, directory: Path, lsn: int) -> bool:
        """Build every index from `concepts`; load the vector index saved at `lsn` if there is one.

        Returns whether a saved vector index was used.
        """
        self.entities = EntityIndex.build(concepts)
        self.keywords = KeywordIndex.build(concepts)
        self.vectors = None
        if dim is None:
            return False
        self.vectors = make_index(self.vector_backend, dim, directory=directory, lsn=lsn)
        with_vectors = [c for c in concepts if c.vector is not None]
        if len(self.vectors) and self.vectors.ids() == {c.id for c in with_vectors}:
            return True
        self.vectors = make_index(self.vector_backend, dim)  # nothing saved, or it does not match: rebuild
        if with_vectors:
            self.vectors.upsert([c.id for c in with_vectors], np.stack([c.vector for c in with_vectors]))
        return False

    def ensure_vectors(self, dim: int) -> None:
        if self.vectors is None:
            self.vectors = make_index(self.vector_backend, dim)

    # ---- graph hooks ----

    def concept_put(self, old: Concept | None, new: Concept) -> None:
        self.entities.update(old, new)
        self.keywords.concept_put(old, new)
        if self.vectors is not None:
            if new.vector is not None and (old is None or old.vector is not new.vector):
                self.vectors.upsert([new.id], new.vector[None, :])
            elif new.vector is None and old is not None and old.vector is not None:
                self.vectors.remove(new.id)  # only a rollback restores a concept to "no vector"

    def concept_removed(self, old: Concept) -> None:
        self.entities.update(old, None)
        self.keywords.concept_removed(old)
        if self.vectors is not None:
            self.vectors.remove(old.id)

    # ---- integrity ----

    def check(self, concepts: Iterable[Concept], dim: int | None) -> list[str]:
        concepts = list(concepts)
        problems = []
        if self.entities.snapshot() != EntityIndex.build(concepts).snapshot():
            problems.append("entity index differs from the entity concepts' names and aliases")
        if self.keywords.state() != KeywordIndex.build(concepts).state():
            problems.append("keyword index differs from the statement and rule texts")
        with_vectors = {c.id: c.vector for c in concepts if c.vector is not None}
        indexed = self.vectors.ids() if self.vectors is not None else set()
        if indexed != set(with_vectors):
            missing, extra = set(with_vectors) - indexed, indexed - set(with_vectors)
            problems.append(f"vector index: {len(missing)} vector(s) missing, {len(extra)} stale id(s)")
        wrong = sorted(cid for cid, v in with_vectors.items() if v.shape != (dim,))
        if wrong:
            problems.append(
                f"{len(wrong)} vector(s) do not have the store's dimension {dim}, e.g. {wrong[0]}"
            )
        return problems
