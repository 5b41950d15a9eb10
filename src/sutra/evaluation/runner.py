"""Run an evaluation: learn each question's context into an isolated space, ask, score, time.

Spaces are throwaway `Sutra` instances in temporary directories with `fsync="off"` (durability is not what
is measured, and fsync would dominate the learning time), all sharing one embedder so the model is loaded
once. Which space answers which question, and what it learns first, comes from `spaces.plan_visits`.

A corpus-only set (`Dataset.ingest_only`) has nothing to ask: `run_eval` learns its whole corpus once into
one such space and records the learning counts and the store's size (`EvalRun.ingest`).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sutra.answer import UNKNOWN_TEXT, Answer
from sutra.config import Settings
from sutra.errors import SutraError
from sutra.evaluation.dataset import Dataset, Question
from sutra.evaluation.scoring import Score, score
from sutra.evaluation.spaces import plan_visits, resolve_mode

if TYPE_CHECKING:
    from sutra.embedding import Embedder
    from sutra.engine import Sutra

Progress = Callable[[int], None]
INGEST_BATCH_SIZE = 64  # documents per learning batch for corpus-only sets (the engine's default)


@dataclass(slots=True)
class Record:
    """One question's outcome, as written to the JSON report."""

    id: str
    query: str
    group: str | None
    rule: str
    correct: bool
    predicted: str
    answer: str
    status: str
    confidence: float
    sources: list[str]
    metrics: dict[str, float]
    latency_ms: float
    gold: list[str]
    error: str | None = None


@dataclass(slots=True)
class EvalRun:
    dataset: Dataset
    mode: str
    records: list[Record]  # in file order
    scores: list[Score]
    spaces: int = 0
    documents_learned: int = 0
    learn_seconds: float = 0.0
    seconds: float = 0.0
    config: dict[str, Any] = field(default_factory=dict)
    ingest: IngestResult | None = None  # set for corpus-only sets (mode "ingest")


@dataclass(slots=True)
class IngestResult:
    """What learning a whole corpus produced: the engine's learning counts and the store's size after."""

    documents: int
    statements: int
    entities: int  # distinct entity concepts in the store (the engine's per-batch counts overlap)
    associations: int  # facts and clause links extracted from the statements
    learn_seconds: float
    store: dict[str, Any]  # concepts, associations, vectors, vector_index of the space's store


@dataclass(slots=True)
class Hooks:
    """Progress callbacks: documents learned, questions answered (each gets the count just done)."""

    learned: Progress | None = None
    asked: Progress | None = None


def run_eval(
    dataset: Dataset,
    *,
    context: str = "auto",
    query_field: str | None = None,
    settings: Settings | None = None,
    embedder: Embedder | None = None,
    work_dir: str | Path | None = None,
    hooks: Hooks | None = None,
) -> EvalRun:
    """Answer and score every question of `dataset`; `work_dir` is where the temporary spaces live."""
    settings = settings or Settings()
    hooks = hooks or Hooks()
    mode = resolve_mode(context, dataset.questions)
    if embedder is None:
        from sutra.embedding import get_embedder  # loaded only when an evaluation actually runs

        embedder = get_embedder(settings)
    if dataset.ingest_only:
        return _run_ingest(dataset, settings, embedder, work_dir, hooks)
    run = EvalRun(dataset=dataset, mode=mode, records=[], scores=[])
    run.config = {"context": mode, "query_field": query_field, "fsync": "off", "max_hops": settings.max_hops}
    started = time.perf_counter()
    results: dict[int, tuple[Record, Score]] = {}
    spaces = _Spaces(settings, embedder, work_dir)
    try:
        if mode == "corpus":
            space = spaces.fresh()
            _learn(run, space, list(dataset.corpus), hooks)
            for index, question in enumerate(dataset.questions):
                results[index] = _ask(space, question, query_field)
                _tick(hooks.asked)
        else:
            space = None
            for visit in plan_visits(dataset.questions):
                if visit.fresh or space is None:
                    space = spaces.fresh()
                _learn(run, space, list(visit.learn), hooks)
                results[visit.index] = _ask(space, dataset.questions[visit.index], query_field)
                _tick(hooks.asked)
    finally:
        spaces.close()
    run.spaces = spaces.opened
    run.records = [results[i][0] for i in range(len(dataset.questions))]
    run.scores = [results[i][1] for i in range(len(dataset.questions))]
    run.seconds = time.perf_counter() - started
    return run


