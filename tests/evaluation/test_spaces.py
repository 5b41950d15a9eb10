from __future__ import annotations

from pathlib import Path

import pytest

from sutra.errors import InputError
from sutra.evaluation.dataset import Question, load_dataset
from sutra.evaluation.spaces import plan_visits, resolve_mode


def q(qid: str, context: list[str]) -> Question:
    return Question(id=qid, question="?", answers=[], context_ids=context)


def test_extending_context_reuses_the_space_and_learns_only_new_ids() -> None:
    visits = plan_visits([q("1", ["a", "b"]), q("2", ["a", "b", "c", "d"]), q("3", ["a", "b", "c", "d"])])
    assert [(v.index, v.fresh, v.learn) for v in visits] == [
        (0, True, ("a", "b")),
        (1, False, ("c", "d")),
        (2, False, ()),
    ]


def test_a_context_that_does_not_extend_gets_a_fresh_space() -> None:
    visits = plan_visits([q("1", ["a", "b"]), q("2", ["a", "c"]), q("3", ["b", "a"])])
    assert [v.fresh for v in visits] == [True, True, True]
    assert visits[1].learn == ("a", "c")


def test_interleaved_groups_are_visited_together_but_every_question_once() -> None:
    questions = [q("1", ["t1"]), q("2", ["t2"]), q("3", ["t1"]), q("4", ["t2", "x"])]
    visits = plan_visits(questions)
    assert [v.index for v in visits] == [0, 2, 1, 3]
    assert [v.fresh for v in visits] == [True, False, True, False]


def test_babi_learns_every_statement_exactly_once(shared_data: Path) -> None:
    ds = load_dataset(shared_data / "babi", tasks=["1"])
    visits = plan_visits(ds.questions)
    learned = [i for v in visits for i in v.learn]
    assert len(learned) == len(set(learned)) == 2000  # task 1: 200 stories, 2000 statements
    assert sum(v.fresh for v in visits) == 200
    assert sorted(v.index for v in visits) == list(range(len(ds.questions)))


def test_proofwriter_shares_one_space_per_theory(shared_data: Path) -> None:
    ds = load_dataset(shared_data / "proofwriter")
    visits = plan_visits(ds.questions)
    assert sum(v.fresh for v in visits) == len({q.meta["theory"] for q in ds.questions})


def test_mode_resolution() -> None:
    with_context = [q("1", ["a"])]
    mixed = [q("1", ["a"]), q("2", [])]
    assert resolve_mode("auto", with_context) == "question"
    assert resolve_mode("auto", mixed) == "corpus"
    assert resolve_mode("corpus", with_context) == "corpus"
    with pytest.raises(InputError, match="context_ids"):
        resolve_mode("question", mixed)
    with pytest.raises(InputError, match="--context"):
        resolve_mode("everything", with_context)
