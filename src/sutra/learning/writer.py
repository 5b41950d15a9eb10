"""Turns extracted statements into store mutations: concepts, associations, and closures of replaced facts.

Closing needs to know what is current, including facts created earlier in the same batch, so a small
overlay (`CurrentFacts`) sits on top of the store while a batch is being planned.
"""

from __future__ import annotations

import time as clock
from collections.abc import Sequence

import numpy as np

from sutra.learning.entities import EntityRef, normalize_name
from sutra.learning.pipeline import Statement
from sutra.learning.relations import Fact
from sutra.model import (
    Association,
    AssociationType,
    CloseAssociation,
    Concept,
    ConceptKind,
    Mutation,
    PutAssociation,
    PutConcept,
    SemanticType,
    association_id,
    content_id,
)
from sutra.store.base import Store

MENTIONS = "mentions"


def statement_id(text: str) -> str:
    return content_id("s", normalize_name(text))


def event_id(key: str) -> str:
    """Events are identified by their clause key (content lemmas), see `clauses.clause_key`."""
    return content_id("v", normalize_name(key))


class CurrentFacts:
    """The current targets of (subject, relation), read from the store once and updated as we plan."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._cache: dict[tuple[str, str], dict[str, tuple[str, bool]]] = {}

    def get(self, subject: str, relation: str) -> dict[str, tuple[str, bool]]:
        key = (subject, relation)
        if key not in self._cache:
            edges = self.store.neighbors(subject, "out", relations=[relation], current_only=True)
            self._cache[key] = {a.id: (a.target, a.negated) for a in edges}
        return self._cache[key]


class BatchWriter:
    def __init__(self, store: Store) -> None:
        self.current = CurrentFacts(store)
        self.now = clock.time()
        self.mutations: list[Mutation] = []
        self._fresh: set[str] = set()  # edges asserted by the statement being planned: never closed by it
        self._planned_sources: dict[str, str] = {}
        self._planned_times: dict[str, str | None] = {}

    def add(self, statements: Sequence[Statement], vectors: np.ndarray | None) -> list[Mutation]:
        for i, st in enumerate(statements):
            self._statement(st, None if vectors is None else vectors[i])
        return self.mutations

    def _statement(self, st: Statement, vector: np.ndarray | None) -> None:
        sid = statement_id(st.text)
        self._fresh = set()
        kind = ConceptKind.RULE if st.semantic_type == SemanticType.RULE else ConceptKind.STATEMENT
        attrs: dict[str, object] = {"offset": st.offset}
        if st.rule is not None:
            attrs["rule"] = st.rule.to_attrs()
        if st.time.expression:
            attrs["time_expression"] = st.time.expression
        if st.time.relative is not None:
            attrs["relative_day"] = st.time.relative
        if st.transfers:
            attrs["transfers"] = [t.to_attrs() for t in st.transfers]
        self.mutations.append(
            PutConcept(
                Concept(
                    id=sid,
                    text=st.text,
                    kind=kind,
                    semantic_type=st.semantic_type,
                    domain=st.domain,
                    valid_from=st.time.iso,
                    recorded_at=self.now,
                    sources=[st.source],
                    attrs=attrs,
                    vector=vector,
                )
            )
        )
        for ref in st.entities:
            self._entity(ref, st)
            self._edge(sid, MENTIONS, ref.id, st, sid, assoc_type=AssociationType.SEMANTIC)
        for fact in st.facts:
            self._fact(fact, st, sid)
        for link in st.links:
            cause = self._event(link.cause, link.cause_key, st)
            effect = self._event(link.effect, link.effect_key, st)
            rel_type = AssociationType.CAUSAL
            self._edge(cause, link.relation, effect, st, sid, assoc_type=rel_type)
            self._edge(sid, MENTIONS, cause, st, sid, assoc_type=AssociationType.SEMANTIC)
            self._edge(sid, MENTIONS, effect, st, sid, assoc_type=AssociationType.SEMANTIC)

    def _fact(self, fact: Fact, st: Statement, sid: str) -> None:
        support = list(st.antecedents)
        subject, obj = fact.subject.id, fact.object.id
        if fact.closes:
            self._close_where(subject, fact.closes, lambda target, neg: target == obj)
            self._at_holder(subject, obj, st, sid, support)
        if fact.relation == "has" and not fact.negated:
            # a taken thing is where its taker is (and from now on moves with it)
            self._close_where(obj, "located_in", lambda target, neg: True)
            self._at_holder(subject, obj, st, sid, support)
        if st.time.iso and fact.confidence >= 1.0:
            self._supersede_dated(subject, fact, obj, st.time.iso)
        if fact.functional and fact.confidence >= 1.0:
            self._close_functional(subject, fact.relation, obj, fact.negated)
        elif fact.functional:
            # a hedged value ("either A or B") still ends what was known for sure before
            self._close_where(subject, fact.relation, lambda target, neg: True)
        self._edge(
            subject,
            fact.relation,
            obj,
            st,
            sid,
            negated=fact.negated,
            assoc_type=fact.type,
            confidence=fact.confidence,
            support=support,
        )
        if fact.relation == "located_in" and not fact.negated and fact.confidence >= 1.0:
            self._carry_along(subject, obj, st, sid, support)

    def _carry_along(self, holder: str, place: str, st: Statement, sid: str, support: list[str]) -> None:
        """What the holder carries moves with it, so each carried thing's own timeline stays complete."""
        for aid, (thing, negated) in list(self.current.get(holder, "has").items()):
            if not negated and aid not in self._fresh:
                self._relocate(thing, place, st, sid, [*support, self._source_of(aid)])

    def _at_holder(self, holder: str, thing: str, st: Statement, sid: str, support: list[str]) -> None:
        """A thing taken or released is where its holder is: "Mary dropped the football" (in the garden)."""
        for aid, (place, negated) in list(self.current.get(holder, "located_in").items()):
            if not negated:
                self._relocate(thing, place, st, sid, [*support, self._source_of(aid)])
                return

    def _relocate(self, thing: str, place: str, st: Statement, sid: str, why: list[str | None]) -> None:
        """A derived location: it ends the thing's previous one (even one derived earlier in the same
        statement: "Bill handed the ball to Jeff" puts it where Bill is, then where Jeff is) and cites what
        it was derived from."""
        self._close_where(thing, "located_in", lambda target, neg: True, even_fresh=True)
        support = list(dict.fromkeys(s for s in why if s and s != st.source))
        self._edge(thing, "located_in", place, st, sid, assoc_type=AssociationType.SEMANTIC, support=support)

    def _source_of(self, aid: str) -> str | None:
        """The newest source of an edge, whether already stored or planned earlier in this batch."""
        if aid in self._planned_sources:
            return self._planned_sources[aid]
        edge = self.current.store.get_association(aid)
        return edge.sources[-1] if edge and edge.sources else None

    def _entity(self, ref: EntityRef, st: Statement) -> None:
        attrs: dict[str, object] = {"proper": ref.proper}
        if ref.ner:
            attrs["ner"] = ref.ner
        self.mutations.append(
            PutConcept(
                Concept(
                    id=ref.id,
                    text=ref.name,
                    kind=ConceptKind.ENTITY,
                    semantic_type=SemanticType.ENTITY,
                    domain=st.domain,
                    recorded_at=self.now,
                    sources=[st.source],
                    aliases=list(ref.aliases),
                    attrs=attrs,
                )
            )
        )

    def _event(self, text: str, key: str, st: Statement) -> str:
        eid = event_id(key or text)
        self.mutations.append(
            PutConcept(
                Concept(
                    id=eid,
                    text=text,
                    kind=ConceptKind.EVENT,
                    semantic_type=SemanticType.EVENT,
                    domain=st.domain,
                    valid_from=st.time.iso,
                    recorded_at=self.now,
                    sources=[st.source],
                    attrs={"key": key},
                )
            )
        )
        return eid

    def _edge(
        self,
        source: str,
        relation: str,
        target: str,
        st: Statement,
        sid: str,
        *,
        negated: bool = False,
        assoc_type: AssociationType,
        confidence: float = 1.0,
        support: list[str] | None = None,
    ) -> None:
        aid = association_id(source, relation, target, negated, hedged=confidence < 1.0)
        self._planned_sources[aid] = st.source
        self._planned_times[aid] = st.time.iso
        self.mutations.append(
            PutAssociation(
                Association(
                    id=aid,
                    source=source,
                    target=target,
                    type=assoc_type,
                    relation=relation,
                    negated=negated,
                    confidence=confidence,
                    valid_from=st.time.iso,
                    recorded_at=self.now,
                    sources=[st.source],
                    statements=[sid],
                    # other sources this assertion rests on (a pronoun's antecedent, a holder's location)
                    attrs={} if relation == MENTIONS else {"support": list(support or [])},
                )
            )
        )
        if relation != MENTIONS:
            self.current.get(source, relation)[aid] = (target, negated)
            self._fresh.add(aid)

    def _supersede_dated(self, subject: str, fact: Fact, obj: str, when: str) -> None:
        """A status update: "the disk is full" (1 May) then "the disk is not full" (3 May) is a change, not a
        contradiction, so the earlier word ends. Undated opposite statements stay a contradiction."""
        for aid, (target, neg) in list(self.current.get(subject, fact.relation).items()):
            stated = self._time_of(aid)
            if target == obj and neg != fact.negated and stated and stated < when and aid not in self._fresh:
                self.mutations.append(CloseAssociation(aid))
                del self.current.get(subject, fact.relation)[aid]

    def _time_of(self, aid: str) -> str | None:
        if aid in self._planned_times:
            return self._planned_times[aid]
        edge = self.current.store.get_association(aid)
        return edge.valid_from if edge else None

    def _close_functional(self, subject: str, relation: str, target: str, negated: bool) -> None:
        """A new value replaces the old: "X is in B" ends "X is in A"; "X is not in A" ends "X is in A"."""
        if negated:
            self._close_where(subject, relation, lambda t, neg: t == target and not neg)
        else:
            self._close_where(subject, relation, lambda t, neg: t != target or neg)

    def _close_where(self, subject: str, relation: str, predicate, even_fresh: bool = False) -> None:  # type: ignore[no-untyped-def]
        current = self.current.get(subject, relation)
        for aid, (target, neg) in list(current.items()):
            if (even_fresh or aid not in self._fresh) and predicate(target, neg):
                self.mutations.append(CloseAssociation(aid))
                del current[aid]
