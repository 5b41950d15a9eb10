"""Causal and conditional questions: "what happens if X?" walks forward, "why Y?" walks back.

Clauses are events identified by their content lemmas (see `learning.clauses.clause_key`), so the
question's clause meets the stored one whatever its tense or articles.
"""

from __future__ import annotations

from typing import Any

from sutra.learning.clauses import clause_key
from sutra.learning.writer import event_id
from sutra.model import Association
from sutra.reasoning.paths import Candidate
from sutra.store.base import Store

CAUSAL_RELATIONS = ["implies", "causes"]
CONDITION_MARKS = {"if", "when", "once"}


def question_event(parsed: Any) -> tuple[str, str] | None:
    """("effects" | "causes", clause key) when the question asks for consequences or reasons."""
    tokens = list(parsed)
    for tok in tokens:
        if tok.dep_ == "advcl" and any(
            c.dep_ == "mark" and c.lower_ in CONDITION_MARKS for c in tok.children
        ):
            return "effects", clause_key(list(tok.subtree))
    if tokens and tokens[0].lower_ == "why":
        return "causes", clause_key(tokens[1:])
    return None


def chains(store: Store, start: str, direction: str, max_hops: int, decay: float) -> list[Candidate]:
    """Every causal chain from `start` (effects forward, causes backward), longest first per first hop."""
    step_dir = "out" if direction == "effects" else "in"
    found: list[Candidate] = []

    def walk(node: str, edges: list[Association], score: float) -> None:
        nexts = [e for e in store.neighbors(node, step_dir, relations=CAUSAL_RELATIONS) if not e.negated]  # type: ignore[arg-type]
        extended = False
        for edge in nexts:
            nxt = edge.target if step_dir == "out" else edge.source
            if nxt == start or any(nxt in (e.source, e.target) for e in edges) or len(edges) >= max_hops:
                continue
            extended = True
            walk(nxt, [*edges, edge], score * edge.confidence * (decay if edges else 1.0))
        if edges and not extended:
            first = edges[0]
            answer = first.target if step_dir == "out" else first.source
            found.append(Candidate(answer, edges, score, kind="causal"))

    walk(start, [], 1.0)
    return found


def start_event(store: Store, key: str) -> str | None:
    eid = event_id(key)
    return eid if key and store.get_concept(eid) is not None else None
