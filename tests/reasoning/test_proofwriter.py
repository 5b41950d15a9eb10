"""ProofWriter (open world): true / false / unknown by chaining rules learned from plain English."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.conftest import read_jsonl

from sutra.engine import Sutra
from sutra.model import Document

QUESTIONS = 45


def _load(data: Path) -> tuple[dict[str, str], list[dict[str, Any]]]:
    corpus = {r["id"]: r["text"] for r in read_jsonl(data / "proofwriter" / "corpus.jsonl")}
    return corpus, read_jsonl(data / "proofwriter" / "questions.jsonl")[:QUESTIONS]


def test_labels_match_on_real_theories(make_space: Callable[..., Sutra], shared_data: Path) -> None:
    corpus, questions = _load(shared_data)
    correct = 0
    for i, q in enumerate(questions):
        space = make_space(f"t{i}")
        space.learn_documents([Document(cid, corpus[cid]) for cid in q["context_ids"]])
        answer = space.ask(q["question"])
        correct += (answer.label or "unknown") == q["label"]
    assert correct / len(questions) >= 0.95


def test_derived_answers_show_the_proof(make_space: Callable[..., Sutra], shared_data: Path) -> None:
    """A conclusion reached through rules cites the facts and the rule sentences it used, in proof order."""
    corpus, questions = _load(shared_data)
    shown = 0
    for i, q in enumerate(questions):
        if q["label"] == "unknown":
            continue
        space = make_space(f"p{i}")
        space.learn_documents([Document(cid, corpus[cid]) for cid in q["context_ids"]])
        answer = space.ask(q["question"])
        chains = [p for p in answer.paths if p.kind == "rule-chain"]
        if not chains:
            continue
        shown += 1
        steps = chains[0].steps
        assert len(steps) >= 2
        assert all(step.sources for step in steps)
        rule_steps = [s for s in steps if s.statement and corpus[s.sources[0]] == s.statement]
        assert rule_steps, "every step quotes the sentence it rests on"
        assert set(answer.sources) <= set(q["context_ids"])
    assert shown >= 5


def test_unknown_when_neither_claim_nor_negation_follows(make_space: Callable[..., Sutra]) -> None:
    space = make_space()
    space.learn_documents([Document("f1", "Bob is big."), Document("r1", "All big things are kind.")])
    assert space.ask("Is the following statement true, false, or unknown? Bob is kind.").label == "true"
    assert space.ask("Is the following statement true, false, or unknown? Bob is not kind.").label == "false"
    assert space.ask("Is the following statement true, false, or unknown? Bob is red.").label == "unknown"
