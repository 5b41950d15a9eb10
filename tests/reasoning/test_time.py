"""Time: what happened on a date, an entity's timeline, and timelines of carried things."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from sutra.engine import Sutra
from sutra.errors import NotFoundError
from sutra.model import Document


def test_what_happened_on_a_date(make_space: Callable[..., Sutra]) -> None:
    space = make_space()
    space.learn_documents(
        [
            Document("t1", "On 12 June 2024 the certificate of the API gateway expired."),
            Document("t2", "On 13 June 2024 Tomás Ortega renewed the certificate."),
        ]
    )
    answer = space.ask("What happened on 12 June 2024?")
    assert answer.items == ["On 12 June 2024 the certificate of the API gateway expired."]
    assert answer.sources == ["t1"]


def test_entity_timeline_is_ordered_and_marks_what_still_holds(make_space: Callable[..., Sutra]) -> None:
    space = make_space()
    space.learn_documents(
        [
            Document("1", "Mary moved to the bathroom."),
            Document("2", "Mary picked up the football."),
            Document("3", "Mary went to the kitchen."),
        ]
    )
    mary = space.timeline("Mary")
    assert [(e["relation"], e["value"]) for e in mary] == [
        ("located_in", "bathroom"),
        ("has", "football"),
        ("located_in", "kitchen"),
    ]
    assert [e["current"] for e in mary] == [False, True, True]
    # the football went where Mary took it
    assert [e["value"] for e in space.timeline("football")] == ["bathroom", "kitchen"]
    with pytest.raises(NotFoundError):
        space.timeline("Gandalf")


def test_relative_days_order_the_timeline(make_space: Callable[..., Sutra]) -> None:
    space = make_space()
    space.learn_documents(
        [
            Document("a", "This afternoon Julie went to the park."),
            Document("b", "Yesterday Julie went to the school."),
            Document("c", "This morning Julie went to the office."),
        ]
    )
    assert space.ask("Where was Julie before the park?").text == "office"
    assert space.ask("Where was Julie before the office?").text == "school"
