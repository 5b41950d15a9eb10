"""Multi-path search over the graph: every chain of associations that ends in the asked relation.

Best-first from the focus entity with a per-hop confidence decay. Besides the asked relation itself, a
path may pass through "bridge" edges that carry meaning across: class membership (what holds for mice
holds for Gertrude, who is a mouse), possession (a carried object is where its carrier is) and
containment (what is in the kitchen is in the house). Replaced (closed) facts stay candidates with a
heavy penalty, so history explains but never wins over what is current.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

from sutra.model import Association
from sutra.reasoning.query import QueryPlan
from sutra.store.base import Store

MENTIONS = "mentions"
CLOSED_PENALTY = 0.1
# bridge edges: (relation, direction) -> weight, and which asked relations they may serve
BRIDGES: dict[tuple[str, str], tuple[float, set[str] | None]] = {
    ("is_a", "out"): (0.9, None),  # inheritance serves any relation
    ("has", "in"): (0.9, {"located_in"}),  # held things are where their holder is
    ("located_in", "out"): (0.7, {"located_in"}),
    ("part_of", "out"): (0.7, {"located_in", "part_of"}),
}


@dataclass(order=True, slots=True)
class _State:
    neg_score: float
    node: str = field(compare=False)
    edges: tuple[Association, ...] = field(compare=False, default=())


@dataclass(slots=True)
class Candidate:
    answer_id: str
    edges: list[Association]
    score: float
    kind: str = "graph"


def relation_match(relation: str, plan: QueryPlan) -> float:
    """How well a stored relation label answers the asked one: 1.0 exact, partial for word overlap."""
    if relation == MENTIONS:
        return 0.0
    for rank, wanted in enumerate(plan.relations):
        if relation == wanted:
            return 1.0 - 0.05 * rank
    words = set(relation.split("_"))
    asked = set(plan.predicate)
    if not words or not asked:
        return 0.0
    overlap = len(words & asked) / len(words | asked)
    return 0.7 * overlap if overlap >= 0.5 else 0.0


def edge_weight(edge: Association) -> float:
    weight = edge.confidence
    return weight if edge.current else weight * CLOSED_PENALTY


def _bridges(store: Store, node: str, plan: QueryPlan) -> list[tuple[Association, str, float]]:
    out: list[tuple[Association, str, float]] = []
    for (relation, direction), (weight, serves) in BRIDGES.items():
        if serves is not None and not set(plan.relations) & serves:
            continue
        for edge in store.neighbors(node, direction, relations=[relation], current_only=True):  # type: ignore[arg-type]
            if edge.negated:
                continue
            nxt = edge.target if direction == "out" else edge.source
            out.append((edge, nxt, weight))
    return out


def search(
    store: Store,
    start: str,
    plan: QueryPlan,
    max_hops: int,
    decay: float,
    incoming: bool = False,
    limit: int = 64,
) -> list[Candidate]:
    """Candidate answers reachable from `start`; `incoming` looks for subjects instead of objects."""
    direction = "in" if incoming else "out"
    found: list[Candidate] = []
    heap = [_State(-1.0, start)]
    best_seen: dict[str, float] = {}
    while heap and len(found) < limit:
        state = heapq.heappop(heap)
        score, node = -state.neg_score, state.node
        if best_seen.get(node, 0.0) >= score and state.edges:
            continue
        best_seen[node] = score
        for edge in store.neighbors(node, direction):  # type: ignore[arg-type]
            match = relation_match(edge.relation, plan)
            if match <= 0 or edge.negated:
                continue
            answer = edge.source if incoming else edge.target
            if answer == start:
                continue
            found.append(Candidate(answer, [*state.edges, edge], score * match * edge_weight(edge)))
        if len(state.edges) + 1 >= max_hops:
            continue
        for edge, nxt, weight in _bridges(store, node, plan):
            if any(e.id == edge.id for e in state.edges):
                continue
            heapq.heappush(heap, _State(-(score * weight * decay), nxt, (*state.edges, edge)))
    return found


def _member_bridges(store: Store, node: str) -> list[tuple[Association, str, float]]:
    """Searching for subjects: the members of a class share what the class does ("mice fear wolves")."""
    return [
        (e, e.source, 0.9)
        for e in store.neighbors(node, "in", relations=["is_a"], current_only=True)
        if not e.negated
    ]


def expand_members(store: Store, candidates: list[Candidate], decay: float) -> list[Candidate]:
    """For subject questions, a class answer also answers for each of its members."""
    extra: list[Candidate] = []
    for cand in candidates:
        for edge, member, weight in _member_bridges(store, cand.answer_id):
            extra.append(Candidate(member, [edge, *cand.edges], cand.score * weight * decay))
    return candidates + extra
