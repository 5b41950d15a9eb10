"""What `Sutra.ask` returns: the answer, its reasoning paths, confidence, sources, and the audit id."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

AnswerStatus = Literal["answered", "unknown"]
UNKNOWN_TEXT = "I don't know"


def plain_data(value: Any) -> Any:
    """`dataclasses.asdict` for dataclasses holding plain data (scalars, lists, tuples, dicts): the same
    deep copy, about four times faster. Every answer is turned into a dict for its audit record and again
    for its reply, and asdict's general machinery took 8% of a server's Python time on an ask."""
    names = getattr(value, "__dataclass_fields__", None)
    if names is not None:
        return {name: plain_data(getattr(value, name)) for name in names}
    if isinstance(value, dict):
        return {key: plain_data(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain_data(item) for item in value]
    if isinstance(value, tuple):
        return tuple(plain_data(item) for item in value)
    return value


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
        return plain_data(self)  # type: ignore[no-any-return]
