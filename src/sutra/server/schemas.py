"""Request and response bodies of the REST API (pydantic, so the OpenAPI schema is exact).

Limits mirror the engine's (`sutra.validation`): a text up to 1,000,000 characters, a question up to
10,000; the engine still checks everything (UTF-8, ISO-8601 times, ids) and refuses with a 400.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sutra import validation
from sutra.errors import InputError
from sutra.validation import MAX_QUESTION_CHARS, MAX_TEXT_CHARS

Resolve = Literal["recent", "confidence", "sources"]
SemanticTypeName = Literal[
    "entity", "event", "rule", "temporal", "negation", "condition", "causal", "quantitative", "definitional"
]
MAX_BATCH = 1000


class Utf8Body(BaseModel):
    """A request body whose every string is valid UTF-8. JSON's escapes can carry lone surrogates, which
    pydantic lets through where a string field has no constraints; the storage and SQLite cannot encode
    them, so they are refused here with a 422 that names the field."""

    @field_validator("*", mode="after")
    @classmethod
    def _utf8_only(cls, value: Any) -> Any:
        _check_utf8(value)
        return value


def _check_utf8(value: Any) -> None:
    if isinstance(value, str):
        try:
            validation.string(value, "the text")  # the engine's own UTF-8 rule, as a pydantic error
        except InputError as exc:
            raise ValueError(str(exc)) from None
    elif isinstance(value, (list, tuple)):
        for item in value:
            _check_utf8(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_utf8(key)
            _check_utf8(item)


class Strict(Utf8Body):
    model_config = ConfigDict(extra="forbid")


# ---- errors and health ----


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. not_found, forbidden, rate_limited.")
    message: str = Field(description="What failed and what to do about it.")


class ErrorBody(BaseModel):
    error: ErrorDetail


class Health(BaseModel):
    status: Literal["ok"]


class Ready(BaseModel):
    ready: bool
    detail: str


# ---- learning ----


class LearnIn(Strict):
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    source: str | None = Field(None, max_length=1000, description="Source id cited for this text.")
    time: str | None = Field(None, max_length=64, description="When the text was true (ISO-8601).")


class DocumentIn(Strict):
    id: str = Field(min_length=1, max_length=1000)
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    time: str | None = Field(None, max_length=64)
    title: str | None = Field(None, max_length=1000)
    meta: dict[str, Any] = Field(default_factory=dict)


class LearnBatchIn(Strict):
    documents: list[DocumentIn] = Field(min_length=1, max_length=MAX_BATCH)


class LearnReportOut(BaseModel):
    documents: int
    statements: int
    entities: int
    associations: int
    seconds: float
    contradictions: list[str] = Field(description="Contradictions the new facts take part in.")


# ---- asking ----


class AskIn(Strict):
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    resolve: Resolve = Field("recent", description="Which side of a contradiction a yes/no answer takes.")


class StepOut(BaseModel):
    subject: str
    relation: str
    object: str
    statement: str
    sources: list[str]
    confidence: float
    negated: bool
    current: bool


class PathOut(BaseModel):
    answer: str
    steps: list[StepOut]
    score: float
    kind: str


class AlternativeOut(BaseModel):
    answer: str
    confidence: float
    support: int


class AnswerOut(BaseModel):
    question: str
    text: str
    status: Literal["answered", "unknown"]
    confidence: float
    paths: list[PathOut] = Field(description="The reasoning paths that support the answer (the explanation).")
    sources: list[str]
    alternatives: list[AlternativeOut]
    reason: str = Field(description="Why the answer is 'I don't know', when it is.")
    label: str | None
    items: list[str]
    audit_id: str
    plan: dict[str, Any]
    conflicts: list[str]


# ---- browsing ----


class SearchHit(BaseModel):
    id: str
    text: str
    kind: str
    score: float = Field(description="Keyword: BM25; vector: cosine; hybrid: reciprocal-rank fusion.")


class SearchOut(BaseModel):
    mode: Literal["keyword", "vector", "hybrid"]
    results: list[SearchHit]


class ConceptOut(BaseModel):
    id: str
    text: str
    kind: str
    semantic_type: str
    domain: str
    confidence: float
    strength: float
    valid_from: str | None
    valid_to: str | None
    recorded_at: float
    sources: list[str]
    aliases: list[str]
    attrs: dict[str, Any]
    seq: int
    last_seq: int


class ConceptsOut(BaseModel):
    concepts: list[ConceptOut]


class NodeOut(BaseModel):
    id: str
    text: str
    kind: str


class EdgeOut(BaseModel):
    id: str
    source: str
    target: str
    type: str
    relation: str
    negated: bool
    confidence: float
    current: bool
    sources: list[str]


class GraphOut(BaseModel):
    nodes: list[NodeOut]
    edges: list[EdgeOut]


class GraphPath(BaseModel):
    nodes: list[NodeOut] = Field(description="From the start concept to the end concept, in order.")
    edges: list[EdgeOut] = Field(description="The edge between each pair of consecutive nodes.")


class PathsOut(BaseModel):
    start: list[str] = Field(description="Concept ids the start resolved to.")
    end: list[str]
    paths: list[GraphPath]


class TimelineEntry(BaseModel):
    relation: str
    value: str
    negated: bool
    statement: str
    current: bool
    sources: list[str]


class TimelineOut(BaseModel):
    subject: str
    entries: list[TimelineEntry]


class CausalOut(BaseModel):
    event: str = Field(description="The event concept the chains start from.")
    direction: Literal["causes", "effects"]
    chains: list[PathOut]


class ClaimOut(BaseModel):
    value: str
    negated: bool
    statement: str
    sources: list[str]
    association_id: str


class ContradictionOut(BaseModel):
    kind: str
    subject: str
    relation: str
    claims: list[ClaimOut]


class ContradictionsOut(BaseModel):
    contradictions: list[ContradictionOut]


class FilterIn(Strict):
    semantic_type: SemanticTypeName | None = None
    domain: str | None = Field(None, max_length=200)
    since: str | None = Field(None, max_length=64, description="Event time from (ISO-8601).")
    until: str | None = Field(None, max_length=64, description="Event time up to (ISO-8601).")
    causal_role: Literal["cause", "effect"] | None = None
    min_confidence: float = Field(0.0, ge=0.0, le=1.0)
    limit: int = Field(100, ge=1, le=1000)


class DeletedOut(BaseModel):
    deleted: str
    affected: int = Field(description="Concepts and associations removed or changed.")


# ---- accounts ----


class LoginIn(Strict):
    username: str = Field(min_length=1, max_length=63)
    password: str = Field(min_length=1, max_length=1024)


class TokenOut(BaseModel):
    token: str
    token_type: Literal["bearer"]
    expires_at: float


class UserIn(Strict):
    name: str = Field(min_length=1, max_length=63)
    password: str = Field(min_length=8, max_length=1024)
    is_admin: bool = False


class UserOut(BaseModel):
    name: str
    is_admin: bool


class UsersOut(BaseModel):
    users: list[UserOut]


class KeyIn(Strict):
    label: str = Field("", max_length=100)


class KeyOut(BaseModel):
    key: str = Field(description="Shown once; only its hash is stored.")
    id: str = Field(description="The key's id, to list or revoke it.")
    label: str


class KeyInfo(BaseModel):
    id: str
    label: str
    created: float


class KeysOut(BaseModel):
    keys: list[KeyInfo]


class SpaceIn(Strict):
    name: str = Field(min_length=1, max_length=63)
    admin: str | None = Field(None, description="The space's first admin (default: the caller).")


class SpaceOut(BaseModel):
    name: str
    role: Literal["reader", "writer", "admin"]


class SpacesOut(BaseModel):
    spaces: list[SpaceOut]


class MemberIn(Strict):
    role: Literal["reader", "writer", "admin"]


class MemberOut(BaseModel):
    user: str
    role: Literal["reader", "writer", "admin"]


class MembersOut(BaseModel):
    members: list[MemberOut]


class WhoAmI(BaseModel):
    user: str | None
    is_admin: bool
    spaces: list[SpaceOut]
