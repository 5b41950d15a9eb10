"""The engine as a user sees it: learn, ask with explanations, refuse honestly, forget, audit, reopen."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from sutra.engine import Sutra
from sutra.errors import InputError, NotFoundError
from sutra.model import ConceptKind, Document

HANDBOOK = [
    Document("h1", "If the disk is full then the database stops."),
    Document("h2", "If the database stops then the API gateway returns errors."),
    Document("h3", "The outage happened because the disk was full."),
    Document("h4", "Priya Nair owns the ledger database. The ledger database is located in Frankfurt."),
    Document(
        "h5", "The ledger database is a PostgreSQL cluster. A PostgreSQL cluster is a relational database."
    ),
]


@pytest.fixture
def handbook(make_space: Callable[..., Sutra]) -> Sutra:
    space = make_space()
    space.learn_documents(HANDBOOK)
    return space


def test_answer_cites_the_statement_and_source(handbook: Sutra) -> None:
    answer = handbook.ask("Where is the ledger database located?")
    assert answer.text == "Frankfurt"
    assert answer.sources == ["h4"]
    assert answer.paths[0].steps[0].statement == "The ledger database is located in Frankfurt."
    assert 0.5 < answer.confidence <= 1.0


def test_consequences_follow_the_chain_of_rules(handbook: Sutra) -> None:
    answer = handbook.ask("What happens if the disk is full?")
    assert answer.known
    assert "the database stops" in answer.items
    chain = max(answer.paths, key=lambda p: len(p.steps))
    assert [s.object for s in chain.steps] == ["the database stops", "the API gateway returns errors"]
    assert {"h1", "h2"} <= set(answer.sources)


def test_why_walks_back_to_the_cause(handbook: Sutra) -> None:
    answer = handbook.ask("Why did the outage happen?")
    # "the disk was full" and the rule's "the disk is full" are one event (same content lemmas)
    assert answer.text in ("the disk was full", "the disk is full")
    assert answer.sources == ["h3"]


def test_yes_no_through_class_membership(handbook: Sutra) -> None:
    answer = handbook.ask("Is the ledger database a PostgreSQL cluster?")
    assert answer.label == "yes"


def test_unknown_names_are_refused_with_a_reason(handbook: Sutra) -> None:
    answer = handbook.ask("Where is Gondolin?")
    assert not answer.known
    assert answer.text == "I don't know"
    assert "Gondolin" in answer.reason
    assert answer.sources == []


def test_relearning_reinforces_and_never_wipes(handbook: Sutra) -> None:
    before = handbook.stats()
    handbook.learn_documents(HANDBOOK[3:4])
    after = handbook.stats()
    assert after["concepts"] == before["concepts"]
    assert after["associations"] == before["associations"]
    assert handbook.ask("Where is the ledger database located?").text == "Frankfurt"
    statement = next(c for c in handbook.store.concepts(ConceptKind.STATEMENT) if "Frankfurt" in c.text)
    assert statement.strength >= 2


def test_forget_removes_only_what_came_from_that_source(handbook: Sutra) -> None:
    assert handbook.forget("h4") > 0
    assert not handbook.ask("Where is the ledger database located?").known
    assert handbook.ask("Is the ledger database a PostgreSQL cluster?").label == "yes"
    assert handbook.store.check() == []


def test_audit_record_is_retrievable(handbook: Sutra) -> None:
    answer = handbook.ask("Who owns the ledger database?")
    record = handbook.audit(answer.audit_id)
    assert record["question"] == "Who owns the ledger database?"
    assert record["text"] == answer.text
    with pytest.raises(NotFoundError):
        handbook.audit("q:0000000000000000")


def test_bad_input_gets_a_clear_error(handbook: Sutra) -> None:
    with pytest.raises(InputError, match="empty"):
        handbook.learn("   ")
    with pytest.raises(InputError, match="empty"):
        handbook.ask("")
    with pytest.raises(InputError, match="no text"):
        handbook.learn_documents([Document("x", "")])


def test_state_survives_reopen(tmp_path: Path, embedder: object) -> None:
    with Sutra(tmp_path / "kb", embedder=embedder) as space:  # type: ignore[arg-type]
        space.learn("Mary moved to the bathroom.", source="m1")
        space.learn("Mary went to the kitchen.", source="m2")
    with Sutra(tmp_path / "kb", embedder=embedder) as space:  # type: ignore[arg-type]
        answer = space.ask("Where is Mary?")
        assert (answer.text, answer.sources) == ("kitchen", ["m2"])
        assert space.store.check() == []
