"""OpenAI-compatible chat: POST /v1/chat/completions (plain and streaming) and GET /v1/models.

`model` names the space to ask (GET /v1/models lists the caller's spaces). The last user message is the
question. System messages are learned into the space only when the request sets `learn_system: true`
(which needs the writer role); otherwise they are ignored, so a client's boilerplate prompt never
becomes knowledge. Every completion carries the whole Sutra answer (paths, sources, confidence,
alternatives, conflicts, audit id) in the extra field `sutra`; a stream carries it on its last chunk.
Token counts in `usage` are whitespace-separated words, not model tokens.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator
from typing import Any, Literal

import orjson
from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from sutra.errors import InputError
from sutra.server.asking import answer_bytes
from sutra.server.responses import WITH_INPUT, EventStreamResponse, dumps, event_stream, json_response
from sutra.server.schemas import AnswerOut, AskIn, Resolve, Utf8Body
from sutra.server.security import CurrentCaller, open_space
from sutra.server.state import state_of
from sutra.validation import MAX_QUESTION_CHARS

router = APIRouter(prefix="/v1", tags=["openai"], responses=WITH_INPUT)


class TextPart(Utf8Body):
    type: Literal["text"]
    text: str


class ChatMessage(Utf8Body):
    model_config = ConfigDict(extra="ignore")
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[TextPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "\n".join(part.text for part in self.content)
        return self.content or ""


class ChatIn(Utf8Body):
    model_config = ConfigDict(extra="ignore")  # temperature, top_p and the like do not apply
    model: str = Field(min_length=1, max_length=63, description="The space to ask.")
    messages: list[ChatMessage] = Field(min_length=1, max_length=256)
    stream: bool = False
    learn_system: bool = Field(
        False, description="Learn the system messages into the space first (needs the writer role)."
    )
    resolve: Resolve = "recent"


class ChatOutMessage(BaseModel):
    role: Literal["assistant"]
    content: str


class Choice(BaseModel):
    index: int
    message: ChatOutMessage
    finish_reason: Literal["stop"]


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    sutra: AnswerOut = Field(description="The full answer with its explanation.")


class ModelOut(BaseModel):
    id: str
    object: Literal["model"]
    created: int
    owned_by: str


class ModelsOut(BaseModel):
    object: Literal["list"]
    data: list[ModelOut]


def _question(body: ChatIn) -> str:
    users = [m for m in body.messages if m.role == "user"]
    if not users or not users[-1].text().strip():
        raise InputError("no user message to answer; the last message with role 'user' is the question")
    question = users[-1].text()
    if len(question) > MAX_QUESTION_CHARS:
        raise InputError(f"the question has {len(question)} characters; at most {MAX_QUESTION_CHARS}")
    return question


def _words(text: str) -> int:
    return len(text.split())


@router.post(
    "/chat/completions",
    response_model=ChatCompletion,
    summary="OpenAI-compatible chat: the last user message is asked",
    description=__doc__.split("\n\n", 1)[1] if __doc__ else "",
    responses=event_stream(None, "A completion; with `stream: true`, chunks ending with `data: [DONE]`."),
)
async def chat(body: ChatIn, request: Request, caller: CurrentCaller) -> Response:
    question = _question(body)
    space = await open_space(request, caller, body.model, "writer" if body.learn_system else "reader")
    system = [m.text() for m in body.messages if m.role in ("system", "developer") and m.text().strip()]
    if body.learn_system and system:
        await state_of(request).spaces.write(space, lambda e: [e.learn(text) for text in system])
    answer = orjson.loads(await answer_bytes(request, space, AskIn(question=question, resolve=body.resolve)))
    completion_id = "chatcmpl-" + secrets.token_hex(12)
    created = int(time.time())
    if body.stream:
        return EventStreamResponse(_chunks(completion_id, created, body.model, answer))
    prompt = sum(_words(m.text()) for m in body.messages)
    return json_response(
        {
            "id": completion_id,
            "object": "chat.completion",
            "created": created,
            "model": body.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": answer["text"]},
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": _words(answer["text"]),
                "total_tokens": prompt + _words(answer["text"]),
            },
            "sutra": answer,
        }
    )


async def _chunks(
    completion_id: str, created: int, model: str, answer: dict[str, Any]
) -> AsyncIterator[bytes]:
    def chunk(delta: dict[str, Any], finish: str | None, **extra: Any) -> bytes:
        body = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            **extra,
        }
        return b"data: " + dumps(body) + b"\n\n"

    yield chunk({"role": "assistant", "content": ""}, None)
    words = answer["text"].split(" ")
    for i, word in enumerate(words):  # word by word, as chat clients expect to render it
        yield chunk({"content": word if i == 0 else " " + word}, None)
    yield chunk({}, "stop", sutra=answer)
    yield b"data: [DONE]\n\n"


@router.get("/models", response_model=ModelsOut, summary="The spaces you can chat with, as models")
async def models(request: Request, caller: CurrentCaller) -> Response:
    accounts = state_of(request).accounts
    names = accounts.spaces() if caller.user is None else [n for n, _ in accounts.memberships(caller.user.id)]
    return json_response(
        {
            "object": "list",
            "data": [{"id": n, "object": "model", "created": 0, "owned_by": "sutra"} for n in names],
        }
    )
