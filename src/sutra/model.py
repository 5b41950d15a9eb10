"""The knowledge model: concepts, associations and the mutations that change them.

Pure data only (no I/O). Ids derive from content so the same inputs always give the same graph.
The store applies `Mutation`s in order; the same sequence of mutations always yields the same state,
which is what makes write-ahead-log replay exact.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np


class ConceptKind(StrEnum):
    STATEMENT = "statement"  # one sentence as learned, the unit that answers cite
    ENTITY = "entity"  # a canonical real-world name (person, place, thing, class)
    EVENT = "event"
    RULE = "rule"


class SemanticType(StrEnum):
    ENTITY = "entity"
    EVENT = "event"
    RULE = "rule"
    TEMPORAL = "temporal"
    NEGATION = "negation"
    CONDITION = "condition"
    CAUSAL = "causal"
    QUANTITATIVE = "quantitative"
    DEFINITIONAL = "definitional"


class AssociationType(StrEnum):
    SEMANTIC = "semantic"
    CAUSAL = "causal"
    TEMPORAL = "temporal"
    HIERARCHICAL = "hierarchical"
    COMPOSITIONAL = "compositional"


def content_id(prefix: str, *parts: str) -> str:
    """A short deterministic id: `prefix:` + 16 hex digits of a hash of the parts."""
    digest = hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=8).hexdigest()
    return f"{prefix}:{digest}"


@dataclass(slots=True)
class Concept:
    """A node: a statement, an entity, an event or a rule.

    `sources` lists source ids (corpus id or file/offset) oldest first; re-learning moves the newest to
    the end.
    `seq` is the store's order of first assertion, `last_seq` of the latest one (both set by the store).
    """

    id: str
    text: str
    kind: ConceptKind
    semantic_type: SemanticType
    domain: str = "general"
    confidence: float = 1.0
    strength: float = 1.0
    valid_from: str | None = None  # event time (ISO-8601) when the text gives one
    valid_to: str | None = None
    recorded_at: float = 0.0  # record time (unix seconds) of the first assertion
    sources: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)
    attrs: dict[str, Any] = field(default_factory=dict)
    vector: np.ndarray | None = None
    seq: int = 0
    last_seq: int = 0


@dataclass(slots=True)
class Association:
    """A typed, labelled edge `source --relation--> target`.

    `statements` are the ids of the statement concepts it was extracted from (newest last), `sources` the
    source ids behind them. A closed association (`closed_seq` set) was replaced by a later fact of the same
    subject and functional relation; it stays for history but is no longer current.
    """

    id: str
    source: str
    target: str
    type: AssociationType
    relation: str
    negated: bool = False
    confidence: float = 1.0
    strength: float = 1.0
    valid_from: str | None = None
    valid_to: str | None = None
    recorded_at: float = 0.0
    sources: list[str] = field(default_factory=list)
    statements: list[str] = field(default_factory=list)
    attrs: dict[str, Any] = field(default_factory=dict)
    seq: int = 0
    last_seq: int = 0
    closed_seq: int | None = None
    # every assertion, oldest first, as [seq, statement id] (set by the store): the fact's own timeline
    history: list[list[Any]] = field(default_factory=list)

    @property
    def current(self) -> bool:
        return self.closed_seq is None


def association_id(source: str, relation: str, target: str, negated: bool, hedged: bool = False) -> str:
    """A hedged assertion ("either A or B") is a different claim from a certain one, so it gets its own id."""
    return content_id("a", source, relation, target, "not" if negated else "", "maybe" if hedged else "")


# ---- mutations: the only way state changes; each is one WAL record inside a batch ----


@dataclass(slots=True)
class PutConcept:
    """Insert, or reinforce an existing concept (union sources/aliases, add strength, keep max confidence)."""

    concept: Concept


@dataclass(slots=True)
class PutAssociation:
    """Insert, or reinforce an existing association; reinforcing a closed one reopens it.
    Its `attrs` then describe the latest assertion (incoming keys overwrite)."""

    association: Association


@dataclass(slots=True)
class CloseAssociation:
    """Mark an association as replaced: it stops being current, its history stays."""

    association_id: str
    valid_to: str | None = None


@dataclass(slots=True)
class DeleteConcept:
    """Remove a concept, its edges, its index entries and its vector."""

    concept_id: str


@dataclass(slots=True)
class DeleteAssociation:
    association_id: str


@dataclass(slots=True)
class ForgetSource:
    """Remove a source id everywhere; whatever is left without any source is deleted (no orphans)."""

    source_id: str


Mutation = PutConcept | PutAssociation | CloseAssociation | DeleteConcept | DeleteAssociation | ForgetSource


@dataclass(slots=True)
class Document:
    """One input text with its provenance, as read by ingestion or given to `learn`."""

    id: str
    text: str
    time: str | None = None
    title: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
