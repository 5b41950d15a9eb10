"""Semantic filters over the learned concepts: type, time range, causal role, confidence, domain."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from sutra.engine import Sutra
from sutra.errors import InputError
from sutra.model import Document

DOCS = [
    Document("h1", "If the disk is full then the database stops."),
    Document("h2", "On 3 March 2024 the ledger database stopped."),
    Document("h3", "The outage happened because the disk was full."),
    Document("h4", "On 12 June 2024 the certificate expired."),
]


@pytest.fixture
def space(make_space: Callable[..., Sutra]) -> Sutra:
    kb = make_space()
    kb.learn_documents(DOCS)
    return kb


def test_stats_count_the_semantic_types_find_filters_on(space: Sutra) -> None:
    counts = space.stats()["concepts_by_semantic_type"]
    assert sum(counts.values()) == space.stats()["concepts"]
    assert {"causal", "rule", "entity"} <= set(counts)
    for semantic_type, n in counts.items():
        assert len(space.find(semantic_type=semantic_type, limit=1000)) == n, semantic_type


def test_by_semantic_type(space: Sutra) -> None:
    assert [c.text for c in space.find(semantic_type="causal")] == [DOCS[2].text]
    assert [c.text for c in space.find(semantic_type="rule")] == [DOCS[0].text]


def test_by_time_range(space: Sutra) -> None:
    assert [c.text for c in space.find(since="2024-03-01", until="2024-03-31")] == [DOCS[1].text]
    assert [c.text for c in space.find(since="2024-06")] == [DOCS[3].text]


def test_by_causal_role(space: Sutra) -> None:
    causes = {c.text for c in space.find(causal_role="cause")}
    assert DOCS[0].text in causes and DOCS[2].text in causes
    assert DOCS[3].text not in causes


def test_bad_filters_are_clear_errors(space: Sutra) -> None:
    with pytest.raises(InputError, match="unknown filter"):
        space.find(colour="red")
    with pytest.raises(InputError, match="semantic type"):
        space.find(semantic_type="poetry")
    with pytest.raises(InputError, match="min_confidence"):
        space.find(min_confidence=2)


def test_a_time_bound_that_is_not_a_date_is_an_error_not_an_empty_result(make_space) -> None:
    space = make_space()
    space.learn("On 4 March 2024 the disk filled up.", source="log")
    with pytest.raises(InputError, match="not a valid date"):
        space.find(since="notadate")
    with pytest.raises(InputError, match="resolve must be one of"):
        space.ask("Where is the disk?", resolve="bogus")  # not a yes/no question: refused all the same
    assert space.find(since="2024-03")  # a partial ISO date is still a bound