def _run_ingest(
    dataset: Dataset, settings: Settings, embedder: Embedder, work_dir: str | Path | None, hooks: Hooks
) -> EvalRun:
    run = EvalRun(dataset=dataset, mode="ingest", records=[], scores=[])
    run.config = {"context": "ingest", "fsync": "off", "batch_size": INGEST_BATCH_SIZE}
    started = time.perf_counter()
    spaces = _Spaces(settings, embedder, work_dir)
    try:
        space = spaces.fresh()
        docs = list(dataset.corpus.values())
        report = space.learn_documents(docs, batch_size=INGEST_BATCH_SIZE, progress=hooks.learned)
        stats = space.stats()
    finally:
        spaces.close()
    run.spaces = spaces.opened
    run.documents_learned = report.documents
    run.learn_seconds = report.seconds
    run.ingest = IngestResult(
        documents=report.documents,
        statements=report.statements,
        entities=int(stats.get("concepts_by_kind", {}).get("entity", report.entities)),
        associations=report.associations,
        learn_seconds=report.seconds,
        store={key: stats.get(key) for key in ("concepts", "associations", "vectors", "vector_index")},
    )
    run.seconds = time.perf_counter() - started
    return run


def _learn(run: EvalRun, space: Sutra, ids: list[str], hooks: Hooks) -> None:
    if not ids:
        return
    docs = [run.dataset.corpus[i] for i in ids]
    report = space.learn_documents(docs, progress=hooks.learned)
    run.documents_learned += len(docs)
    run.learn_seconds += report.seconds


def _ask(space: Sutra, question: Question, query_field: str | None) -> tuple[Record, Score]:
    query = question.query(query_field)
    error = None
    started = time.perf_counter()
    try:
        answer = space.ask(query)
    except SutraError as exc:
        # A refused question is a wrong answer, not the end of the run; the record keeps the reason.
        answer = Answer(query, UNKNOWN_TEXT, "unknown", 0.0, reason=str(exc))
        error = f"{type(exc).__name__}: {exc}"
    latency_ms = (time.perf_counter() - started) * 1000
    result = score(question, answer)
    record = Record(
        id=question.id,
        query=query,
        group=question.group,
        rule=result.rule,
        correct=result.correct,
        predicted=result.predicted,
        answer=answer.text,
        status=answer.status,
        confidence=round(answer.confidence, 4),
        sources=list(answer.sources),
        metrics={k: round(v, 4) for k, v in result.metrics.items()},
        latency_ms=round(latency_ms, 3),
        gold=[question.label] if question.label is not None else list(question.answers),
        error=error,
    )
    return record, result


def _tick(progress: Progress | None) -> None:
    if progress is not None:
        progress(1)


class _Spaces:
    """Opens one space at a time in its own temporary directory; opening the next closes the last."""

    def __init__(self, settings: Settings, embedder: Embedder, work_dir: str | Path | None) -> None:
        self._settings = settings
        self._embedder = embedder
        self._work_dir = Path(work_dir) if work_dir is not None else None
        self._current: tuple[Sutra, tempfile.TemporaryDirectory[str]] | None = None
        self.opened = 0

    def fresh(self) -> Sutra:
        from sutra.engine import Sutra  # the engine is heavy; the evaluation helpers do not need it

        self.close()
        if self._work_dir is not None:
            self._work_dir.mkdir(parents=True, exist_ok=True)
        tmp = tempfile.TemporaryDirectory(prefix="sutra-eval-", dir=self._work_dir)
        space = Sutra(tmp.name, settings=self._settings, embedder=self._embedder, fsync="off")
        self._current = (space, tmp)
        self.opened += 1
        return space

    def close(self) -> None:
        if self._current is not None:
            space, tmp = self._current
            self._current = None
            try:
                space.close()
            finally:
                tmp.cleanup()
