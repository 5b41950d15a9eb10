"""The in-memory graph: concepts, associations, and the indexes that follow directly from them.

This module owns the *meaning* of every mutation (see `sutra.model`): how a re-asserted concept is reinforced,
how an association is closed and reopened, how deletion cascades and how forgetting a source leaves no
orphans. It is deterministic: the same mutations in the same order give the same state, which is what makes
WAL replay exact.

Stored objects are never changed in place. Every change builds a new object and swaps it in, so a batch can
be rolled back by swapping the old objects back (the undo log is just "id -> object before the batch"), and
readers never see an object half-updated. Every change goes through four primitives (`_set_concept`,
`_drop_concept`, `_set_assoc`, `_drop_assoc`) which keep the graph's own indexes and tell the `hooks` (entity,
keyword and vector indexes) what changed; rollback uses the same primitives, so indexes cannot drift.

Dicts keep insertion order, and insertion order is `seq` order (a concept deleted and put again gets a fresh
`seq`); `concepts()` therefore needs no sort. Rollback of a deletion re-inserts at the end, so it re-sorts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any, Protocol

from sutra.errors import InputError, NotFoundError
from sutra.model import (
    Association,
    AssociationType,
    CloseAssociation,
    Concept,
    ConceptKind,
    DeleteAssociation,
    DeleteConcept,
    ForgetSource,
    Mutation,
    PutAssociation,
    PutConcept,
)
from sutra.store.codec import pack
from sutra.store.records import RecordTable

# key -> ordered set of ids. Indexes adopted from a snapshot hold tuples instead, which the primitives
# turn into dicts when they first change them (`_ids_to_change`).
Index = dict[str, dict[str, None]]
_UNREAD = object()  # "the caller has not looked the old record up"
Adjacency = dict[str, dict[AssociationType, dict[str, None]]]  # concept id -> type -> association ids


class GraphHooks(Protocol):
    def concept_put(self, old: Concept | None, new: Concept) -> None: ...

    def concept_removed(self, old: Concept) -> None: ...


class Graph:
    def __init__(self, hooks: GraphHooks | None = None, owns: Callable[[str], bool] | None = None) -> None:
        # A shard's graph (store/sharded.py) holds only the concepts `owns` accepts, and the associations
        # whose source it owns; endpoints and cascades that reach other shards are the sharded store's job.
        self._owns = owns
        self.concepts = RecordTable()  # id -> Concept, in seq order
        self.associations = RecordTable()  # id -> Association, in seq order
        self.seq = 0  # the persisted put counter: one increment per PutConcept/PutAssociation
        self._out: Adjacency = {}
        self._in: Adjacency = {}
        self._concepts_by_source: Index = {}
        self._assocs_by_source: Index = {}
        self._cited_by: Index = {}  # statement concept id -> associations listing it in `statements`
        self._supported_by: Index = {}  # source id -> associations whose attrs["support"] lists it
        self._hooks = hooks
        self._undo: dict[tuple[str, str], Any] | None = None
        self._undo_seq = 0
        self._dropped = False  # whether the batch in progress deleted a record (see `rollback`)

    # ---- loading and transactions ----

    def load(self, concepts: Iterable[Concept], associations: Iterable[Association], seq: int) -> None:
        """Fill an empty graph from records already in `seq` order (an old-format snapshot, `check`, and
        the snapshot writer, which saves the indexes built here). Hooks are not called.

        The index updates of `_index_concept`/`_index_assoc` are inlined (nothing to unindex in an empty
        graph): this loop is most of the time it takes, and `check` compares its result with theirs.
        """
        concepts_by_source, assocs_by_source, cited_by = (
            self._concepts_by_source,
            self._assocs_by_source,
            self._cited_by,
        )
        for c in concepts:
            self.concepts[c.id] = c
            for src in c.sources:
                concepts_by_source.setdefault(src, {})[c.id] = None
        out, into = self._out, self._in
        for a in associations:
            aid = a.id
            self.associations[aid] = a
            out.setdefault(a.source, {}).setdefault(a.type, {})[aid] = None
            into.setdefault(a.target, {}).setdefault(a.type, {})[aid] = None
            for src in a.sources:
                assocs_by_source.setdefault(src, {})[aid] = None
            for statement in a.statements:
                cited_by.setdefault(statement, {})[aid] = None
            for src in _support(a):
                self._supported_by.setdefault(src, {})[aid] = None
        self.seq = seq

    def adopt(
        self, concepts: RecordTable, associations: RecordTable, indexes: dict[str, Any], seq: int
    ) -> None:
        """Take a format-4 snapshot's tables and the indexes saved with them (`packed_indexes`) as they are:
        records are decoded when first read, index entries are tuples until first changed."""
        self.concepts, self.associations, self.seq = concepts, associations, seq
        self._out, self._in = indexes["out"], indexes["in"]  # tables too: entries decoded on first use
        self._concepts_by_source = indexes["concepts_by_source"]
        self._assocs_by_source = indexes["associations_by_source"]
        self._cited_by = indexes["cited_by"]
        self._supported_by = indexes["supported_by"]

    def packed_indexes(self) -> dict[str, list[tuple[str, bytes]]]:
        """The graph's own indexes as (key, packed entry) pairs for a snapshot (`adopt` takes them back):
        an entry as a list of ids, adjacency as a map of type -> ids. Entries adopted from a snapshot and
        never read are copied as they were packed."""

        def adjacency(by: dict[Any, Any]) -> bytes:
            return pack({str(t): list(ids) for t, ids in by.items()})

        def ids(entry: Any) -> bytes:
            return pack(list(entry))

        tables = {
            "out": (self._out, adjacency),
            "in": (self._in, adjacency),
            "concepts_by_source": (self._concepts_by_source, ids),
            "associations_by_source": (self._assocs_by_source, ids),
            "cited_by": (self._cited_by, ids),
            "supported_by": (self._supported_by, ids),
        }
        return {
            name: list(
                table.packed_items(encode)
                if isinstance(table, RecordTable)
                else ((key, encode(entry)) for key, entry in table.items())
            )
            for name, (table, encode) in tables.items()
        }

    def begin(self) -> None:
        self._undo, self._undo_seq, self._dropped = {}, self.seq, False

    def commit(self) -> None:
        self._undo = None

    def rollback(self) -> None:
        undo, self._undo = self._undo or {}, None
        # a record deleted in the batch (even if put again since) is re-inserted at the end of its table
        reinserted, self._dropped = self._dropped, False
        for (kind, oid), old in reversed(undo.items()):
            table = self.concepts if kind == "c" else self.associations
            current = table.get(oid)
            if old is None:
                if current is not None:
                    self._drop_concept(oid) if kind == "c" else self._drop_assoc(oid)
            elif kind == "c":
                self._set_concept(old)
            else:
                self._set_assoc(old)
        self.seq = self._undo_seq
        if reinserted:  # restore the "insertion order is seq order" invariant
            self.concepts.sort_by_seq()
            self.associations.sort_by_seq()

    # ---- mutations ----

    def apply(self, m: Mutation) -> None:
        """Apply one mutation. The graph takes ownership of new records in `m` and may store them as they are;
        the store only passes records it has just decoded from the WAL bytes, which nobody else holds."""
        if isinstance(m, PutConcept):
            self._put_concept(m.concept)
        elif isinstance(m, PutAssociation):
            self._put_association(m.association)
        elif isinstance(m, CloseAssociation):
            self._close(m.association_id, m.valid_to)
        elif isinstance(m, DeleteConcept):
            if m.concept_id in self.concepts:
                self._delete_concept(m.concept_id, set())
            elif not self.owns(m.concept_id):  # deleted in its own shard: drop what refers to it here
                self._drop_references(m.concept_id, set())
        elif isinstance(m, DeleteAssociation):
            if m.association_id in self.associations:
                self._drop_assoc(m.association_id)
        elif isinstance(m, ForgetSource):
            self._forget_source(m.source_id)
        else:
            raise InputError(f"not a mutation: {type(m).__name__}")

    def _put_concept(self, inc: Concept) -> None:
        self.seq += 1
        old = self.concepts.get(inc.id)
        if old is None:
            new = inc  # owned by the graph from here on (see `apply`)
            new.sources, new.aliases = _union([], inc.sources), _union([], inc.aliases)
            new.seq = new.last_seq = self.seq
        else:
            if old.kind != inc.kind:
                raise InputError(
                    f"concept {inc.id} exists as a {old.kind}; it cannot be re-put as a {inc.kind}"
                )
            new = replace(
                old,
                sources=_union(old.sources, inc.sources),
                aliases=old.aliases + [a for a in _union([], inc.aliases) if a not in old.aliases],
                strength=old.strength + inc.strength,
                confidence=max(old.confidence, inc.confidence),
                attrs=_merge(old.attrs, inc.attrs),
                valid_from=old.valid_from if old.valid_from is not None else inc.valid_from,
                valid_to=old.valid_to if old.valid_to is not None else inc.valid_to,
                vector=old.vector if inc.vector is None else inc.vector,
                last_seq=self.seq,
            )
        self._set_concept(new, old)

    def _put_association(self, inc: Association) -> None:
        self.seq += 1
        old = self.associations.get(inc.id)
        if old is None:
            for end in (inc.source, inc.target):
                if end not in self.concepts and self.owns(end):
                    raise NotFoundError(
                        f"association {inc.id} ({inc.source} -{inc.relation}-> {inc.target}) points at "
                        f"concept {end}, which does not exist; put the concept first (earlier in the same "
                        "batch is fine)"
                    )
            new = inc
            new.sources, new.statements = _union([], inc.sources), _union([], inc.statements)
            new.seq, new.last_seq, new.closed_seq = self.seq, self.seq, None
            new.history = [_assertion(self.seq, inc)]
        else:
            shape = ("source", "target", "type", "relation", "negated")
            if any(getattr(old, f) != getattr(inc, f) for f in shape):
                raise InputError(f"association {inc.id} exists with a different source/target/type/relation")
            reopened = old.closed_seq is not None
            new = replace(
                old,
                sources=_union(old.sources, inc.sources),
                statements=_union(old.statements, inc.statements),
                strength=old.strength + inc.strength,
                confidence=max(old.confidence, inc.confidence),
                # an edge's attributes describe its latest assertion (e.g. which statements support it)
                attrs={**old.attrs, **inc.attrs},
                valid_from=old.valid_from if old.valid_from is not None else inc.valid_from,
                valid_to=inc.valid_to if reopened or old.valid_to is None else old.valid_to,
                last_seq=self.seq,
                closed_seq=None,
                history=[*old.history, _assertion(self.seq, inc)],
            )
        self._set_assoc(new, old)

    def _close(self, aid: str, valid_to: str | None) -> None:
        a = self.associations.get(aid)
        if a is None:
            raise NotFoundError(f"cannot close association {aid}: it does not exist")
        if a.closed_seq is None:  # closing twice keeps the first closing
            self._set_assoc(
                replace(a, closed_seq=self.seq, valid_to=a.valid_to if valid_to is None else valid_to)
            )

    def _delete_concept(self, cid: str, touched: set[str]) -> None:
        """Remove a concept, every edge touching it, and its id from `statements` lists and `history`."""
        self._drop_references(cid, touched)
        self._drop_concept(cid)
        touched.discard(cid)

    def _drop_references(self, cid: str, touched: set[str]) -> None:
        for a in self.edges(cid, "both"):
            touched.update((a.source, a.target))
            self._drop_assoc(a.id)
        for aid in self._by_seq(self._cited_by.get(cid, {}), self.associations):
            a = self.associations[aid]
            # the assertions the statement made leave the fact's timeline too, or it would cite a ghost
            self._set_assoc(
                replace(
                    a,
                    statements=[s for s in a.statements if s != cid],
                    history=[h for h in a.history if h[1] != cid],
                )
            )

    def _forget_source(self, src: str) -> None:
        touched: set[str] = set()  # endpoints of removed edges: candidates for orphaned entities
        for aid in self._by_seq(self._assocs_by_source.get(src, {}), self.associations):
            a = self.associations.get(aid)
            if a is None:
                continue
            if len(a.sources) > 1:
                self._set_assoc(replace(a, sources=[s for s in a.sources if s != src]))
            else:
                touched.update((a.source, a.target))
                self._drop_assoc(aid)
        for cid in self._by_seq(self._concepts_by_source.get(src, {}), self.concepts):
            c = self.concepts.get(cid)
            if c is None:
                continue
            if len(c.sources) > 1:
                self._set_concept(replace(c, sources=[s for s in c.sources if s != src]))
            else:
                self._delete_concept(cid, touched)
        # In a shard, whether an entity is left orphaned depends on every shard: the sharded store decides.
        for cid in self._by_seq(touched, self.concepts) if self._owns is None else ():
            c = self.concepts.get(cid)
            if c is not None and c.kind == ConceptKind.ENTITY and not c.sources and not self.has_edges(cid):
                self._delete_concept(cid, set())
        # An edge learned from another source may lean on this one (a pronoun's antecedent, a holder's
        # location: `attrs["support"]`, see learning/writer.py). It stays, but stops citing the forgotten
        # source (found through the support index: a scan would decode every edge of a lazily opened store).
        for aid in self._by_seq(self._supported_by.get(src, {}), self.associations):
            a = self.associations[aid]
            kept = [s for s in _support(a) if s != src]
            self._set_assoc(replace(a, attrs={**a.attrs, "support": kept}))

    # ---- reads ----

    def edges(
        self, cid: str, direction: str, types: Iterable[AssociationType] | None = None
    ) -> list[Association]:
        """Associations touching `cid` in `direction` ("out", "in", "both"), in `seq` order."""
        wanted = None if types is None else set(types)
        ids: dict[str, None] = {}
        for adj in (
            (self._out, self._in) if direction == "both" else (self._out if direction == "out" else self._in,)
        ):
            for t, aids in adj.get(cid, {}).items():
                if wanted is None or t in wanted:
                    ids.update(aids if type(aids) is dict else dict.fromkeys(aids))
        return sorted((self.associations[aid] for aid in ids), key=lambda a: a.seq)

    def has_edges(self, cid: str) -> bool:
        return cid in self._out or cid in self._in

    def is_cited(self, cid: str) -> bool:
        """Whether an association lists `cid` among its statements."""
        return cid in self._cited_by

    def owns(self, cid: str) -> bool:
        return self._owns is None or self._owns(cid)

    def ids_by_source(self, src: str) -> list[str]:
        return self._by_seq(self._concepts_by_source.get(src, {}), self.concepts) + self._by_seq(
            self._assocs_by_source.get(src, {}), self.associations
        )

    def derived_indexes(self) -> dict[str, Any]:
        """The graph's own indexes in a comparable form (for `check`)."""

        def adjacency(adj: Adjacency) -> dict[tuple[str, str], frozenset[str]]:
            return {(cid, str(t)): frozenset(ids) for cid, by in adj.items() for t, ids in by.items()}

        def index(ix: Index) -> dict[str, frozenset[str]]:
            return {k: frozenset(v) for k, v in ix.items()}

        return {
            "out-adjacency": adjacency(self._out),
            "in-adjacency": adjacency(self._in),
            "concepts-by-source": index(self._concepts_by_source),
            "associations-by-source": index(self._assocs_by_source),
            "statement citations": index(self._cited_by),
            "support": index(self._supported_by),
        }

    def check(self) -> list[str]:
        """Compare every graph index with one rebuilt from the primary records; check their invariants."""
        # first, while rows not read yet are still rows: do their one-byte columns agree with them?
        problems = self.concepts.column_mismatches() + self.associations.column_mismatches()
        fresh = Graph()
        fresh.load(self.concepts.values(), self.associations.values(), self.seq)
        mine, expected = self.derived_indexes(), fresh.derived_indexes()
        for name, ix in expected.items():
            if mine[name] != ix:
                diff = set(mine[name].items()) ^ set(ix.items())
                problems.append(
                    f"{name} index differs from the records ({len(diff)} entries), e.g. {min(diff)}"
                )
        for a in self.associations.values():
            for end in (a.source, a.target):
                if end not in self.concepts and self.owns(end):
                    problems.append(f"association {a.id} points at missing concept {end}")
        first_seqs: dict[int, str] = {}
        for table in (self.concepts, self.associations):
            previous = 0
            for oid, obj in table.items():
                if obj.id != oid:
                    problems.append(f"record stored under {oid} has id {obj.id}")
                if not 0 < obj.seq <= obj.last_seq <= self.seq:
                    problems.append(f"{oid}: seq {obj.seq}/last_seq {obj.last_seq} outside 1..{self.seq}")
                if obj.seq in first_seqs:
                    problems.append(f"{oid} and {first_seqs[obj.seq]} share seq {obj.seq}")
                first_seqs[obj.seq] = oid
                if obj.seq < previous:
                    problems.append(f"{oid} is out of seq order")
                previous = obj.seq
                lists = [obj.sources] + ([obj.aliases] if isinstance(obj, Concept) else [obj.statements])
                if any(len(set(xs)) != len(xs) for xs in lists):
                    problems.append(f"{oid} lists a source, alias or statement twice")
        return problems

    # ---- primitives: the only code that changes state ----

    def _remember(self, kind: str, oid: str, old: Any, *, dropped: bool = False) -> None:
        if self._undo is not None:
            self._dropped |= dropped
            if (kind, oid) not in self._undo:
                self._undo[(kind, oid)] = old

    def _set_concept(self, new: Concept, old: Any = _UNREAD) -> None:
        if old is _UNREAD:  # the callers that have just read it pass it: one lookup less per write
            old = self.concepts.get(new.id)
        self._remember("c", new.id, old)
        self.concepts[new.id] = new
        self._index_concept(old, new)
        if self._hooks is not None:
            self._hooks.concept_put(old, new)

    def _drop_concept(self, cid: str) -> None:
        old = self.concepts[cid]
        self._remember("c", cid, old, dropped=True)
        del self.concepts[cid]
        _reindex(self._concepts_by_source, cid, old.sources, ())
        if self._hooks is not None:
            self._hooks.concept_removed(old)

    def _set_assoc(self, new: Association, old: Any = _UNREAD) -> None:
        if old is _UNREAD:
            old = self.associations.get(new.id)
        self._remember("a", new.id, old)
        self.associations[new.id] = new
        self._index_assoc(old, new)

    def _drop_assoc(self, aid: str) -> None:
        old = self.associations[aid]
        self._remember("a", aid, old, dropped=True)
        del self.associations[aid]
        _unlink(self._out, old.source, old.type, aid)
        _unlink(self._in, old.target, old.type, aid)
        _reindex(self._assocs_by_source, aid, old.sources, ())
        _reindex(self._cited_by, aid, old.statements, ())
        _reindex(self._supported_by, aid, _support(old), ())

    def _index_concept(self, old: Concept | None, new: Concept) -> None:
        _reindex(self._concepts_by_source, new.id, old.sources if old else (), new.sources)

    def _index_assoc(self, old: Association | None, new: Association) -> None:
        if old is None:  # source, target and type never change for an existing id
            _ids_to_change(self._out.setdefault(new.source, {}), new.type)[new.id] = None
            _ids_to_change(self._in.setdefault(new.target, {}), new.type)[new.id] = None
        _reindex(self._assocs_by_source, new.id, old.sources if old else (), new.sources)
        _reindex(self._cited_by, new.id, old.statements if old else (), new.statements)
        if "support" in new.attrs or (old is not None and "support" in old.attrs):
            _reindex(self._supported_by, new.id, _support(old) if old else (), _support(new))

    @staticmethod
    def _by_seq(ids: Iterable[str], table: dict[str, Any]) -> list[str]:
        return sorted((i for i in ids if i in table), key=lambda i: table[i].seq)


