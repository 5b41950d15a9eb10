from __future__ import annotations

from pathlib import Path

import pytest

from sutra.answer import Answer
from sutra.evaluation.dataset import Question, load_dataset
from sutra.evaluation.scoring import aggregate, normalize, score, support_scores, token_f1


def answered(text: str, **kw: object) -> Answer:
    return Answer(question="q", text=text, status="answered", confidence=0.9, **kw)  # type: ignore[arg-type]


UNKNOWN = Answer(question="q", text="I don't know", status="unknown", confidence=0.0, reason="no facts")


def test_normalisation_matches_the_squad_rule() -> None:
    assert normalize("The  Bathroom!") == "bathroom"
    assert normalize("an apple, a pear") == "apple pear"
    assert token_f1("the red barn", ["red house"]) == pytest.approx(0.5)


def test_exact_match_and_f1(shared_data: Path) -> None:
    q = load_dataset(shared_data / "babi", limit=1).questions[0]  # "Where is Mary?" -> bathroom
    assert score(q, answered("the bathroom")).correct
    wrong = score(q, answered("kitchen"))
    assert not wrong.correct and wrong.metrics["exact_match"] == 0.0
    assert score(q, UNKNOWN).metrics["f1"] == 0.0


def test_label_questions_map_unknown_answers_to_unknown(shared_data: Path) -> None:
    questions = load_dataset(shared_data / "proofwriter").questions
    unknown_q = next(q for q in questions if q.label == "unknown")
    true_q = next(q for q in questions if q.label == "true")
    assert score(unknown_q, UNKNOWN).correct
    assert not score(true_q, UNKNOWN).correct
    assert score(true_q, answered("yes, it follows", label="true")).correct
    # without a label the normalised text decides
    assert score(true_q, answered("True.")).correct


def test_babi_yes_no_maybe(shared_data: Path) -> None:
    questions = load_dataset(shared_data / "babi", tasks=["10"]).questions
    maybe = next(q for q in questions if q.label == "maybe")
    assert score(maybe, answered("maybe", label="maybe")).correct
    assert not score(maybe, UNKNOWN).correct  # "maybe" is an answer, "I don't know" is not


SET = {"answer_kind": "set"}


def test_set_answers_ignore_order_and_nothing_is_empty() -> None:
    q = Question(id="q", question="What is he carrying?", answers=["apple", "milk"], meta=SET)
    assert score(q, answered("milk and apple", items=["milk", "apple"])).correct
    assert score(q, answered("milk, apple")).correct  # items parsed from the text
    assert not score(q, answered("milk", items=["milk"])).correct
    empty = Question(id="e", question="What is he carrying?", answers=["nothing"], meta=SET)
    assert score(empty, answered("nothing", items=[])).correct
    assert score(empty, answered("nothing")).correct
    assert not score(empty, UNKNOWN).correct


def test_ordered_answers_need_the_same_order(shared_data: Path) -> None:
    q = load_dataset(shared_data / "babi", tasks=["19"], limit=1).questions[0]
    gold = q.answers
    assert len(gold) == 2
    assert score(q, answered(",".join(gold), items=gold)).correct
    assert score(q, answered(f"{gold[0]}, {gold[1]}")).correct
    if gold[0] != gold[1]:
        assert not score(q, answered(",".join(reversed(gold)), items=list(reversed(gold)))).correct


def test_support_precision_recall() -> None:
    q = Question(id="q", question="?", answers=["x"], support=["a", "b"])
    s = support_scores(q, ["a", "c"])
    assert s["support_precision"] == pytest.approx(0.5)
    assert s["support_recall"] == pytest.approx(0.5)
    assert s["support_f1"] == pytest.approx(0.5)
    assert s["support_all_correct"] == 0.0
    assert support_scores(q, ["b", "a"])["support_all_correct"] == 1.0
    assert support_scores(q, [])["support_recall"] == 0.0


def test_support_alternatives_count_as_gold(shared_data: Path) -> None:
    ds = load_dataset(shared_data / "entailmentbank")
    q = next(q for q in ds.questions if q.meta.get("support_alternatives"))
    gold, alternatives = next(iter(q.meta["support_alternatives"].items()))
    cited = [alternatives[0] if i == gold else i for i in q.support]
    assert support_scores(q, cited)["support_all_correct"] == 1.0


def test_aggregate_means_and_label_report(shared_data: Path) -> None:
    questions = [q for q in load_dataset(shared_data / "proofwriter").questions][:30]
    answers = [UNKNOWN] * len(questions)
    scores = [score(q, a) for q, a in zip(questions, answers, strict=True)]
    metrics = aggregate(scores, [q.label for q in questions])
    expected = sum(q.label == "unknown" for q in questions) / len(questions)
    assert metrics["accuracy"] == pytest.approx(expected)
    assert metrics["label_accuracy"] == pytest.approx(expected)
    assert metrics["recall_unknown"] == 1.0
    assert metrics["recall_true"] == 0.0
    assert 0.0 < metrics["label_macro_f1"] < 1.0
    assert metrics["answered"] == 0.0
