"""The secondary indexes kept in step with the graph: entity names, BM25 keywords and vectors.

`Indexes` receives the graph's change notifications (`concept_put`, `concept_removed`), including the ones a
rollback makes, and can compare itself with indexes rebuilt from the primary records (`check`).

Vector changes are collected and applied by `flush()` (the store calls it once per batch, and once after
replaying the whole WAL): HNSW inserts one vector at a time far slower than a matrix at once, which
hnswlib also spreads over all cores. Entity and keyword changes are cheap and applied immediately.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import numpy as np

from sutra.model import Concept
from sutra.store.entity_index import EntityIndex
from sutra.store.keyword import KeywordIndex
from sutra.store.vectors import VectorIndex, make_index
from sutra.store.vectors.storage import decode_rows


class Indexes:
    def __init__(
        self, vector_backend: str = "auto", concepts: Callable[[], Iterable[Concept]] | None = None
    ) -> None:
        """With `concepts` (the live graph's concepts), `rebuild` leaves the keyword index to be built on
        first use: tokenising every statement is most of a large store's open time, and many sessions
        never run a keyword search."""
        self.vector_backend = vector_backend
        self.entities = EntityIndex()
        self._keywords: KeywordIndex | None = KeywordIndex()
        self._all_concepts = concepts
        self.vectors: VectorIndex | None = None  # created once the dimension is known
        self._pending: dict[str, np.ndarray | None] = {}  # concept id -> vector to index, or None to drop

    def rebuild(
        self,
        concepts: list[Concept],
        *,
        dim: int | None,
        directory: Path,
        lsn: int,
        loading: Future[Any] | None = None,
    ) -> bool:
        """Build every index from `concepts`; load the vector index saved at `lsn` if there is one
        (`loading`: that load, started earlier on a thread; see `hnsw.load_in_background`).

        Returns whether a saved vector index was used.
        """
        self.entities = EntityIndex.build(concepts)
        self._keywords = None if self._all_concepts is not None else KeywordIndex.build(concepts)
        with_vectors = [c for c in concepts if c.vector is not None]
        return self._load_vectors(
            [c.id for c in with_vectors],
            lambda: [c.vector for c in with_vectors],
            dim=dim,
            directory=directory,
            lsn=lsn,
            loading=loading,
        )

    def adopt(
        self,
        entities: dict[str, Any],
        vector_ids: Sequence[str],
        vectors: np.ndarray | None,
        *,
        dim: int | None,
        directory: Path,
        lsn: int,
        loading: Future[Any] | None = None,
    ) -> bool:
        """As `rebuild`, from what a format-4 snapshot saved: the entity index, and the ids and rows of its
        vector file (memory-mapped), so that no record needs decoding."""
        self.entities = EntityIndex.from_saved(entities)
        self._keywords = None
        return self._load_vectors(
            vector_ids, lambda: vectors, dim=dim, directory=directory, lsn=lsn, loading=loading
        )

    def _load_vectors(
        self,
        ids: Sequence[str],
        rows: Callable[[], Any],
        *,
        dim: int | None,
        directory: Path,
        lsn: int,
        loading: Future[Any] | None,
    ) -> bool:
        """Use the vector index saved at `lsn` if it holds exactly `ids`; else index `rows()`, one per id."""
        self.vectors, self._pending = None, {}
        if dim is None:
            return False
        self.vectors = make_index(self.vector_backend, dim, directory=directory, lsn=lsn, loading=loading)
        if len(self.vectors) and self.vectors.ids() == set(ids):
            return True
        self.vectors = make_index(self.vector_backend, dim)  # nothing saved, or it does not match: rebuild
        if ids:
            # stored vectors may be compact (float16, int8): the index gets float32 rows
            self.vectors.upsert(list(ids), decode_rows(rows()))
        return False

    @property
    def keywords(self) -> KeywordIndex:
        if self._keywords is None:  # changes made meanwhile are in the graph, so the build includes them
            self._keywords = KeywordIndex.build(list(self._all_concepts() if self._all_concepts else ()))
        return self._keywords

    def ensure_vectors(self, dim: int) -> None:
        if self.vectors is None:
            self.vectors = make_index(self.vector_backend, dim)

    # ---- graph hooks ----

    def concept_put(self, old: Concept | None, new: Concept) -> None:
        self.entities.update(old, new)
        if self._keywords is not None:
            self._keywords.concept_put(old, new)
        if new.vector is not None and (old is None or old.vector is not new.vector):
            self._pending[new.id] = new.vector
        elif new.vector is None and old is not None and old.vector is not None:
            self._pending[new.id] = None  # only a rollback restores a concept to "no vector"

    def concept_removed(self, old: Concept) -> None:
        self.entities.update(old, None)
        if self._keywords is not None:
            self._keywords.concept_removed(old)
        if old.vector is not None:
            self._pending[old.id] = None

    def flush(self) -> None:
        """Apply the collected vector changes: removals one by one, insertions as one matrix."""
        pending, self._pending = self._pending, {}
        if self.vectors is None or not pending:
            return
        for concept_id, vector in pending.items():
            if vector is None:
                self.vectors.remove(concept_id)
        added = [(concept_id, vector) for concept_id, vector in pending.items() if vector is not None]
        if added:
            self.vectors.upsert([concept_id for concept_id, _ in added], decode_rows([v for _, v in added]))

    # ---- integrity ----

    def check(self, concepts: Iterable[Concept], dim: int | None) -> list[str]:
        concepts = list(concepts)
        problems = [f"{len(self._pending)} vector change(s) were never applied"] if self._pending else []
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
