"""Routing concepts to shards, and turning one batch into each shard's part of it.

A concept lives in shard `blake2b(id) mod N` (a stable hash: Python's `hash()` changes between runs); an
association lives with its source concept. `plan_batch` walks a batch's mutations in order and applies each
to the shards' live graphs as it goes (each shard inside a graph transaction), so every mutation is routed
against the state the ones before it left, exactly as a single store would apply it. What crosses shards
becomes explicit mutations for the shards concerned:

- an association to a concept in another shard: its target must exist there (checked here);
- closing or deleting an association: routed to the shard that holds it;
- deleting a concept: the shards holding edges to it or citing it drop those too (`Graph` in shard mode);
- forgetting a source: every shard forgets it; a concept left without sources is deleted in the shards that
  refer to it; an entity left with no source and no edge in any shard is deleted (a single store's rule).

Each shard's part records, next to every mutation, the global `seq` before it, which its WAL keeps so that
replay rebuilds the same state. On an error every touched shard rolls back and nothing is written.
`placement_problems` checks, for `ShardedStore.check`, that the shards hold what these rules put there.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from sutra.errors import NotFoundError
from sutra.model import ConceptKind
from sutra.store.shard import Shard


def shard_of(concept_id: str, shards: int) -> int:
    # surrogatepass: an id that is not valid text still gets a shard, and then apply's own clear error
    digest = hashlib.blake2b(concept_id.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shards


@dataclass(slots=True)
class Part:
    """One shard's share of a batch: encoded mutations and the global seq before each."""

    mutations: list[dict[str, Any]] = field(default_factory=list)
    seqs: list[int] = field(default_factory=list)


