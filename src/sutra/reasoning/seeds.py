"""Seeds: the stored statements most related to a question, from keywords and meaning, fused.

BM25 finds statements sharing rare words; the vector index finds paraphrases. Reciprocal-rank fusion
combines the two rankings without having to calibrate their scores against each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sutra.model import ConceptKind
from sutra.store.base import Store

RRF_K = 60


@dataclass(slots=True)
class Seed:
    concept_id: str
    fused: float
    similarity: float  # cosine similarity to the question (0 when only a keyword hit)
    keyword: float
    text: str = ""  # the statement's (or rule's) text
    sources: list[str] = field(default_factory=list)


def find_seeds(store: Store, text: str, vector: np.ndarray | None, k: int = 10) -> list[Seed]:
    keyword = store.search_text(text, k=k * 2)
    semantic = store.search_vector(vector, k=k * 2) if vector is not None else []
    fused: dict[str, float] = {}
    for ranking in (keyword, semantic):
        for rank, (cid, _score) in enumerate(ranking):
            fused[cid] = fused.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
    sims = dict(semantic)
    kws = dict(keyword)
    seeds = []
    for cid, score in fused.items():
        concept = store.get_concept(cid)
        if concept is None or concept.kind not in (ConceptKind.STATEMENT, ConceptKind.RULE):
            continue
        sim = sims.get(cid)
        if sim is None and vector is not None and concept.vector is not None:
            sim = float(np.dot(concept.vector, vector))
        seeds.append(Seed(cid, score, sim or 0.0, kws.get(cid, 0.0), concept.text, concept.sources))
    seeds.sort(key=lambda s: (-s.fused, s.concept_id))
    return seeds[:k]
