"""`Sutra`: one knowledge base (a space) in one data directory — learn text, ask questions, forget sources.

The CLI, the evaluation harness and (later) the HTTP server all call this object; it owns the store, the
learner, the reasoner and the audit log, and nothing below it knows about them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sutra import validation
from sutra.answer import Answer
from sutra.audit import AuditLog
from sutra.config import Settings
from sutra.embedding import get_embedder
from sutra.embedding.base import Embedder
from sutra.errors import InputError, NotFoundError
from sutra.learning.pipeline import Learner, Statement
from sutra.learning.writer import BatchWriter
from sutra.model import Concept, ConceptKind, Document, ForgetSource, content_id
from sutra.reasoning import contradictions, filters, temporal
from sutra.reasoning.claims import RESOLUTIONS
from sutra.reasoning.contradictions import Contradiction
from sutra.reasoning.explain import name_of
from sutra.reasoning.reasoner import Reasoner
from sutra.store import open_store
from sutra.validation import MAX_QUESTION_CHARS as MAX_QUESTION_CHARS
from sutra.validation import MAX_TEXT_CHARS as MAX_TEXT_CHARS

log = logging.getLogger(__name__)


@dataclass(slots=True)
class LearnReport:
    documents: int = 0
    statements: int = 0
    entities: int = 0
    associations: int = 0
    seconds: float = 0.0
    # contradictions among the current facts of the subjects just learned about (descriptions)
    contradictions: list[str] = field(default_factory=list)

    def add(self, other: LearnReport) -> None:
        self.documents += other.documents
        self.statements += other.statements
        self.entities += other.entities
        self.associations += other.associations
        self.seconds += other.seconds
        self.contradictions += [c for c in other.contradictions if c not in self.contradictions]


_blas_limit: Any = None  # the threadpoolctl limit in force, kept so it is not undone


def _limit_blas_threads(threads: int) -> None:
    """Cap numpy's BLAS pool for the whole process (the first engine's setting holds). OpenBLAS starts a
    thread per core, and after each matrix product its threads spin; Sutra's products are small (a query
    against the exact vector index), so they gain nothing and take the cores parsing and embedding need.
    Measured on the 2-core machine, asks in process: 23.9 -> 13.9 ms of CPU each with one thread."""
    global _blas_limit
    if threads and _blas_limit is None:
        from threadpoolctl import threadpool_limits

        _blas_limit = threadpool_limits(limits=threads, user_api="blas")


def _batches(docs: Iterable[Document], size: int) -> Iterator[list[Document]]:
    batch: list[Document] = []
    for doc in docs:
        batch.append(doc)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class Sutra:
    """An embedded knowledge base. Use as a context manager, or call `close()` to release the directory.

    Bad arguments (wrong types, empty or over-long text, invalid UTF-8, bad dates) raise `InputError`
    before anything is changed; see `sutra.validation` for the limits.
    """

    def __init__(
        self,
        data_dir: str | Path | None = None,
        *,
        settings: Settings | None = None,
        embedder: Embedder | None = None,
        fsync: str | None = None,
    ) -> None:
        directory = validation.data_dir(data_dir)
        settings = settings or Settings()
        if directory is not None:
            settings = settings.with_(data_dir=directory)
        if fsync is not None:
            settings = settings.with_(fsync=fsync)
        self.settings = settings
        _limit_blas_threads(settings.blas_threads)
        if settings.data_dir.exists() and not settings.data_dir.is_dir():
            raise InputError(f"{settings.data_dir} is a file, not a data directory; choose a folder")
        try:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError) as exc:  # a file on the way to it
            raise InputError(f"cannot create the data directory {settings.data_dir}: {exc}") from None
        self.store = open_store(settings.data_dir, settings)
        self._embedder = embedder
        self.learner = Learner()
        self.audit_log = AuditLog(settings.data_dir, fsync=settings.fsync != "off")
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
        """Learn one text. Without a source id, one is derived from the text, so citations stay stable.
        `time` is the text's date as ISO-8601 ("2024-05-01"), the anchor for "yesterday" and the like."""
        validation.text(text)
        source_id = content_id("text", text) if source is None else validation.source_id(source)
        doc = Document(id=source_id, text=text, time=validation.event_time(time))
        return self.learn_documents([doc])

    def learn_documents(
        self, docs: Iterable[Document], *, batch_size: int = 64, progress: Callable[[int], None] | None = None
    ) -> LearnReport:
        """Learn documents in order; each batch is embedded together and committed as one durable write.

        Every document of the call is checked first (the iterable is read into a list once), so a bad
        document means nothing of the call is learned. A failure while learning (a full disk, say) leaves
        the batches before it committed.
        """
        report = LearnReport()
        batches = list(_batches(validation.documents(docs), batch_size))
        # Parsing the next batch overlaps embedding and committing this one: the parser is mostly
        # single-threaded Python, the embedder runs native code without the GIL, so two cores both work.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sutra-parse") as parser:
            upcoming = parser.submit(self.learner.extract, batches[0]) if batches else None
            for i, batch in enumerate(batches):
                started = time.perf_counter()
                statements = upcoming.result() if upcoming else []
                upcoming = (
                    parser.submit(self.learner.extract, batches[i + 1]) if i + 1 < len(batches) else None
                )
                report.add(self._commit_batch(batch, statements, started))
                if progress:
                    progress(len(batch))
        return report

    def _commit_batch(self, docs: list[Document], statements: list[Statement], started: float) -> LearnReport:
        vectors = self.embedder.embed([s.text for s in statements]) if statements else None
        mutations = BatchWriter(self.store).add(statements, vectors)
        self.store.apply(mutations)
        touched = list(dict.fromkeys(f.subject.id for s in statements for f in s.facts))
        return LearnReport(
            documents=len(docs),
            statements=len(statements),
            entities=len({e.key for s in statements for e in s.entities}),
            associations=sum(len(s.facts) + len(s.links) for s in statements),
            seconds=time.perf_counter() - started,
            contradictions=[c.describe() for c in contradictions.find(self.store, touched)],
        )

    # ---- asking ----

    def ask(self, question: str, *, resolve: str = "recent") -> Answer:
        """Answer from stored facts only, and append an audit record. When a yes/no claim and its negation
        are both stated, `resolve` picks the side: "recent" (default), "confidence" or "sources".

        If the record cannot be written (disk full, read-only directory), the answer is still returned,
        with `audit_id` empty and the reason in `answer.plan["audit_error"]`; a warning is logged.
        """
        validation.question(question)
        if resolve not in RESOLUTIONS:  # checked here: only some questions reach the claim checker
            raise InputError(f"resolve must be one of {', '.join(RESOLUTIONS)}, got {resolve!r}")
        started = time.perf_counter()
        answer = self.reasoner.answer(question, resolve=resolve)
        try:
            self.audit_log.record(answer, (time.perf_counter() - started) * 1000)
        except OSError as exc:
            answer.audit_id = ""
            reason = f"the audit record could not be written to {self.audit_log.path}: {exc}"
            answer.plan["audit_error"] = reason
            log.warning("%s; the answer was returned without an audit id", reason)
        return answer

    def audit(self, audit_id: str) -> dict[str, Any]:
        """The stored record of one answer; `NotFoundError` if there is none with that id."""
        return self.audit_log.get(validation.audit_id(audit_id))

    # ---- forgetting and inspection ----

    def forget(self, source_id: str) -> int:
        """Remove `source_id` everywhere; whatever no other source supports is deleted.

        Returns the number of concepts and associations that cited the source (those still supported by
        another source stay, without this one). Raises `NotFoundError` if nothing cites it.
        """
        validation.source_id(source_id)
        affected = self.store.by_source(source_id)
        if not affected:
            raise NotFoundError(
                f"no learned item cites source {source_id!r}; check the id "
                "(answers list their sources; ingested files use '<file>:<offset or row>')"
            )
        self.store.apply([ForgetSource(source_id)])
        return len(affected)

    def contradictions(self, subject: str | None = None) -> list[Contradiction]:
        """Current facts that cannot all hold (negation, one-value relations, opposite properties, numbers),
        for one subject (by name) or for everything, each side with its sources."""
        ids = None if subject is None else self._entities_named(validation.text(subject, "subject"))
        if ids == []:
            raise NotFoundError(_unknown_subject(subject))
        return contradictions.find(self.store, ids)

    def find(self, limit: int = 100, **conditions: Any) -> list[Concept]:
        """Concepts by semantic filters: `semantic_type`, `domain`, `since`/`until` (ISO-8601 event time),
        `causal_role` ("cause" | "effect"), `min_confidence`; see `reasoning.filters`."""
        unknown = set(conditions) - set(filters.Filter.__dataclass_fields__)
        if unknown:
            known = ", ".join(filters.Filter.__dataclass_fields__)
            raise InputError(f"unknown filter {', '.join(sorted(unknown))}; use {known}")
        return filters.find(self.store, filters.Filter(**conditions), limit=limit)

    def timeline(self, subject: str) -> list[dict[str, Any]]:
        """What was stated about `subject` (a name), every relation, oldest first: each entry with the
        relation, the value, the statement, its sources and whether it still holds."""
        ids = self._entities_named(validation.text(subject, "subject"))
        if not ids:
            raise NotFoundError(_unknown_subject(subject))
        return [
            {
                "relation": e.edge.relation,
                "value": name_of(self.store, e.value),
                "negated": e.edge.negated,
                "statement": e.statement.text if e.statement else "",
                "current": e.edge.current,
                "sources": e.statement.sources[-1:] if e.statement else e.edge.sources[-1:],
            }
            for subject_id in ids
            for e in temporal.entity_timeline(self.store, subject_id)
        ]

    def _entities_named(self, name: str) -> list[str]:
        """Entities by name; "the ledger database" finds "ledger database" (names are kept without it)."""
        ids = self.store.find_entities(name)
        words = name.split(maxsplit=1)
        if not ids and len(words) == 2 and words[0].lower() in ("the", "a", "an"):
            ids = self.store.find_entities(words[1])
        return ids

    def stats(self) -> dict[str, Any]:
        stats = dict(self.store.stats())
        by_kind = stats.get("concepts_by_kind", {})
        stats["statements"] = by_kind.get(ConceptKind.STATEMENT.value, 0)
        stats["rules"] = by_kind.get(ConceptKind.RULE.value, 0)
        return stats


def _unknown_subject(subject: object) -> str:
    return f"nothing is known about {subject!r}; `sutra find --type entity` lists the names known"
