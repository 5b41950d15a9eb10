"""Events in time on real operations logs (loghub BGL): what happened on a day, just after or before an
event, and honest unknowns; and the state of things on a date."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest

from sutra.engine import Sutra
from sutra.model import Document


def bgl_rows(shared_data: Path, n: int) -> list[dict[str, str]]:
    with (shared_data / "logs" / "BGL_2k.log_structured.csv").open(encoding="utf-8", newline="") as fh:
        return [row for _, row in zip(range(n), csv.DictReader(fh), strict=False)]


def iso(bgl_time: str) -> str:
    """BGL writes 2005-06-03-15.42.50.675872; ISO is 2005-06-03T15:42:50."""
    day, clock = bgl_time[:10], bgl_time[11:19].replace(".", ":")
    return f"{day}T{clock}"


@pytest.fixture
def bgl_space(make_space: Callable[..., Sutra], shared_data: Path) -> tuple[Sutra, list[dict[str, str]]]:
    rows = bgl_rows(shared_data, 14)
    space = make_space()
    space.learn_documents(Document(f"bgl-{r['LineId']}", r["Content"], time=iso(r["Time"])) for r in rows)
    return space, rows


def test_what_happened_on_a_day_lists_that_days_log_lines(
    bgl_space: tuple[Sutra, list[dict[str, str]]],
) -> None:
    space, rows = bgl_space
    answer = space.ask("What happened on 4 June 2005?")
    expected = [r["Content"] for r in rows if r["Date"] == "2005.06.04"]
    assert answer.known
    assert answer.items == list(dict.fromkeys(expected))
    assert set(answer.sources) == {f"bgl-{r['LineId']}" for r in rows if r["Date"] == "2005.06.04"}


def test_what_happened_after_and_before_an_event(bgl_space: tuple[Sutra, list[dict[str, str]]]) -> None:
    space, rows = bgl_space
    after = space.ask("What happened after CE sym 2, at 0x0b85eee0, mask 0x05?")
    assert after.items == [rows[8]["Content"]]  # the next line, the first of 4 June
    assert after.paths[0].steps[0].subject == rows[7]["Content"]  # the anchor the answer was read from
    before = space.ask("What happened before generating core.2275?")
    assert before.items == [rows[10]["Content"]]


def test_unknown_events_and_empty_days_get_i_dont_know(bgl_space: tuple[Sutra, list[dict[str, str]]]) -> None:
    space, _ = bgl_space
    missing = space.ask("What happened after the power supply exploded?")
    assert not missing.known and "power supply" in missing.reason
    empty = space.ask("What happened on 1 January 2005?")
    assert not empty.known and "2005-01-01" in empty.reason


def test_state_on_a_date(make_space: Callable[..., Sutra]) -> None:
    space = make_space()
    space.learn("The ledger database is in Frankfurt.", source="s1", time="2024-03-01")
    space.learn("The ledger database is healthy.", source="s2", time="2024-03-01")
    space.learn("The ledger database is not healthy.", source="s3", time="2024-03-04")
    space.learn("The ledger database moved to Dublin.", source="s4", time="2024-03-10")

    assert space.ask("Where was the ledger database on 2 March 2024?").text == "Frankfurt"
    later = space.ask("Where was the ledger database on 11 March 2024?")
    assert later.text == "Dublin" and later.sources == ["s4"]
    early = space.ask("What was true about the ledger database on 2 March 2024?")
    assert set(early.items) == {
        "ledger database located_in Frankfurt",
        "ledger database has_property healthy",
    }
    mid = space.ask("What was true on 6 March 2024?")
    assert "ledger database not has_property healthy" in mid.items
    assert "ledger database has_property healthy" not in mid.items
    before_anything = space.ask("Where was the ledger database on 1 January 2020?")
    assert not before_anything.known and "2020-01-01" in before_anything.reason


def test_a_dated_status_update_is_a_change_not_a_contradiction(make_space: Callable[..., Sutra]) -> None:
    space = make_space()
    space.learn("The ledger database is healthy.", source="check-1", time="2024-03-01")
    report = space.learn("The ledger database is not healthy.", source="check-2", time="2024-03-04")
    assert report.contradictions == [] and space.contradictions() == []
    now = space.ask("Is the ledger database healthy?")
    assert now.label == "no" and now.sources == ["check-2"]
    then = space.ask("What was true about the ledger database on 2 March 2024?")
    assert then.items == ["ledger database has_property healthy"]


def test_what_someone_did_on_a_day_is_only_what_happened_that_day(make_space: Callable[..., Sutra]) -> None:
    space = make_space()
    space.learn("On 4 March 2024 Priya Nair rotated the log files.", source="a")
    done = space.ask("What did Priya Nair do on 4 March 2024?")
    assert done.text == "On 4 March 2024 Priya Nair rotated the log files."
    assert not space.ask("What did Priya Nair do on 5 March 2024?").known  # not a state that holds on
