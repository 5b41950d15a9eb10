"""What `Sutra.ask` returns: the answer, its reasoning paths, confidence, sources, and the audit id."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

AnswerStatus = Literal["answered", "unknown"]
UNKNOWN_TEXT = "I don't know"


@dataclass(slots=True)
class Step:
    """One hop of a reasoning path: `subject --relation--> object`, the statement it rests on, its sources."""

    subject: str
    relation: str
    object: str
    statement: str
    sources: list[str]
    confidence: float
    negated: bool = False
    current: bool = True


@dataclass(slots=True)
class ReasoningPath:
    answer: str
    steps: list[Step]
    score: float
    kind: str = "graph"  # graph | inheritance | text-match


@dataclass(slots=True)
class Alternative:
    answer: str
    confidence: float
    support: int


@dataclass(slots=True)
class Answer:
    """An answer built only from stored facts, or an honest "I don't know" with `reason`.

    `label` is set for yes/no/true/false questions ("yes", "no", "maybe", "true", "false" or "unknown").
    `items` holds each element of a list answer. `sources` are the source ids of every statement the
    answer's supporting paths rest on, in proof order. `conflicts` describes every contradiction among the
    current facts of the subjects the answer rests on (an answer that touches one says so).
    """

    question: str
    text: str
    status: AnswerStatus
    confidence: float
    paths: list[ReasoningPath] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    alternatives: list[Alternative] = field(default_factory=list)
    reason: str = ""
    label: str | None = None
    items: list[str] = field(default_factory=list)
    audit_id: str = ""
    plan: dict[str, Any] = field(default_factory=dict)
    conflicts: list[str] = field(default_factory=list)  # contradictions touching the facts used, both sides

    @property
    def known(self) -> bool:
        return self.status == "answered"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
