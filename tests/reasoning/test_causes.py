"""Causes and effects on real WorldTree facts: chains through things ("wind causes erosion", "erosion
causes deposition"), root causes, effects, and the chain shown as the path; and clause-level causes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from tests.conftest import read_jsonl

from sutra.engine import Sutra
from sutra.model import Document

# two causal chains of two links each, as they appear in the real WorldTree corpus
CHAINS = {
    "wind": ["wind causes erosion", "erosion causes deposition"],
    "acid rain": ["emitting sulfur dioxide causes acid rain", "acid rain causes water pollution"],
}


@pytest.fixture
def worldtree_causes(make_space: Callable[..., Sutra], shared_data: Path) -> tuple[Sutra, dict[str, str]]:
    wanted = {text for chain in CHAINS.values() for text in chain}
    rows = [r for r in read_jsonl(shared_data / "worldtree" / "corpus.jsonl") if r["text"].strip() in wanted]
    ids = {r["text"].strip(): r["id"] for r in rows}
    assert set(ids) == wanted  # the facts are in the real corpus
    space = make_space()
    space.learn_documents(Document(r["id"], r["text"]) for r in rows)
    return space, ids


def test_effects_follow_the_chain(worldtree_causes: tuple[Sutra, dict[str, str]]) -> None:
    space, ids = worldtree_causes
    answer = space.ask("What are the effects of wind?")
    assert answer.text == "erosion"
    chain = [(s.subject, s.relation, s.object) for s in answer.paths[0].steps]
    assert chain == [("wind", "causes", "erosion"), ("erosion", "causes", "deposition")]
    assert answer.sources == [ids["wind causes erosion"], ids["erosion causes deposition"]]
    assert space.ask("What does wind cause?").text == "erosion"


def test_direct_and_root_causes(worldtree_causes: tuple[Sutra, dict[str, str]]) -> None:
    space, _ = worldtree_causes
    assert space.ask("What causes water pollution?").text == "acid rain"
    root = space.ask("What is the root cause of water pollution?")
    assert root.text == "emitting sulfur dioxide"
    assert [s.object for s in root.paths[0].steps] == ["water pollution", "acid rain"]


def test_clause_causes_and_root_causes(make_space: Callable[..., Sutra]) -> None:
    space = make_space()
    space.learn(
        "The database stopped because the disk filled up. The disk filled up because the log rotation "
        "failed. The log rotation failed because the cron daemon crashed.",
        source="postmortem",
    )
    assert space.ask("What caused the database to stop?").text == "the disk filled up"
    assert space.ask("What is the root cause of the database stopping?").text == "the cron daemon crashed"
    assert space.ask("What ultimately caused the database to stop?").text == "the cron daemon crashed"
    assert space.ask("What does the log rotation failing lead to?").text == "the disk filled up"
    assert not space.ask("What caused the moon to explode?").known
