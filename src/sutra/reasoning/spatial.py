"""Spatial reasoning: relative positions and routes from stated directions ("A is north of B").

Each directional fact is an offset on a grid (north = +y, east = +x; above/below and left/right read the
same way on a picture). Walking the facts in either direction composes offsets, which answers "is A
below B?" and "how do you go from A to B?" with the chain of facts as the path.
"""

from __future__ import annotations

from collections import deque

from sutra.model import Association
from sutra.store.base import Store

OFFSETS: dict[str, tuple[int, int]] = {
    "north_of": (0, 1),
    "south_of": (0, -1),
    "east_of": (1, 0),
    "west_of": (-1, 0),
    "above": (0, 1),
    "below": (0, -1),
    "left_of": (-1, 0),
    "right_of": (1, 0),
    "above_of": (0, 1),
    "below_of": (0, -1),
    "over": (0, 1),
    "under": (0, -1),
}
COMPASS = {(0, 1): "n", (0, -1): "s", (1, 0): "e", (-1, 0): "w"}
COMPASS_WORDS = {"n": "north", "s": "south", "e": "east", "w": "west"}
RELATIONS = list(OFFSETS)

Step = tuple[Association, tuple[int, int]]  # the fact walked and the offset it moved by


def _moves(store: Store, node: str) -> list[tuple[str, Association, tuple[int, int]]]:
    """Neighbours of a place with the offset from `node` to them."""
    out = []
    for edge in store.neighbors(node, "both", relations=RELATIONS, current_only=True):
        if edge.negated:
            continue
        dx, dy = OFFSETS[edge.relation]
        # edge says source = target + offset
        if edge.target == node:
            out.append((edge.source, edge, (dx, dy)))
        else:
            out.append((edge.target, edge, (-dx, -dy)))
    return out


def walk(store: Store, start: str, goal: str, max_hops: int = 8) -> list[Step] | None:
    """The shortest chain of directional facts from `start` to `goal` (breadth first), or None."""
    previous: dict[str, tuple[str, Step] | None] = {start: None}
    queue = deque([(start, 0)])
    while queue:
        node, depth = queue.popleft()
        if node == goal:
            steps: list[Step] = []
            while previous[node] is not None:
                node, step = previous[node]  # type: ignore[misc]
                steps.append(step)
            return steps[::-1]
        if depth >= max_hops:
            continue
        for nxt, edge, offset in sorted(_moves(store, node), key=lambda m: m[1].seq):
            if nxt not in previous:
                previous[nxt] = (node, (edge, offset))
                queue.append((nxt, depth + 1))
    return None


def offset_of(steps: list[Step]) -> tuple[int, int]:
    return sum(s[1][0] for s in steps), sum(s[1][1] for s in steps)


def holds(relation: str, position: tuple[int, int]) -> bool:
    """Does `subject` stand in `relation` to `object`, given subject - object = position?"""
    dx, dy = OFFSETS[relation]
    px, py = position
    return (dx == 0 or px * dx > 0) and (dy == 0 or py * dy > 0)


def compass(steps: list[Step]) -> list[str]:
    return [COMPASS.get(offset, "?") for _edge, offset in steps]
