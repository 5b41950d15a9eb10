"""Contradictions: detected when learning and on demand, both sides cited, and flagged on answers."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from sutra.engine import Sutra
from sutra.errors import InputError, NotFoundError
from sutra.model import Document


def test_explicit_negation_is_listed_with_both_sources(make_space: Callable[..., Sutra]) -> None:
    space = make_space()
    space.learn("The disk is full.", source="monitor-1")
    report = space.learn("The disk is not full.", source="monitor-2")
    assert report.contradictions == ["negation: disk has_property: full [monitor-1] vs not full [monitor-2]"]
    [found] = space.contradictions("disk")
    assert found.kind == "negation"
    assert {tuple(c.sources) for c in found.claims} == {("monitor-1",), ("monitor-2",)}
    assert [c.statement for c in found.claims] == ["The disk is full.", "The disk is not full."]


def test_opposite_properties(make_space: Callable[..., Sutra]) -> None:
    space = make_space()
    space.learn_documents(
        [Document("a", "The backup server is open."), Document("b", "The backup server is closed.")]
    )
    assert [c.kind for c in space.contradictions()] == ["opposite"]


def test_replaced_facts_are_history_not_contradictions(make_space: Callable[..., Sutra]) -> None:
    space = make_space()
    report = space.learn_documents(
        [Document("1", "Mary went to the kitchen."), Document("2", "Mary went to the garden.")]
    )
    assert report.contradictions == []
    assert space.contradictions() == []


def test_answer_touching_a_contradiction_says_so(make_space: Callable[..., Sutra]) -> None:
    space = make_space()
    space.learn_documents([Document("x", "The disk is full."), Document("y", "The disk is not full.")])
    answer = space.ask("Is the disk full?")
    assert answer.conflicts and "negation" in answer.conflicts[0]
    calm = make_space("calm")
    calm.learn("The disk is full.", source="x")
    assert answer.confidence < calm.ask("Is the disk full?").confidence


def test_unknown_subject_is_an_error(make_space: Callable[..., Sutra]) -> None:
    space = make_space()
    space.learn("The disk is full.", source="x")
    with pytest.raises(NotFoundError):
        space.contradictions("the moon")


@pytest.mark.parametrize(
    ("strategy", "expected"), [("recent", "no"), ("sources", "yes"), ("confidence", "no")]
)
def test_resolution_strategy_picks_the_side(
    make_space: Callable[..., Sutra], strategy: str, expected: str
) -> None:
    space = make_space()
    space.learn("The disk is full.", source="probe-a")
    space.learn("The disk is full.", source="probe-b")
    space.learn("The disk is not full.", source="probe-c")
    answer = space.ask("Is the disk full?", resolve=strategy)
    assert answer.label == expected
    assert "overruled" in answer.reason and answer.conflicts


def test_unknown_resolution_strategy_is_refused(make_space: Callable[..., Sutra]) -> None:
    space = make_space()
    space.learn("The disk is full.", source="a")
    with pytest.raises(InputError, match="resolve"):
        space.ask("Is the disk full?", resolve="vote")
