"""One space answers questions from many threads at once exactly as it answers them one at a time (the
server runs a space's asks side by side)."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sutra.engine import Sutra
from sutra.learning import nlp
from sutra.model import Document

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "babi"


def _story_and_questions(per_task: int = 4) -> tuple[list[Document], list[str]]:
    """The first questions of every bAbI task (where, who gave what, how many, yes/no, before ...) and
    the story sentences they rest on, all in one space."""
    with (DATA / "questions.jsonl").open(encoding="utf-8") as fh:
        every = [json.loads(line) for line in fh]
    seen: dict[object, int] = {}
    rows = []
    for row in every:
        task = row["meta"]["task"]
        if seen.get(task, 0) < per_task:
            seen[task] = seen.get(task, 0) + 1
            rows.append(row)
    wanted = {cid for row in rows for cid in row.get("context_ids") or []}
    with (DATA / "corpus.jsonl").open(encoding="utf-8") as fh:
        corpus = [json.loads(line) for line in fh]
    docs = [Document(id=r["id"], text=r["text"]) for r in corpus if r["id"] in wanted]
    return docs, list(dict.fromkeys(row["question"] for row in rows))


def _reading(answer: object) -> tuple[object, ...]:
    d = answer.to_dict()  # type: ignore[attr-defined]
    return (d["text"], d["status"], d["confidence"], d["sources"], d["paths"], d["reason"])


def test_answers_given_from_many_threads_equal_those_given_one_at_a_time(
    make_space: Callable[..., Sutra],
) -> None:
    docs, questions = _story_and_questions()
    assert docs and questions
    space = make_space()
    space.learn_documents(docs)
    nlp.clear_cache()
    alone = [_reading(space.ask(q)) for q in questions]
    nlp.clear_cache()  # so that the threads parse again, in shared batches
    with ThreadPoolExecutor(max_workers=8) as pool:
        together = [_reading(a) for a in pool.map(space.ask, questions)]
    assert together == alone
    assert sum(r[1] == "answered" for r in alone) >= len(questions) // 2  # real answers were compared
