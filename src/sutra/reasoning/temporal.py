"""Timelines: the order in which a subject's values held ("where was X before Y?").

Every assertion of a fact is kept on its association's `history` ([store order, statement]). A subject's
timeline for a relation is all of them, ordered by the statement's date (when the text gave one), then its
relative day ("yesterday" before "this morning"), then the order it was learned in.
"""

from __future__ import annotations

from dataclasses import dataclass

from sutra.model import Association, Concept
from sutra.store.base import Store


@dataclass(slots=True)
class Entry:
    value: str  # the concept id the subject was related to
    edge: Association
    statement: Concept | None
    seq: int

    @property
    def sort_key(self) -> tuple[str, float, int]:
        st = self.statement
        day = st.attrs.get("relative_day") if st is not None else None
        return (st.valid_from or "" if st is not None else "", float(day or 0.0), self.seq)


def timeline(store: Store, subject: str, relation: str) -> list[Entry]:
    entries = []
    for edge in store.neighbors(subject, "out", relations=[relation]):
        if edge.negated or edge.confidence < 1.0:
            continue
        for seq, statement_id in edge.history:
            statement = store.get_concept(statement_id) if statement_id else None
            entries.append(Entry(edge.target, edge, statement, seq))
    entries.sort(key=lambda e: e.sort_key)
    return entries


def neighbour(entries: list[Entry], anchors: set[str], before: bool) -> tuple[Entry, Entry] | None:
    """(the anchor entry, the entry just before / after it with another value), using the latest anchor."""
    positions = [i for i, e in enumerate(entries) if e.value in anchors]
    if not positions:
        return None
    at = positions[-1]
    others = range(at - 1, -1, -1) if before else range(at + 1, len(entries))
    for i in others:
        if entries[i].value not in anchors:
            return entries[at], entries[i]
    return None


def entity_timeline(store: Store, subject: str) -> list[Entry]:
    """Everything asserted about a subject, every relation, in the order it held."""
    relations = sorted({e.relation for e in store.neighbors(subject, "out") if e.relation != "mentions"})
    entries = [entry for relation in relations for entry in timeline(store, subject, relation)]
    entries.sort(key=lambda e: e.sort_key)
    return entries
