"""Asking a space, shared by the REST, streaming and OpenAI-compatible routes: the answer cache in front
of the engine."""

from __future__ import annotations

from fastapi import Request

from sutra.engine import Sutra
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

    def run(engine: Sutra) -> tuple[int, bytes]:
        version = engine.store.version()  # read first: a cached entry never claims a newer state
        return version, dumps(engine.ask(body.question, resolve=body.resolve).to_dict())

    version, encoded = await state.spaces.read(space, run)
    state.answers.put(key, version, encoded)
    return encoded
