"""Read-only views of one space's graph as plain dicts: concepts, neighbourhoods, paths, search, export.

Each function runs in a worker thread under the space's lock (see `spaces.Spaces.read`), so it may walk
the store freely. Nothing here changes the store.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import Any

import orjson

from sutra.engine import Sutra
from sutra.errors import NotFoundError
from sutra.model import Association, Concept
from sutra.reasoning.seeds import RRF_K
from sutra.store.base import Store

MAX_PATHS = 20


def concept_dict(c: Concept) -> dict[str, Any]:
    return {
        "id": c.id,
        "text": c.text,
        "kind": str(c.kind),
        "semantic_type": str(c.semantic_type),
        "domain": c.domain,
        "confidence": c.confidence,
        "strength": c.strength,
        "valid_from": c.valid_from,
        "valid_to": c.valid_to,
        "recorded_at": c.recorded_at,
        "sources": list(c.sources),
        "aliases": list(c.aliases),
        "attrs": _plain(c.attrs),
        "seq": c.seq,
        "last_seq": c.last_seq,
    }


def _plain(value: Any) -> Any:
    """attrs hold tuples and the like; JSON wants lists and string keys."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def node_dict(c: Concept) -> dict[str, Any]:
    return {"id": c.id, "text": c.text, "kind": str(c.kind)}


def edge_dict(a: Association) -> dict[str, Any]:
    return {
        "id": a.id,
        "source": a.source,
        "target": a.target,
        "type": str(a.type),
        "relation": a.relation,
        "negated": a.negated,
        "confidence": a.confidence,
        "current": a.current,
        "sources": list(a.sources),
    }


def get_concept(store: Store, concept_id: str) -> Concept:
    concept = store.get_concept(concept_id)
    if concept is None:
        raise NotFoundError(
            f"no concept {concept_id!r} in this space; ids come from search, answers or export"
        )
    return concept


def resolve(store: Store, ref: str) -> list[str]:
    """A concept id as is, or the entities named `ref`."""
    if store.get_concept(ref) is not None:
        return [ref]
    found = store.find_entities(ref)
    if not found:
        raise NotFoundError(f"{ref!r} is neither a concept id nor a known name in this space")
    return found


def neighbourhood(store: Store, concept_id: str, depth: int, limit: int) -> dict[str, Any]:
    """Nodes within `depth` hops (either direction) and the edges among them, breadth first, at most
    `limit` nodes."""
    start = get_concept(store, concept_id)
    nodes = {start.id: start}
    edges: dict[str, Association] = {}
    frontier = [start.id]
    for _ in range(depth):
        nxt: list[str] = []
        for cid in frontier:
            for edge in store.neighbors(cid, "both"):
                other = edge.target if edge.source == cid else edge.source
                if other not in nodes:
                    if len(nodes) >= limit:
                        continue
                    concept = store.get_concept(other)
                    if concept is None:
                        continue
                    nodes[other] = concept
                    nxt.append(other)
                edges[edge.id] = edge
        frontier = nxt
    return {
        "nodes": [node_dict(c) for c in nodes.values()],
        "edges": [edge_dict(e) for e in edges.values() if e.source in nodes and e.target in nodes],
    }


def paths_between(store: Store, start: str, end: str, max_hops: int, limit: int) -> dict[str, Any]:
    """Shortest simple paths (edges in either direction) from `start` to `end`, shortest first, found by
    breadth-first search over partial paths (bounded by `max_hops` and a budget of expansions)."""
    starts, ends = resolve(store, start), set(resolve(store, end))
    found: list[list[Association]] = []
    queue: deque[tuple[str, list[Association], frozenset[str]]] = deque(
        (s, [], frozenset([s])) for s in starts
    )
    budget = 20_000  # partial paths expanded at most: a hub-heavy graph must not stall a worker
    while queue and len(found) < limit and budget > 0:
        node, path, seen = queue.popleft()
        budget -= 1
        if node in ends and path:
            found.append(path)
            continue
        if len(path) >= max_hops:
            continue
        for edge in store.neighbors(node, "both"):
            other = edge.target if edge.source == node else edge.source
            if other not in seen:
                queue.append((other, [*path, edge], seen | {other}))
    return {"start": starts, "end": sorted(ends), "paths": [_path_dict(store, p, starts) for p in found]}


def _path_dict(store: Store, path: list[Association], starts: list[str]) -> dict[str, Any]:
    first = path[0]
    node = first.source if first.source in starts else first.target
    ids = [node]
    for edge in path:
        node = edge.target if edge.source == node else edge.source
        ids.append(node)
    nodes = [store.get_concept(i) for i in ids]
    return {
        "nodes": [
            node_dict(c) if c else {"id": i, "text": i, "kind": "missing"}
            for i, c in zip(ids, nodes, strict=True)
        ],
        "edges": [edge_dict(e) for e in path],
    }


def search(engine: Sutra, query: str, mode: str, k: int) -> list[dict[str, Any]]:
    store = engine.store
    if mode == "keyword":
        ranked = store.search_text(query, k=k)
    elif mode == "vector":
        ranked = store.search_vector(engine.embedder.embed_one(query), k=k)
    else:  # hybrid: reciprocal-rank fusion, the same way the reasoner seeds free-text questions
        fused: dict[str, float] = {}
        for ranking in (
            store.search_text(query, k=k * 2),
            store.search_vector(engine.embedder.embed_one(query), k=k * 2),
        ):
            for rank, (cid, _) in enumerate(ranking):
                fused[cid] = fused.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
        ranked = sorted(fused.items(), key=lambda item: (-item[1], item[0]))[:k]
    hits = []
    for cid, score in ranked:
        concept = store.get_concept(cid)
        if concept is not None:
            hits.append(
                {"id": cid, "text": concept.text, "kind": str(concept.kind), "score": round(float(score), 6)}
            )
    return hits


def export_lines(store: Store) -> Iterator[bytes]:
    """JSON lines: every concept (`"record": "concept"`), then every association (`"record": "association"`),
    in store order; each association once, from its source's outgoing edges."""
    concepts = store.concepts()
    for c in concepts:
        yield orjson.dumps({"record": "concept", **concept_dict(c)}) + b"\n"
    for c in concepts:
        for a in store.neighbors(c.id, "out"):
            line = {
                "record": "association",
                **edge_dict(a),
                "statements": list(a.statements),
                "attrs": _plain(a.attrs),
            }
            yield orjson.dumps(line) + b"\n"
