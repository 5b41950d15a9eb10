"""Semantic filters: concepts selected by what they are, not by what they say.

kb.find(semantic_type="causal", domain="ops", since="2024-03-01", until="2024-03-31", min_confidence=0.8)
kb.find(causal_role="cause")   # concepts that cause or imply something
"""

from __future__ import annotations

from dataclasses import dataclass

from sutra import validation
from sutra.errors import InputError
from sutra.model import Concept, SemanticType
from sutra.store.base import Store

CAUSAL_RELATIONS = ["causes", "implies", "prevents"]
CAUSAL_ROLES = ("cause", "effect")


@dataclass(frozen=True, slots=True)
class Filter:
    semantic_type: str | None = None
    domain: str | None = None
    since: str | None = None  # ISO-8601; compared with the concept's event time
    until: str | None = None
    causal_role: str | None = None  # "cause" | "effect"
    min_confidence: float = 0.0

    def __post_init__(self) -> None:
        types = [t.value for t in SemanticType]
        if self.semantic_type is not None and self.semantic_type not in types:
            raise InputError(f"semantic type {self.semantic_type!r} is not one of {', '.join(types)}")
        if self.causal_role is not None and self.causal_role not in CAUSAL_ROLES:
            raise InputError(f"causal role {self.causal_role!r} is not one of {', '.join(CAUSAL_ROLES)}")
        for name in ("since", "until"):
            validation.event_time(getattr(self, name), name)  # "notadate" is an error, not "no match"
        if not 0.0 <= self.min_confidence <= 1.0:
            raise InputError(f"min_confidence must be between 0 and 1, got {self.min_confidence}")

    def matches(self, store: Store, concept: Concept) -> bool:
        if self.semantic_type and concept.semantic_type != self.semantic_type:
            return False
        if self.domain and concept.domain != self.domain:
            return False
        if concept.confidence < self.min_confidence:
            return False
        if (self.since or self.until) and not self._in_time(concept):
            return False
        return not self.causal_role or self._has_role(store, concept)

    def _in_time(self, concept: Concept) -> bool:
        when = concept.valid_from
        if when is None:
            return False
        # ISO-8601 strings of the same shape order like the times they name; dates compare by their prefix
        return (not self.since or when[: len(self.since)] >= self.since) and (
            not self.until or when[: len(self.until)] <= self.until
        )

    def _has_role(self, store: Store, concept: Concept) -> bool:
        direction = "out" if self.causal_role == "cause" else "in"
        if store.neighbors(concept.id, direction, relations=CAUSAL_RELATIONS, current_only=True):  # type: ignore[arg-type]
            return True
        # a statement plays the role its events play ("The outage happened because the disk was full.")
        events = [e.target for e in store.neighbors(concept.id, "out", relations=["mentions"])]
        return any(
            store.neighbors(e, direction, relations=CAUSAL_RELATIONS, current_only=True) for e in events
        )  # type: ignore[arg-type]


def find(store: Store, query: Filter, limit: int = 100) -> list[Concept]:
    """Concepts matching every given condition, in learning order."""
    out = []
    for concept in store.concepts():
        if query.matches(store, concept):
            out.append(concept)
            if len(out) >= limit:
                break
    return out
