"""Short answers read from evidence sentences, on real HotpotQA paragraphs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.conftest import read_jsonl

from sutra.engine import Sutra
from sutra.model import Document
from sutra.reasoning.spans import asked_kinds


def test_the_asked_kind_comes_from_the_question_form() -> None:
    assert asked_kinds("When did the tour begin?") == {"DATE"}
    assert asked_kinds("What is the date of birth of the inventor?") == {"DATE"}
    assert "GPE" in (asked_kinds("Where was the song recorded?") or set())
    assert "PERSON" in (asked_kinds("Who directed the film?") or set())
    assert "CARDINAL" in (asked_kinds("How many people did the ghetto hold?") or set())
    assert asked_kinds("Is the disk full?") is None
    assert asked_kinds("Who is Dana Whitfield?") is None  # asks what she is, not for another name


def test_a_number_question_is_answered_with_the_number(
    make_space: Callable[..., Sutra], shared_data: Path
) -> None:
    question = next(
        q for q in read_jsonl(shared_data / "hotpot24" / "questions.jsonl") if q["id"] == "hotpot24-q23"
    )
    corpus = {r["id"]: r for r in read_jsonl(shared_data / "hotpot24" / "corpus.jsonl")}
    space = make_space()
    space.learn_documents(Document(cid, corpus[cid]["text"]) for cid in question["context_ids"])
    answer = space.ask(question["question"])
    assert answer.text.startswith(question["answers"][0])  # "29,000 people"
    step = answer.paths[0].steps[0]
    assert question["answers"][0] in step.statement  # the sentence it was read from is the proof
    assert answer.sources[0] in question["context_ids"]


RUNBOOK = (
    "Nimbus is a message queue. The Nimbus on-call engineer is Dana Whitfield. Before restarting, the "
    "operator must drain the consumers. If the queue depth stays above 10000, the operator pages Dana."
)


def test_a_who_question_stated_in_one_sentence_is_answered_from_it(make_space: Callable[..., Sutra]) -> None:
    """No fact links "Nimbus" to "on-call engineer", but one sentence says who it is."""
    space = make_space()
    space.learn(RUNBOOK, source="nimbus-runbook")
    for question in ("Who is the Nimbus on-call engineer?", "Who is the on-call engineer for Nimbus?"):
        answer = space.ask(question)
        assert answer.text == "Dana Whitfield", question
        assert answer.paths[0].steps[0].statement == "The Nimbus on-call engineer is Dana Whitfield."
        assert answer.sources == ["nimbus-runbook"]
    described = space.ask("Who is Dana Whitfield?")
    assert described.text == "The Nimbus on-call engineer is Dana Whitfield."
    # a sentence that leaves out part of the question ("backup") does not answer it
    assert not space.ask("Who is the backup engineer for Nimbus?").known


def test_a_name_found_only_inside_statements_is_reported_so(make_space: Callable[..., Sutra]) -> None:
    space = make_space()
    space.learn("Nimbus runs in the Dublin data centre.", source="inventory")
    answer = space.ask("Does Nimbus run in Dublin?")
    assert not answer.known
    assert "'Dublin' is not a name of its own" in answer.reason
    assert "Nimbus runs in the Dublin data centre." in answer.reason  # the statement to rephrase from
    assert "nothing is known about 'Paris'" in space.ask("Does Nimbus run in Paris?").reason


def test_a_who_answer_never_comes_from_a_denial_or_a_mere_mention(make_space: Callable[..., Sutra]) -> None:
    cases = [
        ("The on-call engineer is not Dana Whitfield.", "Who is the on-call engineer?"),
        ("Bob Smith met the CEO of Acme yesterday.", "Who is the CEO of Acme?"),
        ("Bob Smith was fired by the Acme CEO.", "Who is the CEO of Acme?"),
        ("Nobody knows whether Dana Whitfield is the on-call engineer.", "Who is the on-call engineer?"),
    ]
    for number, (text, question) in enumerate(cases):
        space = make_space(f"case-{number}")
        space.learn(text, source="s")
        assert not space.ask(question).known, text
    denial = make_space("denial")
    denial.learn("Carol Diaz does not own the ledger.", source="s")
    assert denial.ask("Who owns the ledger?").text != "Carol Diaz"  # a denial names no owner
