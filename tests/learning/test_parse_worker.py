"""Questions parsed in the child process, or several at once, read exactly as parsed alone in process."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import islice
from pathlib import Path
from typing import Any

import pytest

from sutra.learning import nlp, parse_worker

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"

QUESTIONS = [
    "Who owns the ledger database?",
    "What did Priya Nair do on 4 March 2024?",
    "Is the ledger database in Ireland?",
    "Which process are the students using when they group the leaves by shape?",
    "How many objects is Daniel carrying?",
    "the water will be water vapor when the temperature is 120 c",
    "Where was the apple before the kitchen?",
    "What happens if the disk is full?",
]


def _reading(doc: Any) -> list[object]:
    """Everything the reasoner reads from a parse."""
    tokens = [(t.text, t.whitespace_, t.lemma_, t.pos_, t.tag_, t.dep_, t.head.i) for t in doc]
    entities_and_lexemes = [(t.ent_type_, t.ent_iob_, t.is_sent_start, t.lower_, t.is_punct) for t in doc]
    return [
        doc.text,
        doc.has_annotation("ENT_IOB"),
        tokens,
        entities_and_lexemes,
        [s.text for s in doc.sents],
        [c.text for c in doc.noun_chunks],
        [(e.text, e.label_) for e in doc.ents],
    ]


def _texts(name: str, field: str, count: int) -> list[str]:
    with (DATA / name / "questions.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line)[field] for line in islice(fh, count)]


def test_a_packed_parse_unpacks_to_the_same_reading_on_real_questions() -> None:
    # how the worker's parses travel; awkward spacing, dates, names and numbers included
    texts = [
        *QUESTIONS,
        *_texts("entailmentbank", "question", 150),
        *_texts("babi", "question", 100),
        *_texts("hotpot24", "question", 100),
        "Mary  went to the kitchen on 3 May 2024 .  Then?",
        " leading space and trailing ",
    ]
    vocab = nlp.load().vocab
    for doc in nlp.parse_in_process(texts):
        assert _reading(parse_worker.unpack(parse_worker.pack(doc), vocab)) == _reading(doc), doc.text


@pytest.fixture
def worker() -> Iterator[None]:
    nlp.clear_cache()
    assert nlp.start_worker()
    yield
    nlp.stop_worker()
    nlp.clear_cache()


def test_a_parse_from_the_worker_reads_like_one_in_process(worker: None) -> None:
    for question in QUESTIONS:
        (alone,) = nlp.parse_in_process([question])
        assert _reading(nlp.parse_one(question)) == _reading(alone), question


def test_questions_asked_at_once_from_many_threads_each_get_their_own_parse(worker: None) -> None:
    texts = [f"{q} ({i})" for i in range(6) for q in QUESTIONS]  # distinct texts: no cache hits
    with ThreadPoolExecutor(max_workers=12) as pool:
        parsed = list(pool.map(nlp.parse_one, texts))
    for text, doc in zip(texts, parsed, strict=True):
        assert doc.text == text
        assert _reading(doc) == _reading(nlp.parse_in_process([text])[0])


def test_in_process_batches_from_many_threads_read_like_single_parses() -> None:
    nlp.clear_cache()
    texts = [f"{q} [{i}]" for i in range(4) for q in QUESTIONS]
    with ThreadPoolExecutor(max_workers=8) as pool:
        parsed = list(pool.map(nlp.parse_one, texts))
    assert [_reading(d) for d in parsed] == [_reading(nlp.parse_in_process([t])[0]) for t in texts]


def test_when_the_worker_dies_questions_are_parsed_in_process(worker: None) -> None:
    running = nlp._worker
    assert running is not None
    running._process.kill()
    running._process.wait()
    doc = nlp.parse_one("Who owns the payroll database after the crash?")
    assert _reading(doc) == _reading(nlp.parse_in_process([doc.text])[0])
    assert nlp._worker is None  # given up on; later parses stay in process


def test_a_stalled_worker_is_stopped_and_its_batch_reported() -> None:
    """A worker that stops answering (here: SIGSTOP) must not hold its askers for ever."""
    stalled = parse_worker.ParseWorker(reply_timeout_s=1.0)
    try:
        os.kill(stalled._process.pid, signal.SIGSTOP)
        with pytest.raises(parse_worker.ParseWorkerError, match="did not answer"):
            stalled.parse(["Who owns the ledger database?"], nlp.load().vocab)
        assert not stalled.alive  # killed: `nlp` then parses in process, as when a worker dies
    finally:
        stalled.close()
