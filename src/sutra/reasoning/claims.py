"""Checking a claim: "Is Mary in the kitchen?", "The cat is not round." — yes, no, maybe, or not provable.

A claim is read as the fact it states (an inverted question is first turned into its statement, which the
parser reads far more reliably), then checked against the evidence in this order:
    1. a direct or inherited path to the claimed value               -> yes (maybe if the fact is hedged)
    2. a stated negation of it                                       -> no
    3. a proof by rules of the claim or of its negation              -> yes / no
    4. a composition of directional facts ("below", "left of")       -> yes / no
    5. another current value of a functional relation (one place)    -> no
Nothing else counts: under the open-world assumption an unproved claim is unknown, not false.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sutra.answer import ReasoningPath
from sutra.config import Settings
from sutra.errors import InputError
from sutra.learning import lexicon as lx
from sutra.learning import nlp
from sutra.learning.entities import entity_id, mention
from sutra.learning.relations import Fact, extract_facts
from sutra.model import Association
from sutra.reasoning import spatial
from sutra.reasoning.explain import name_of, path_of, proof_path, step_of
from sutra.reasoning.inference import Chainer
from sutra.reasoning.paths import Candidate, search
from sutra.reasoning.query import QueryPlan, declarative
from sutra.store.base import Store

RULE_STEP_CONFIDENCE = 0.98  # each rule application keeps a little doubt: long proofs are less certain
HEDGED = 0.75  # facts stated with less confidence than this only make a claim possible


RESOLUTIONS = ("recent", "confidence", "sources")


@dataclass(slots=True)
class Verdict:
    value: str | None  # "yes" | "no" | "maybe"; None when neither the claim nor its negation follows
    paths: list[ReasoningPath] = field(default_factory=list)
    confidence: float = 0.0
    evidence: Association | None = None  # the stated fact the verdict rests on, when there is one
    overruled: str | None = None  # what the losing side of a contradiction said, when one was resolved


def _strength(edge: Association, strategy: str) -> tuple[object, ...]:
    """Which side of a contradiction wins: the most recent assertion (event time, then learning order), the
    most confident one, or the one most sources agree on; ties go to the most recent."""
    recent = (edge.valid_from or "", edge.last_seq)
    if strategy == "confidence":
        return (edge.confidence, *recent)
    if strategy == "sources":
        return (len(edge.sources), *recent)
    return recent


def _agrees(fact: Fact, holds: bool) -> str:
    """The answer to the claim when the positive fact does (or does not) hold."""
    return "yes" if holds != fact.negated else "no"


class ClaimChecker:
    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.chainer = Chainer(store)

    def claim_facts(self, text: str) -> list[Fact]:
        for candidate in (declarative(text), text):
            if candidate:
                facts = extract_facts(next(iter(nlp.parse_one(candidate).sents)), mention)
                if facts:
                    return facts
        return []

    def check(self, text: str, resolve: str = "recent") -> Verdict:
        """The verdict on a claim; when the claim and its negation are both stated, `resolve` picks the side
        ("recent", "confidence" or "sources") and the verdict records what it overruled."""
        if resolve not in RESOLUTIONS:
            raise InputError(f"resolve must be one of {', '.join(RESOLUTIONS)}, got {resolve!r}")
        facts = self.claim_facts(text)
        if not facts:
            return Verdict(None)
        fact = facts[0]
        subjects = self.store.find_entities(fact.subject.key)
        if not subjects:
            return Verdict(None)
        # an unknown object is fine: "Is Mary in the cinema?" is "no" if she is known to be elsewhere
        targets = set(self.store.find_entities(fact.object.key))
        found = self._paths(fact, subjects)
        direct, negation = self._direct(fact, found, targets), self._negation(fact, subjects, targets)
        if direct and negation and direct.evidence and negation.evidence:
            winner, loser = sorted((direct, negation), key=lambda v: _strength(v.evidence, resolve))[::-1]  # type: ignore[arg-type]
            winner.overruled = f"{loser.value}, by {', '.join(loser.evidence.sources[-1:])} ({resolve} wins)"  # type: ignore[union-attr]
            return winner
        return (
            direct
            or negation
            # a rule may conclude about a value no stated fact mentions (nobody was said to be green)
            or self._inferred(fact, subjects, targets | {entity_id(fact.object.key)})
            or self._spatial(fact, subjects, targets)
            or self._elsewhere(fact, found, targets)
            or Verdict(None)
        )

    def _paths(self, fact: Fact, subjects: list[str]) -> list[Candidate]:
        probe = QueryPlan(
            question="", intent="yesno", relations=[fact.relation], predicate=fact.relation.split("_")
        )
        s = self.settings
        return [
            c for subject in subjects for c in search(self.store, subject, probe, s.max_hops, s.hop_decay)
        ]

    def _direct(self, fact: Fact, found: list[Candidate], targets: set[str]) -> Verdict | None:
        hits = [c for c in found if c.answer_id in targets and c.edges[-1].current]
        if not hits:
            return None
        best = max(hits, key=lambda c: c.score)
        value = "maybe" if best.edges[-1].confidence < HEDGED else _agrees(fact, True)
        stated = best.edges[-1] if len(best.edges) == 1 else None
        return Verdict(value, [path_of(self.store, best)], best.score, evidence=stated)

    def _negation(self, fact: Fact, subjects: list[str], targets: set[str]) -> Verdict | None:
        for subject in subjects:
            for edge in self.store.neighbors(subject, "out", relations=[fact.relation], current_only=True):
                if edge.negated and edge.target in targets:
                    path = path_of(self.store, Candidate(edge.target, [edge], edge.confidence))
                    return Verdict(_agrees(fact, False), [path], edge.confidence, evidence=edge)
        return None

    def _inferred(self, fact: Fact, subjects: list[str], targets: set[str]) -> Verdict | None:
        closure = self.chainer.closure()
        for subject in subjects:
            for target in sorted(targets):
                for negated in (fact.negated, not fact.negated):
                    key = (subject, fact.relation, target, negated)
                    if key in closure.facts:
                        confidence = round(RULE_STEP_CONFIDENCE ** closure.facts[key].depth, 4)
                        value = _agrees(fact, not negated)
                        return Verdict(value, [proof_path(self.store, closure, key)], confidence)
        return None

    def _spatial(self, fact: Fact, subjects: list[str], targets: set[str]) -> Verdict | None:
        if fact.relation not in spatial.OFFSETS:
            return None
        for subject in subjects:
            for target in sorted(targets):
                steps = spatial.walk(self.store, target, subject, self.settings.max_hops * 2)
                if steps:
                    holds = spatial.holds(fact.relation, spatial.offset_of(steps))
                    path = ReasoningPath(
                        answer=name_of(self.store, subject),
                        score=0.9,
                        kind="spatial",
                        steps=[step_of(self.store, e) for e, _ in steps],
                    )
                    return Verdict(_agrees(fact, holds), [path], 0.9)
        return None

    def _elsewhere(self, fact: Fact, found: list[Candidate], targets: set[str]) -> Verdict | None:
        if fact.relation not in lx.FUNCTIONAL_RELATIONS:
            return None
        others = [c for c in found if c.edges[-1].current and c.answer_id not in targets]
        if not others:
            return None
        best = max(others, key=lambda c: c.score)
        return Verdict(_agrees(fact, False), [path_of(self.store, best)], best.score * 0.9)