def _support(a: Association) -> list[str]:
    """The sources an edge leans on besides its own (`attrs["support"]`, see learning/writer.py)."""
    support = a.attrs.get("support")
    return [s for s in support if isinstance(s, str)] if isinstance(support, list) else []


def _union(old: list[str], new: Iterable[str]) -> list[str]:
    """`old` then `new`; an item of `new` already present moves to the end (it is the newest assertion)."""
    out = dict.fromkeys(old)
    for item in new:
        out.pop(item, None)
        out[item] = None
    return list(out)


def _assertion(seq: int, inc: Association) -> list[Any]:
    """One entry of an association's timeline: when (store order) and by which statement."""
    return [seq, inc.statements[-1] if inc.statements else None]


def _merge(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Existing attributes win; new keys are added after them."""
    added = {k: v for k, v in new.items() if k not in old}
    return {**old, **added} if added else old


def _reindex(index: Index, oid: str, old_keys: Iterable[str], new_keys: Iterable[str]) -> None:
    if not old_keys:  # a new record (most writes): additions only, without building sets
        for key in new_keys:
            ids = index.get(key)
            if type(ids) is dict:  # `_ids_to_change`'s common case, inlined: ~3% of batched writes
                ids[oid] = None
            else:
                _ids_to_change(index, key)[oid] = None
        return
    old_set, new_set = set(old_keys), set(new_keys)
    for key in old_set - new_set:
        ids = _ids_to_change(index, key)
        del ids[oid]
        if not ids:
            del index[key]
    for key in new_set - old_set:
        _ids_to_change(index, key)[oid] = None


def _unlink(adj: Adjacency, cid: str, t: AssociationType, aid: str) -> None:
    by_type = adj[cid]
    ids = _ids_to_change(by_type, t)
    del ids[aid]
    if not ids:
        del by_type[t]
        if not by_type:
            del adj[cid]


def _ids_to_change(level: dict[Any, Any], key: Any) -> dict[str, None]:
    """The ordered id set under `key`, created if missing, made a dict if a snapshot left it a tuple."""
    ids = level.get(key)
    if ids is None:
        ids = level[key] = {}
    elif type(ids) is not dict:
        ids = level[key] = dict.fromkeys(ids)
    return ids
