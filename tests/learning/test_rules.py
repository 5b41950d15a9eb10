"""Rules from plain English, on sentences from the ProofWriter theories and everyday phrasing."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import read_jsonl

from sutra.learning.rules import VARIABLE, looks_like_rule, parse_rule

X = VARIABLE


@pytest.mark.parametrize(
    ("text", "conditions", "conclusions"),
    [
        (
            "If something is quiet and cold then it is smart.",
            [(X, "has_property", "quiet", False), (X, "has_property", "cold", False)],
            [(X, "has_property", "smart", False)],
        ),
        (
            "If someone sees the cat and they are not green then they see the cow.",
            [(X, "see", "cat", False), (X, "has_property", "green", True)],
            [(X, "see", "cow", False)],
        ),
        (
            "Red, cold things are round.",
            [(X, "has_property", "red", False), (X, "has_property", "cold", False)],
            [(X, "has_property", "round", False)],
        ),
        (
            "All quiet things are rough.",
            [(X, "has_property", "quiet", False)],
            [(X, "has_property", "rough", False)],
        ),
        (
            "If someone is blue and not round then they are kind.",
            [(X, "has_property", "blue", False), (X, "has_property", "round", True)],
            [(X, "has_property", "kind", False)],
        ),
        (
            "If Dave is smart and Dave is kind then Dave is quiet.",
            [("dave", "has_property", "smart", False), ("dave", "has_property", "kind", False)],
            [("dave", "has_property", "quiet", False)],
        ),
    ],
)
def test_rules_parse_into_conditions_and_conclusions(text: str, conditions: list, conclusions: list) -> None:
    rule = parse_rule(text)
    assert rule is not None
    assert rule.conditions == conditions
    assert rule.conclusions == conclusions


def test_plain_sentences_are_not_rules() -> None:
    for text in ["Mary moved to the bathroom.", "Living things require water.", "a " * 3000]:
        assert not looks_like_rule(text) or parse_rule(text) is None


def test_every_proofwriter_rule_sentence_parses(shared_data: Path) -> None:
    """Every conditional/generic sentence of the first 60 theories yields a rule with all its conditions."""
    rows = read_jsonl(shared_data / "proofwriter" / "corpus.jsonl")
    theories = list(dict.fromkeys(r["meta"]["theory"] for r in rows))[:60]
    texts = [r["text"] for r in rows if r["meta"]["theory"] in set(theories) and looks_like_rule(r["text"])]
    assert len(texts) > 100
    for text in texts:
        rule = parse_rule(text)
        assert rule is not None, text
        premise = text.split(" then ")[0]
        assert len(rule.conditions) >= premise.count(" and ") + 1, (text, rule)
