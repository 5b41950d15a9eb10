"""Events in time: what happened on a day, what happened just before or after an event, what held on a day.

Every learned statement is an event at its place in time: its date when the text gave one, then its
relative day ("yesterday" before "this morning"), then the order it was (last) learned in. Facts hold
from the statement that asserted them until a later assertion of the same subject and one-value relation
replaced them, so the state on a day is read from the subjects' timelines.
"""

from __future__ import annotations

import numpy as np

from sutra.learning import lexicon as lx
from sutra.learning import nlp
from sutra.model import Concept, ConceptKind
from sutra.reasoning.temporal import Entry
from sutra.store.base import Store

ANCHOR_MIN_SIMILARITY = 0.5  # below this, no stored statement is the event the question names
ANCHOR_CANDIDATES = 12


def order_key(statement: Concept) -> tuple[str, float, int]:
    day = statement.attrs.get("relative_day")
    return (statement.valid_from or "", float(day or 0.0), statement.last_seq)


def in_order(store: Store) -> list[Concept]:
    """Every statement, earliest first."""
    return sorted(store.concepts(ConceptKind.STATEMENT), key=order_key)


def anchor(store: Store, text: str, vector: np.ndarray | None) -> tuple[Concept, float] | None:
    """The stored statement that best matches the event a question names ("after Mary went home")."""
    ids = [cid for cid, _ in store.search_text(text, k=ANCHOR_CANDIDATES)]
    if vector is not None:
        ids += [cid for cid, _ in store.search_vector(vector, k=ANCHOR_CANDIDATES)]
    best: tuple[Concept, float] | None = None
    names = _nouns(text)
    for cid in dict.fromkeys(ids):
        concept = store.get_concept(cid)
        # "after Mary went to the kitchen" is not "Mary went to the garden": every thing named must appear
        if concept is None or concept.kind != ConceptKind.STATEMENT or not names <= _nouns(concept.text):
            continue
        if vector is not None and concept.vector is not None:
            similarity = float(np.dot(vector, concept.vector))
        else:
            similarity = _word_overlap(text, concept.text)
        if best is None or similarity > best[1]:
            best = (concept, similarity)
    return best if best is not None and best[1] >= ANCHOR_MIN_SIMILARITY else None


def _nouns(text: str) -> set[str]:
    return {t.lemma_.lower() for t in nlp.parse_one(text) if t.pos_ in ("NOUN", "PROPN")}


def _word_overlap(a: str, b: str) -> float:
    wa, wb = set(a.lower().split()), set(b.lower().split())
    return len(wa & wb) / max(1, len(wa))


def next_to(store: Store, event: Concept, before: bool) -> list[Concept]:
    """The statement(s) just before or after `event`: all of those sharing the nearest point in time."""
    ordered = in_order(store)
    at = next(i for i, c in enumerate(ordered) if c.id == event.id)
    side = ordered[:at][::-1] if before else ordered[at + 1 :]
    if not side:
        return []
    nearest = order_key(side[0])
    if not nearest[0]:  # undated statements have no shared time point: the single neighbour
        return side[:1]
    return [c for c in side if order_key(c)[:2] == nearest[:2]]


def events_on(store: Store, day: str, focus: set[str]) -> list[Concept]:
    """Statements dated on `day` (about one of `focus`, when given), earliest first."""
    found = []
    for concept in in_order(store):
        if (concept.valid_from or "")[:10] != day:
            continue
        mentioned = {e.target for e in store.neighbors(concept.id, "out", relations=["mentions"])}
        if not focus or focus & mentioned:
            found.append(concept)
    return found


def state_on(store: Store, day: str, subjects: set[str], relations: set[str] | None = None) -> list[Entry]:
    """The facts that held on `day`: for each subject and relation, dated assertions up to that day; of a
    one-value relation only the latest, of others the latest word on each value (a denial included).
    Without `subjects`, every subject some statement up to that day mentions."""
    if not subjects:
        subjects = {
            e.target
            for c in store.concepts(ConceptKind.STATEMENT)
            if c.valid_from and c.valid_from[:10] <= day
            for e in store.neighbors(c.id, "out", relations=["mentions"])
        }
    held: list[Entry] = []
    for subject in sorted(subjects):
        latest: dict[tuple[str, str], Entry] = {}
        for entry in _assertions(store, subject, day, relations):
            relation = entry.edge.relation
            key = (relation, "" if relation in lx.FUNCTIONAL_RELATIONS else entry.value)
            latest[key] = entry
        held.extend(latest.values())
    held.sort(key=lambda e: e.sort_key)
    return held


def _assertions(store: Store, subject: str, day: str, relations: set[str] | None) -> list[Entry]:
    """Every dated assertion (denials included) about `subject` up to `day`, in time order."""
    entries = []
    for edge in store.neighbors(subject, "out"):
        if (
            edge.relation == "mentions"
            or edge.confidence < 1.0
            or (relations and edge.relation not in relations)
        ):
            continue
        for seq, statement_id in edge.history:
            statement = store.get_concept(statement_id) if statement_id else None
            if statement is not None and statement.valid_from and statement.valid_from[:10] <= day:
                entries.append(Entry(edge.target, edge, statement, seq))
    entries.sort(key=lambda e: e.sort_key)
    return entries
