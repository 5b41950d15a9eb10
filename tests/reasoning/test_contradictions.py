"""Contradictions: detected when learning and on demand, both sides cited, and flagged on answers."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import read_jsonl

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


def _proofwriter_conflicts(shared_data: Path, limit: int) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Pairs of real ProofWriter facts from different theories where one denies the other
    ("Bob is big." in one theory, "Bob is not big." in another), in corpus order."""
    stated: dict[str, dict[str, Any]] = {}
    pairs = []
    for row in read_jsonl(shared_data / "proofwriter" / "corpus.jsonl"):
        match = re.fullmatch(r"(The [a-z ]+|[A-Z][a-z]+) is (not )?([a-z]+)\.", row["text"])
        if not match:
            continue
        subject, negated, prop = match.groups()
        other = stated.get(f"{subject}|{prop}|{not negated}")
        if other and other["meta"]["theory"] != row["meta"]["theory"]:
            pairs.append((other, row))
            if len(pairs) == limit:
                break
        stated.setdefault(f"{subject}|{prop}|{bool(negated)}", row)
    return pairs


def test_real_contradicting_facts_are_found_cited_and_resolved(
    make_space: Callable[..., Sutra], shared_data: Path
) -> None:
    pairs = _proofwriter_conflicts(shared_data, 5)
    assert len(pairs) == 5
    for first, second in pairs:
        space = make_space(second["id"].replace(":", "_"))
        # undated: nothing says one replaced the other, so both stand and disagree
        space.learn(first["text"], source=first["id"])
        report = space.learn(second["text"], source=second["id"])
        assert len(report.contradictions) == 1 and report.contradictions[0].startswith("negation:")
        [found] = space.contradictions()
        assert {s for c in found.claims for s in c.sources} == {first["id"], second["id"]}

        subject, prop = re.fullmatch(r"(.+) is (?:not )?([a-z]+)\.", first["text"]).groups()  # type: ignore[union-attr]
        question = f"Is {subject[0].lower() + subject[1:] if subject.startswith('The ') else subject} {prop}?"
        recent = space.ask(question, resolve="recent")
        assert recent.conflicts, question  # the answer says it touches a contradiction
        # the most recently learned statement wins under "recent"
        assert recent.label == ("no" if " not " in second["text"] else "yes"), question
        assert second["id"] in recent.sources


def test_numeric_mismatch_keeps_the_numbers(make_space: Callable[..., Sutra]) -> None:
    space = make_space()
    space.learn("The ledger server has 16 GB of memory.", source="inventory")
    report = space.learn("The ledger server has 32 GB of memory.", source="audit")
    assert report.contradictions == ["numeric: ledger server has: 16 GB [inventory] vs 32 GB [audit]"]
    # different units are different things, not a disagreement
    space.learn("The ledger server has 2 disks.", source="inventory")
    assert [c.kind for c in space.contradictions()] == ["numeric"]
