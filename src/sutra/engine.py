"""`Sutra`: one knowledge base (a space) in one data directory — learn text, ask questions, forget sources.

The CLI, the evaluation harness and (later) the HTTP server all call this object; it owns the store, the
learner, the reasoner and the audit log, and nothing below it knows about them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sutra.answer import Answer
from sutra.audit import AuditLog
from sutra.config import Settings
from sutra.embedding import get_embedder
from sutra.embedding.base import Embedder
from sutra.errors import InputError
from sutra.learning.pipeline import Learner
from sutra.learning.writer import BatchWriter
from sutra.model import ConceptKind, Document, ForgetSource, content_id
from sutra.reasoning.reasoner import Reasoner
from sutra.store import open_store

MAX_TEXT_CHARS = 5_000_000


@dataclass(slots=True)
class LearnReport:
    documents: int = 0
    statements: int = 0
    entities: int = 0
    associations: int = 0
    seconds: float = 0.0

    def add(self, other: LearnReport) -> None:
        self.documents += other.documents
        self.statements += other.statements
        self.entities += other.entities
        self.associations += other.associations
        self.seconds += other.seconds


def _batches(docs: Iterable[Document], size: int) -> Iterator[list[Document]]:
    batch: list[Document] = []
    for doc in docs:
        batch.append(doc)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _check_document(doc: Document) -> None:
    if not isinstance(doc.text, str) or not doc.text.strip():
        raise InputError(f"document {doc.id!r} has no text; give it some words to learn")
    if len(doc.text) > MAX_TEXT_CHARS:
        raise InputError(
            f"document {doc.id!r} is {len(doc.text):,} characters; split it below {MAX_TEXT_CHARS:,}"
        )
    if not doc.id or not doc.id.strip():
        raise InputError("a document needs a non-empty source id")


class Sutra:
    """An embedded knowledge base. Use as a context manager, or call `close()` to release the directory."""

    def __init__(
        self,
        data_dir: str | Path | None = None,
        *,
        settings: Settings | None = None,
        embedder: Embedder | None = None,
        fsync: str | None = None,
    ) -> None:
        settings = settings or Settings()
        if data_dir is not None:
            settings = settings.with_(data_dir=Path(data_dir))
        if fsync is not None:
            settings = settings.with_(fsync=fsync)
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.store = open_store(settings.data_dir, settings)
        self._embedder = embedder
        self.learner = Learner()
        self.audit_log = AuditLog(settings.data_dir)
        self.reasoner = Reasoner(self.store, self._embed_one, settings)

    # ---- lifecycle ----

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Sutra:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = get_embedder(self.settings)
        return self._embedder

    def _embed_one(self, text: str) -> np.ndarray:
        return self.embedder.embed_one(text)

    # ---- learning ----

    def learn(self, text: str, *, source: str | None = None, time: str | None = None) -> LearnReport:
        """Learn one text. Without a source id, one is derived from the text, so citations stay stable."""
        if not isinstance(text, str) or not text.strip():
            raise InputError("nothing to learn: the text is empty")
        doc = Document(id=source or content_id("text", text), text=text, time=time)
        return self.learn_documents([doc])

    def learn_documents(
        self, docs: Iterable[Document], *, batch_size: int = 64, progress: Callable[[int], None] | None = None
    ) -> LearnReport:
        """Learn documents in order; each batch is embedded together and committed as one durable write."""
        report = LearnReport()
        for batch in _batches(docs, batch_size):
            for doc in batch:
                _check_document(doc)
            report.add(self._learn_batch(batch))
            if progress:
                progress(len(batch))
        return report

    def _learn_batch(self, docs: list[Document]) -> LearnReport:
        started = time.perf_counter()
        statements = self.learner.extract(docs)
        vectors = self.embedder.embed([s.text for s in statements]) if statements else None
        mutations = BatchWriter(self.store).add(statements, vectors)
        self.store.apply(mutations)
        return LearnReport(
            documents=len(docs),
            statements=len(statements),
            entities=len({e.key for s in statements for e in s.entities}),
            associations=sum(len(s.facts) + len(s.links) for s in statements),
            seconds=time.perf_counter() - started,
        )

    # ---- asking ----

    def ask(self, question: str) -> Answer:
        if not isinstance(question, str) or not question.strip():
            raise InputError("the question is empty; ask something like 'Where is Mary?'")
        started = time.perf_counter()
        answer = self.reasoner.answer(question)
        self.audit_log.record(answer, (time.perf_counter() - started) * 1000)
        return answer

    def audit(self, audit_id: str) -> dict[str, Any]:
        return self.audit_log.get(audit_id)

    # ---- forgetting and inspection ----

    def forget(self, source_id: str) -> int:
        """Remove everything derived only from `source_id`; returns how many concepts and edges went."""
        affected = self.store.by_source(source_id)
        if affected:
            self.store.apply([ForgetSource(source_id)])
        return len(affected)

    def stats(self) -> dict[str, Any]:
        stats = dict(self.store.stats())
        stats["statements"] = len(self.store.concepts(ConceptKind.STATEMENT))
        stats["data_dir"] = str(self.settings.data_dir)
        return stats
