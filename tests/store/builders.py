"""Builders for concepts and associations, and a comparable dump of a store's records."""

from __future__ import annotations

from typing import Any

import numpy as np

from sutra.model import (
    Association,
    AssociationType,
    Concept,
    ConceptKind,
    SemanticType,
    association_id,
    content_id,
)
from sutra.store import LocalStore
from sutra.store.codec import association_to_dict, concept_to_dict


def entity(name: str, *sources: str, aliases: tuple[str, ...] = (), **kw: Any) -> Concept:
    kw.setdefault("id", content_id("e", name.lower()))
    return Concept(
        text=name,
        kind=ConceptKind.ENTITY,
        semantic_type=SemanticType.ENTITY,
        sources=list(sources),
        aliases=list(aliases),
        **kw,
    )


def statement(text: str, *sources: str, vector: Any = None, **kw: Any) -> Concept:
    kw.setdefault("id", content_id("s", text))
    kw.setdefault("kind", ConceptKind.STATEMENT)
    return Concept(
        text=text,
        semantic_type=SemanticType.DEFINITIONAL,
        sources=list(sources),
        vector=vector,
        **kw,
    )


def edge(
    source: Concept,
    relation: str,
    target: Concept,
    *sources: str,
    statements: tuple[str, ...] = (),
    type: AssociationType = AssociationType.SEMANTIC,
    negated: bool = False,
    **kw: Any,
) -> Association:
    return Association(
        id=association_id(source.id, relation, target.id, negated),
        source=source.id,
        target=target.id,
        type=type,
        relation=relation,
        negated=negated,
        sources=list(sources),
        statements=list(statements),
        **kw,
    )


def unit(dim: int, seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal(dim)
    return (v / np.linalg.norm(v)).astype(np.float32)


def dump(store: LocalStore) -> dict[str, Any]:
    """Everything observable about a store's records, in a comparable form."""
    return {
        "concepts": [concept_to_dict(c, with_seq=True) for c in store.concepts()],
        "associations": [
            association_to_dict(a, with_seq=True)
            for c in store.concepts()
            for a in store.neighbors(c.id, "out")
        ],
        "seq": store.stats()["seq"],
    }
