"""Questions about time: "where was X before Y?", "what happened on DATE?", "what happened after <event>?",
"what was true on DATE?" / "where was X on DATE?". The orderings themselves live in `temporal` (a
subject's timeline) and `events` (statements as events); this module turns them into answers.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from sutra.answer import Answer, ReasoningPath, Step
from sutra.model import Concept
from sutra.reasoning import events, temporal
from sutra.reasoning.explain import name_of, timeline_step
from sutra.reasoning.query import QueryPlan
from sutra.reasoning.replies import answered, unknown
from sutra.store.base import Store

Embed = Callable[[str], np.ndarray]


def ordered(store: Store, plan: QueryPlan, before: bool) -> Answer | None:
    """ "Where was X before Y?": X's timeline for the asked relation, the value next to Y's latest."""
    relation = next((r for r in plan.relations if r not in ("before", "after")), "located_in")
    subject, anchor = plan.focus[0], plan.focus[1]
    for start in subject.entity_ids:
        found = temporal.neighbour(temporal.timeline(store, start, relation), set(anchor.entity_ids), before)
        if found:
            at, other = found
            steps = [timeline_step(store, e) for e in ((other, at) if before else (at, other))]
            path = ReasoningPath(answer=name_of(store, other.value), steps=steps, score=0.9, kind="timeline")
            return answered(plan, path.answer, 0.9, [path], [path.answer])
    return None


def on_date(store: Store, plan: QueryPlan) -> Answer:
    """ "What happened on 12 June 2024?": the statements dated that day (about the focus, if named)."""
    day = plan.date or ""
    found = events.events_on(store, day, {i for f in plan.focus for i in f.entity_ids})
    if not found:
        return unknown(plan, f"no statement{_about(plan)} is dated {day}")
    return _events(plan, found, day, "happened")


def happened(store: Store, embed: Embed | None, plan: QueryPlan, before: bool) -> Answer | None:
    """ "What happened after the disk filled up?": the statement(s) next to the named event in time."""
    word = "before" if before else "after"
    named = re.split(rf"\b{word}\b", plan.question, maxsplit=1, flags=re.IGNORECASE)[-1].strip(" ?.!")
    if not named:
        return None
    found = events.anchor(store, named, embed(named) if embed else None)
    if found is None:
        return unknown(plan, f"no stored statement describes {named!r}")
    event, _ = found
    nearest = events.next_to(store, event, before)
    if not nearest:
        return unknown(plan, f"nothing was learned {word} {event.text!r}")
    return _events(plan, nearest, event.text, f"happened {word}")


DID_WHAT = re.compile(r"\bwhat (did|does|do)\b.*\bdo\b", re.IGNORECASE)


def as_of(store: Store, plan: QueryPlan) -> Answer:
    """ "Where was Mary on 3 May 2024?", "What was true on 3 May 2024?": the facts that held that day."""
    if DID_WHAT.search(plan.question):  # "What did Priya Nair do on …?": what happened that day, as said
        return on_date(store, plan)
    day = plan.date or ""
    subjects = {i for f in plan.focus for i in f.entity_ids}
    relations = {"located_in"} if plan.intent == "where" else None
    held = events.state_on(store, day, subjects, relations)
    if relations:  # where it was: a denial ("not in Paris") does not say where
        held = [e for e in held if not e.edge.negated]
    if not held:
        return unknown(plan, f"no dated fact{_about(plan)} held on {day}")
    paths = [
        ReasoningPath(
            answer=name_of(store, e.value), steps=[timeline_step(store, e)], score=0.9, kind="timeline"
        )
        for e in held
    ]
    if relations:  # one value asked: where the subject was
        return answered(plan, paths[-1].answer, 0.9, paths[-1:], [paths[-1].answer])
    items = [  # the state that held, closed facts and denials included
        f"{s.subject} {'not ' if s.negated else ''}{s.relation} {s.object}" for p in paths for s in p.steps
    ]
    return answered(plan, "; ".join(items), 0.9, paths, items)


def _about(plan: QueryPlan) -> str:
    return f" about {', '.join(f.text for f in plan.focus)}" if plan.focus else ""


def _events(plan: QueryPlan, found: list[Concept], anchor: str, relation: str) -> Answer:
    paths = [
        ReasoningPath(
            answer=c.text,
            score=1.0,
            kind="timeline",
            steps=[
                Step(
                    subject=anchor,
                    relation=relation,
                    object=c.text,
                    statement=c.text,
                    sources=c.sources[-1:],
                    confidence=c.confidence,
                )
            ],
        )
        for c in found
    ]
    items = [c.text for c in found]
    return answered(plan, " ".join(items), 0.9, paths, items)
