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
CAUSE_NOUNS = {"cause", "reason", "origin", "source"}
EFFECT_NOUNS = {"effect", "consequence", "result", "outcome", "impact"}
CAUSING_VERBS = {"cause", "trigger", "produce", "lead"}


def question_event(parsed: Any) -> tuple[str, str] | None:
    """("effects" | "causes", clause key) when the question asks for consequences or reasons: "what
    happens if X?", "why Y?", "what caused Y?", "what is the (root) cause of Y?", "the effects of X?",
    "what does X lead to?"."""
    tokens = list(parsed)
    for tok in tokens:
        if tok.dep_ == "advcl" and any(
            c.dep_ == "mark" and c.lower_ in CONDITION_MARKS for c in tok.children
        ):
            return "effects", clause_key(list(tok.subtree))
    if tokens and tokens[0].lower_ == "why":
        return "causes", clause_key(tokens[1:])
    if not tokens or tokens[0].lower_ not in ("what", "which"):
        return None
    # read on the surface: the parser often misreads these ("lead" as a noun, "stopping" as the root)
    words = [t for t in tokens if t.pos_ != "PUNCT"]
    for i, tok in enumerate(words[:-1]):
        lemma = tok.lemma_.lower()
        if lemma in CAUSE_NOUNS | EFFECT_NOUNS and words[i + 1].lower_ in ("of", "for", "behind"):
            return ("causes" if lemma in CAUSE_NOUNS else "effects"), _key(words[i + 2 :])
    verb_at = next(
        (i for i, t in enumerate(words[1:], 1) if t.pos_ != "ADV"), 0
    )  # "what (ultimately) caused"
    if 0 < verb_at < len(words) - 1 and words[verb_at].lemma_.lower() in CAUSING_VERBS:
        return "causes", _key(words[verb_at + 1 :])  # "what caused the database to stop?"
    if len(words) > 3 and words[1].lower_ in ("does", "did", "do", "will", "would", "can", "could"):
        at = next((i for i, t in enumerate(words[2:], 2) if t.lemma_.lower() in CAUSING_VERBS), None)
        if at is not None:  # "what does the crash cause / lead to?"
            return "effects", _key(words[2:at])
    return None


def _key(tokens: list[Any]) -> str:
    # "the database to stop" is the event "the database stopped"
    # "the database to stop", "(led) to the database stopping": the event "the database stopped"
    kept = [t for t in tokens if not (t.pos_ == "PART" and t.lower_ == "to")]
    return clause_key(kept[1:] if kept and kept[0].lower_ == "to" else kept)


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


def root_of(chain: Candidate, direction: str) -> str:
    """The far end of a chain: the root cause (walking back) or the last effect (walking forward)."""
    last = chain.edges[-1]
    return last.source if direction == "causes" else last.target


def start_event(store: Store, key: str, direction: str = "effects") -> str | None:
    """The event (a clause) or thing ("wind" in "wind causes erosion") the question starts from: one
    with causal links in the asked direction."""
    if not key:
        return None
    eid = event_id(key)
    if store.get_concept(eid) is not None:
        return eid
    step_dir = "out" if direction == "effects" else "in"
    for entity in store.find_entities(key):
        if store.neighbors(entity, step_dir, relations=CAUSAL_RELATIONS):  # type: ignore[arg-type]
            return entity
    return None
