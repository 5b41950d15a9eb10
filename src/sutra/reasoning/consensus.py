"""Consensus over paths (multi-path plausibility aggregation).

Paths are clustered by the answer they support. A cluster's support combines its paths as independent
evidence (noisy-or), so two weak agreeing paths beat one weak path, but never reach certainty. The
confidence of the winner is its support scaled by its margin over the runner-up: a close race between
answers is itself a reason for doubt.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sutra.reasoning.paths import Candidate

KEEP_PATHS = 3  # paths shown per answer


@dataclass(slots=True)
class Cluster:
    answer_id: str
    paths: list[Candidate]
    support: float

    @property
    def best(self) -> Candidate:
        return self.paths[0]


def noisy_or(scores: list[float]) -> float:
    remaining = 1.0
    for s in scores:
        remaining *= 1.0 - min(max(s, 0.0), 0.999)
    return 1.0 - remaining


def cluster(candidates: list[Candidate]) -> list[Cluster]:
    """Clusters best-supported first; ties broken by the most recent supporting edge, then by id."""
    groups: dict[str, list[Candidate]] = defaultdict(list)
    for cand in candidates:
        groups[cand.answer_id].append(cand)
    clusters = []
    for answer_id, paths in groups.items():
        # one path per distinct edge sequence: the same chain found twice is not new evidence
        unique = {tuple(e.id for e in p.edges): p for p in sorted(paths, key=lambda p: p.score)}
        ranked = sorted(unique.values(), key=lambda p: (-p.score, len(p.edges)))
        clusters.append(Cluster(answer_id, ranked, noisy_or([p.score for p in ranked])))
    clusters.sort(key=lambda c: (-round(c.support, 9), -_recency(c), c.answer_id))
    return clusters


def _recency(c: Cluster) -> int:
    return max((e.last_seq for p in c.paths for e in p.edges), default=0)


def confidence(clusters: list[Cluster]) -> float:
    """Winner's support × its share of the top two: calibrated downwards when answers compete."""
    if not clusters:
        return 0.0
    top = clusters[0].support
    if len(clusters) == 1:
        return top
    second = clusters[1].support
    return top * (top / (top + second)) if top + second > 0 else 0.0
