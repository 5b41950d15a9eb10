"""Contradictions: current facts that cannot all be true, each side listed with its sources.

Kinds found (all among *current* facts of one subject):
    negation     "The disk is full." / "The disk is not full."
    functional   two certain values of a one-value relation at once (located in Dublin and in Frankfurt)
    opposite     properties that exclude each other ("open" and "closed", "hot" and "cold")
    numeric      different numbers for the same subject and relation ("has 3 replicas" / "has 5 replicas")
Facts that replaced each other over time are not contradictions: the older one is closed, not current.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from sutra.learning import lexicon as lx
from sutra.model import Association, ConceptKind
from sutra.reasoning.explain import name_of
from sutra.store.base import Store

OPPOSITE_PAIRS = [
    ("open", "closed"),
    ("full", "empty"),
    ("hot", "cold"),
    ("on", "off"),
    ("up", "down"),
    ("alive", "dead"),
    ("true", "false"),
    ("online", "offline"),
    ("healthy", "unhealthy"),
    ("available", "unavailable"),
    ("enabled", "disabled"),
    ("active", "inactive"),
    ("running", "stopped"),
    ("valid", "invalid"),
    ("big", "small"),
    ("large", "small"),
    ("high", "low"),
    ("fast", "slow"),
    ("wet", "dry"),
    ("young", "old"),
    ("safe", "unsafe"),
    ("stable", "unstable"),
    ("present", "absent"),
    ("visible", "invisible"),
]
OPPOSITES = {a: b for a, b in OPPOSITE_PAIRS} | {b: a for a, b in OPPOSITE_PAIRS}
NUMBER = re.compile(r"^-?\d[\d,]*(?:\.\d+)?(?:\s+\S+)*$")
MENTIONS = "mentions"


@dataclass(slots=True)
class Claim:
    value: str
    negated: bool
    statement: str
    sources: list[str]
    association_id: str


@dataclass(slots=True)
class Contradiction:
    kind: str  # negation | functional | opposite | numeric
    subject: str
    relation: str
    claims: list[Claim] = field(default_factory=list)

    def describe(self) -> str:
        sides = " vs ".join(
            f"{'not ' if c.negated else ''}{c.value} [{', '.join(c.sources)}]" for c in self.claims
        )
        return f"{self.kind}: {self.subject} {self.relation}: {sides}"


def _claim(store: Store, edge: Association) -> Claim:
    statement = store.get_concept(edge.statements[-1]) if edge.statements else None
    return Claim(
        name_of(store, edge.target),
        edge.negated,
        statement.text if statement else "",
        edge.sources[-1:],
        edge.id,
    )


def _conflicts(store: Store, subject: str) -> list[Contradiction]:
    by_relation: dict[str, list[Association]] = defaultdict(list)
    for edge in store.neighbors(subject, "out", current_only=True):
        if edge.relation != MENTIONS:
            by_relation[edge.relation].append(edge)
    found = []
    name = name_of(store, subject)
    for relation, edges in sorted(by_relation.items()):
        pairs = _pairs(store, relation, edges)
        for kind, a, b in pairs:
            found.append(Contradiction(kind, name, relation, [_claim(store, a), _claim(store, b)]))
    return found


def _pairs(
    store: Store, relation: str, edges: list[Association]
) -> list[tuple[str, Association, Association]]:
    out = []
    certain = [e for e in edges if e.confidence >= 1.0]
    for i, a in enumerate(certain):
        for b in certain[i + 1 :]:
            kind = _kind(store, relation, a, b)
            if kind:
                out.append((kind, a, b))
    return out


def _kind(store: Store, relation: str, a: Association, b: Association) -> str | None:
    if a.target == b.target:
        return "negation" if a.negated != b.negated else None
    if a.negated or b.negated:
        return None
    if relation in lx.FUNCTIONAL_RELATIONS:
        return "functional"
    va, vb = name_of(store, a.target).lower(), name_of(store, b.target).lower()
    if relation == "has_property" and OPPOSITES.get(va) == vb:
        return "opposite"
    if NUMBER.match(va) and NUMBER.match(vb) and va.split()[1:] == vb.split()[1:]:
        return "numeric"
    return None


def find(store: Store, subjects: list[str] | None = None) -> list[Contradiction]:
    """Contradictions among the current facts of `subjects` (default: every entity)."""
    if subjects is None:
        subjects = [c.id for c in store.concepts(ConceptKind.ENTITY)]
    found: list[Contradiction] = []
    for subject in dict.fromkeys(subjects):
        found.extend(_conflicts(store, subject))
    return found
