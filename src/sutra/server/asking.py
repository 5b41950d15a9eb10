"""Asking a space, shared by the REST, streaming and OpenAI-compatible routes: the answer cache in front
of the engine."""

from __future__ import annotations

import asyncio

from fastapi import Request

from sutra import validation
from sutra.engine import Sutra
from sutra.errors import InputError
from sutra.learning import nlp
from sutra.reasoning.query import parsed_text
from sutra.server.errors import public_message
from sutra.server.responses import dumps
from sutra.server.schemas import AskIn
from sutra.server.spaces import Space
from sutra.server.state import state_of


async def answer_bytes(request: Request, space: Space, body: AskIn) -> bytes:
    """The answer as JSON, from the answer cache while the space is unchanged."""
    state = state_of(request)
    key = (space.name, body.question, body.resolve)
    cached = state.answers.get(key, space.engine.store.version())
    if cached is not None:
        return cached

    await _parsed_ahead(body.question)

    def run(engine: Sutra) -> tuple[int, bytes]:
        version = engine.store.version()  # read first: a cached entry never claims a newer state
        answer = engine.ask(body.question, resolve=body.resolve)
        if "audit_error" in answer.plan:  # it names the audit file: not for callers
            answer.plan["audit_error"] = public_message(state.config, answer.plan["audit_error"])
        return version, dumps(answer.to_dict())

    version, encoded = await state.spaces.read(space, run)
    state.answers.put(key, version, encoded)
    return encoded


async def _parsed_ahead(question: str) -> None:
    """Have the question parsed (in the parse worker, batched with the questions arriving with it) before
    an engine thread takes it: a thread waiting on the parser would hold one of the few engine threads
    idle. A question the engine will refuse, or cannot parse, is left for the engine to say so."""
    try:
        validation.question(question)
    except InputError:
        return
    try:
        await asyncio.wrap_future(nlp.parse_soon(parsed_text(question)))
    except Exception:  # the engine's own parse of it raises the same error, answered as such
        return