class BatchPlan:
    """Applies one batch to the shards' graphs; `parts` is then what each shard must log."""

    def __init__(self, shards: list[Shard], seq: int) -> None:
        self.shards = shards
        self.seq = seq  # the global store order: the highest seq any shard has used
        self.parts: dict[int, Part] = {}

    def run(self, batch: list[dict[str, Any]]) -> None:
        """Apply every mutation; on any error roll every touched shard back and re-raise."""
        try:
            for d in batch:
                self._route(d)
        except BaseException:
            self.finish(keep=False)
            raise

    def finish(self, *, keep: bool) -> None:
        errors = []
        for i in self.parts:
            try:
                self.shards[i].finish(keep=keep)
            except BaseException as exc:  # every shard must get its chance to finish
                errors.append(exc)
        if errors:
            raise errors[0]

    def owner(self, concept_id: str) -> int:
        return shard_of(concept_id, len(self.shards))

    # ---- routing ----

    def _route(self, d: dict[str, Any]) -> None:
        op = d["op"]
        if op == "put_concept":
            self._emit(self.owner(d["concept"]["id"]), d)
        elif op == "put_association":
            self._put_association(d)
        elif op in ("close_association", "delete_association"):
            holder = self._holder(d["id"])
            if holder is None and op == "close_association":
                raise NotFoundError(f"cannot close association {d['id']}: it does not exist")
            if holder is not None:
                self._emit(holder, d)
        elif op == "delete_concept":
            self._delete_concept(d["id"])
        elif op == "forget_source":
            self._forget_source(d)
        else:  # encode_batch only produces the ops above
            raise ValueError(f"unknown mutation op {op!r}")

    def _emit(self, i: int, d: dict[str, Any]) -> None:
        part = self.parts.get(i)
        if part is None:
            self.shards[i].begin()
            part = self.parts[i] = Part()
        part.mutations.append(d)
        part.seqs.append(self.seq)
        self.shards[i].apply_dict(d, self.seq)
        self.seq = max(self.seq, self.shards[i].graph.seq)

    def _holder(self, association_id: str) -> int | None:
        for i, shard in enumerate(self.shards):
            if association_id in shard.graph.associations:
                return i
        return None

    def _put_association(self, d: dict[str, Any]) -> None:
        a = d["association"]
        home = self.owner(a["source"])
        target_home = self.owner(a["target"])
        new = a["id"] not in self.shards[home].graph.associations
        if new and target_home != home and a["target"] not in self.shards[target_home].graph.concepts:
            raise NotFoundError(
                f"association {a['id']} ({a['source']} -{a['relation']}-> {a['target']}) points at concept "
                f"{a['target']}, which does not exist; put the concept first (earlier in the same batch is "
                "fine)"
            )
        self._emit(home, d)

    def _referrers(self, concept_id: str, home: int) -> list[int]:
        """The other shards with an edge touching `concept_id` or an association citing it."""
        return [
            i
            for i, shard in enumerate(self.shards)
            if i != home and (shard.graph.has_edges(concept_id) or shard.graph.is_cited(concept_id))
        ]

    def _delete_concept(self, concept_id: str) -> None:
        home = self.owner(concept_id)
        if concept_id not in self.shards[home].graph.concepts:
            return  # as in a single store: deleting what is not there does nothing
        delete = {"op": "delete_concept", "id": concept_id}
        referrers = self._referrers(concept_id, home)
        self._emit(home, delete)
        for i in referrers:
            self._emit(i, delete)

    def _forget_source(self, d: dict[str, Any]) -> None:
        src = d["source"]
        graphs = [shard.graph for shard in self.shards]
        doomed: list[str] = []  # concepts citing only `src`: deleted, with every edge touching them
        dropped: set[str] = set()  # associations that go
        touched: set[str] = set()  # endpoints of those: candidates for orphaned entities
        for g in graphs:
            for oid in g.ids_by_source(src):
                c, a = g.concepts.get(oid), g.associations.get(oid)
                if c is not None and len(c.sources) == 1:
                    doomed.append(oid)
                elif a is not None and len(a.sources) == 1:
                    dropped.add(a.id)
                    touched.update((a.source, a.target))
        for cid in doomed:
            for g in graphs:
                for a in g.edges(cid, "both"):
                    dropped.add(a.id)
                    touched.update((a.source, a.target))
        touched.difference_update(doomed)
        orphans = []
        for cid in touched:
            c = graphs[self.owner(cid)].concepts.get(cid)
            if (
                c is not None
                and c.kind == ConceptKind.ENTITY
                and not c.sources
                and all(a.id in dropped for g in graphs for a in g.edges(cid, "both"))
            ):
                orphans.append(c)
        for i in range(len(self.shards)):  # every shard: an edge anywhere may lean on the source
            self._emit(i, d)
        for cid in doomed:
            delete = {"op": "delete_concept", "id": cid}
            for i in self._referrers(cid, self.owner(cid)):
                self._emit(i, delete)
        for c in sorted(orphans, key=lambda c: c.seq):
            self._delete_concept(c.id)


def placement_problems(shards: list[Shard]) -> list[str]:
    """What no single shard's `check` can see: routing, cross-shard endpoints, one global store order."""
    problems: list[str] = []
    seqs: dict[int, str] = {}
    count = len(shards)
    for s in shards:
        g = s.graph
        records = [(c.id, c.seq, c.id, "concept") for c in g.concepts.values()]
        records += [(a.id, a.seq, a.source, "association") for a in g.associations.values()]
        for oid, seq, home, what in records:
            if (right := shard_of(home, count)) != s.index:
                problems.append(f"{what} {oid} is stored in shard {s.index}, not shard {right}")
            if seqs.setdefault(seq, oid) != oid:
                problems.append(f"{oid} and {seqs[seq]} share seq {seq}")
        for a in g.associations.values():
            if a.target not in shards[shard_of(a.target, count)].graph.concepts:
                problems.append(f"association {a.id} points at missing concept {a.target}")
        if s.in_doubt:
            problems.append(f"shard {s.index} holds undecided transactions {s.in_doubt}")
    return problems
