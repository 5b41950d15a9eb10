"""Reasoning paths as auditors read them: each hop with the statement it rests on and its source ids."""

from __future__ import annotations

from sutra.answer import ReasoningPath, Step
from sutra.model import Association
from sutra.reasoning.inference import Closure, Key, proof_steps
from sutra.reasoning.paths import Candidate
from sutra.reasoning.temporal import Entry
from sutra.store.base import Store


def name_of(store: Store, concept_id: str) -> str:
    concept = store.get_concept(concept_id)
    return concept.text if concept else concept_id


def step_of(store: Store, edge: Association) -> Step:
    statement_id = edge.statements[-1] if edge.statements else None
    statement = store.get_concept(statement_id) if statement_id else None
    return Step(
        subject=name_of(store, edge.source),
        relation=edge.relation,
        object=name_of(store, edge.target),
        statement=statement.text if statement else "",
        # the newest assertion is the one the answer rests on, with whatever it leaned on
        sources=list(dict.fromkeys([*edge.attrs.get("support", []), *edge.sources[-1:]])),
        confidence=round(edge.confidence, 4),
        negated=edge.negated,
        current=edge.current,
    )


def timeline_step(store: Store, entry: Entry) -> Step:
    """One assertion on a timeline, citing the statement that made it (not the fact's latest one)."""
    step = step_of(store, entry.edge)
    if entry.statement is not None:
        step.statement = entry.statement.text
        step.sources = list(
            dict.fromkeys([*entry.edge.attrs.get("support", []), *entry.statement.sources[-1:]])
        )
    step.current = True
    return step


def path_of(store: Store, cand: Candidate) -> ReasoningPath:
    kind = "inheritance" if any(e.relation == "is_a" for e in cand.edges[:-1]) else cand.kind
    return ReasoningPath(
        answer=name_of(store, cand.answer_id),
        steps=[step_of(store, e) for e in cand.edges],
        score=round(cand.score, 4),
        kind=kind,
    )


def proof_path(store: Store, closure: Closure, key: Key) -> ReasoningPath:
    """A derived fact's proof as steps: stated premises as they were learned, each rule application as a
    step that quotes the rule."""
    steps = []
    for (subject, relation, obj, negated), proof in proof_steps(closure, key):
        if proof.association_id is not None:
            edge = store.get_association(proof.association_id)
            if edge is not None:
                steps.append(step_of(store, edge))
            continue
        rule = store.get_concept(proof.rule_id) if proof.rule_id else None
        steps.append(
            Step(
                subject=name_of(store, subject),
                relation=relation,
                object=name_of(store, obj),
                statement=rule.text if rule else "",
                sources=rule.sources[-1:] if rule else [],
                confidence=1.0,
                negated=negated,
            )
        )
    return ReasoningPath(answer=name_of(store, key[2]), steps=steps, score=1.0, kind="rule-chain")


def cited_sources(paths: list[ReasoningPath]) -> list[str]:
    """Source ids in proof order, each once."""
    seen: dict[str, None] = {}
    for path in paths:
        for step in path.steps:
            for src in step.sources:
                seen.setdefault(src, None)
    return list(seen)


def render(path: ReasoningPath) -> list[str]:
    """Plain-text lines for one path, used by the CLI and the demo."""
    lines = []
    for i, step in enumerate(path.steps, 1):
        rel = ("NOT " if step.negated else "") + step.relation
        when = "" if step.current else " (no longer current)"
        src = ", ".join(step.sources)
        lines.append(f"{i}. {step.subject} --{rel}--> {step.object}{when}")
        if step.statement:
            lines.append(f'   "{step.statement}" [{src}]')
    return lines
