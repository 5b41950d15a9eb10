"""Response helpers: fast JSON bodies, the streaming media types, and the error responses each route
declares so the OpenAPI schema lists every status it can return."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response, StreamingResponse

from sutra.server.schemas import ErrorBody

_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def dumps(value: Any) -> bytes:
    return orjson.dumps(value, default=str, option=_OPTIONS)


def json_response(value: Any, status: int = 200) -> Response:
    """Bypasses FastAPI's re-validation on hot paths; the declared response_model still documents it."""
    return Response(dumps(value), status_code=status, media_type="application/json")


class NDJSONResponse(StreamingResponse):
    media_type = "application/x-ndjson"


class EventStreamResponse(StreamingResponse):
    media_type = "text/event-stream"


def event_stream(events: list[str] | None, description: str) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI entry of a server-sent-events response: each event has a name (one of `events`, when
    named) and a JSON `data` line."""
    event: dict[str, Any] = {"type": "string"}
    if events:
        event["enum"] = events
    item = {
        "type": "object",
        "properties": {"event": event, "data": {"type": "string", "description": "JSON"}},
        "required": ["data"],
    }
    return {200: {"description": description, "content": {"text/event-stream": {"schema": item}}}}


_DESCRIPTIONS = {
    400: "Bad input (the engine's checks: UTF-8, ISO-8601 times, ids, empty text).",
    401: "Missing, invalid or expired credentials.",
    403: "Your role in this space is too low for this.",
    404: "No such space (or not a member), concept, source or record.",
    413: "Request body over the size limit.",
    422: "The request does not match the schema.",
    429: "Rate limit: retry after the Retry-After seconds.",
    503: "The space or the model is unavailable.",
}


# A request the HTTP parser itself rejects (a malformed request line or header, a URL beyond its limits)
# never reaches the application: uvicorn answers 400 in plain text, so the schema says so too.
_PLAIN = {"text/plain": {"schema": {"type": "string"}}}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    chosen = statuses or tuple(_DESCRIPTIONS)
    return {
        s: {"model": ErrorBody, "description": _DESCRIPTIONS[s], **({"content": _PLAIN} if s == 400 else {})}
        for s in chosen
    }


COMMON = errors(401, 403, 404, 413, 422, 429, 503)
WITH_INPUT = errors(400, 401, 403, 404, 413, 422, 429, 503)
