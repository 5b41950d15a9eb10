"""Answers as server-sent events, in stages, ending with the full answer.

The reasoner works in one call, so the stages are what the server can honestly show as they become known:

1. `first_candidate` — the best keyword (BM25) match for the question, found in milliseconds before any
   reasoning starts: a quick guess, marked as such (null when nothing matches).
2. `refinement` — one per reasoning path the reasoner found (its answer, score and steps), then one per
   alternative answer it weighed, once reasoning is done.
3. `consensus` — the answer the paths agree on: text, status, confidence, label, items, conflicts.
4. `final` — the full answer, the same JSON as POST /ask.

An error after the stream has started arrives as an `error` event with the usual error body.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
from fastapi import Request

from sutra.errors import SutraError
from sutra.server.asking import answer_bytes
from sutra.server.errors import ApiError, library_error
from sutra.server.responses import dumps
from sutra.server.schemas import AskIn
from sutra.server.spaces import Space
from sutra.server.state import state_of
from sutra.server.views import search

DESCRIPTION = __doc__.split("\n\n", 1)[1] if __doc__ else ""
STAGES = ["first_candidate", "refinement", "consensus", "final"]


def event(name: str, data: Any) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + dumps(data) + b"\n\n"


async def ask_events(request: Request, space: Space, body: AskIn) -> AsyncIterator[bytes]:
    try:
        hits = await state_of(request).spaces.read(space, lambda e: search(e, body.question, "keyword", 1))
        yield event("first_candidate", {"candidate": hits[0] if hits else None, "method": "keyword search"})
        answer = orjson.loads(await answer_bytes(request, space, body))
    except SutraError as exc:
        status, code = library_error(exc)
        yield event("error", {"error": {"code": code, "message": str(exc)}, "status": status})
        return
    except ApiError as exc:
        yield event("error", {"error": {"code": exc.code, "message": exc.message}, "status": exc.status})
        return
    for i, path in enumerate(answer["paths"]):
        yield event("refinement", {**path, "refinement": "path", "index": i})
    for alt in answer["alternatives"]:
        yield event("refinement", {**alt, "refinement": "alternative"})
    keys = ("text", "status", "confidence", "label", "items", "conflicts", "reason")
    yield event("consensus", {k: answer[k] for k in keys})
    yield event("final", answer)
