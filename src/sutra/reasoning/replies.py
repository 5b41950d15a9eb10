"""The two shapes every reasoning route returns: an answer resting on paths, or "I don't know" and why."""

from __future__ import annotations

from sutra.answer import UNKNOWN_TEXT, Alternative, Answer, ReasoningPath
from sutra.reasoning.explain import cited_sources
from sutra.reasoning.query import QueryPlan


def answered(
    plan: QueryPlan, text: str, confidence: float, paths: list[ReasoningPath], items: list[str] | None = None
) -> Answer:
    """An answer citing the sources of every step of its paths, in proof order."""
    return Answer(
        plan.question,
        text,
        "answered",
        round(confidence, 4),
        paths=paths,
        sources=cited_sources(paths),
        items=list(items or []),
        plan=plan.to_dict(),
    )


def unknown(
    plan: QueryPlan, reason: str, *, label: str | None = None, alternatives: list[Alternative] | None = None
) -> Answer:
    return Answer(
        plan.question,
        UNKNOWN_TEXT,
        "unknown",
        0.0,
        reason=reason,
        label=label or "unknown",
        alternatives=list(alternatives or []),
        plan=plan.to_dict(),
    )
