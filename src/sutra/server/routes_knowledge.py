"""Learning and asking in a space: learn one text, learn a batch, ingest an uploaded file, ask, ask as a
stream of stages (see `stream.py`)."""

from __future__ import annotations

import os
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from starlette.responses import Response

from sutra import validation
from sutra.engine import Sutra
from sutra.errors import InputError
from sutra.model import Document
from sutra.readers import SUFFIXES, check_utf8, documents_from_text
from sutra.server import stream
from sutra.server.asking import answer_bytes
from sutra.server.responses import WITH_INPUT, EventStreamResponse, event_stream, json_response
from sutra.server.schemas import AnswerOut, AskIn, LearnBatchIn, LearnIn, LearnReportOut
from sutra.server.security import ReaderSpace, WriterSpace
from sutra.server.state import state_of

router = APIRouter(prefix="/v1/spaces/{space}", tags=["knowledge"], responses=WITH_INPUT)


def _report(report: object) -> dict[str, object]:
    fields = ("documents", "statements", "entities", "associations", "seconds", "contradictions")
    return {f: getattr(report, f) for f in fields}


@router.post("/learn", response_model=LearnReportOut, summary="Learn one text")
async def learn(body: LearnIn, request: Request, space: WriterSpace) -> Response:
    report = await state_of(request).spaces.write(
        space, lambda e: e.learn(body.text, source=body.source, time=body.time)
    )
    return json_response(_report(report))


@router.post("/learn/batch", response_model=LearnReportOut, summary="Learn many documents, in order")
async def learn_batch(body: LearnBatchIn, request: Request, space: WriterSpace) -> Response:
    docs = [Document(id=d.id, text=d.text, time=d.time, title=d.title, meta=d.meta) for d in body.documents]
    _check_unique(docs)
    report = await state_of(request).spaces.write(space, lambda e: e.learn_documents(docs))
    return json_response(_report(report))


def _check_unique(docs: list[Document]) -> None:
    seen: set[str] = set()
    for doc in docs:
        if doc.id in seen:
            raise InputError(f"document id {doc.id!r} is used twice in this batch; ids must be unique")
        seen.add(doc.id)


@router.post(
    "/ingest", response_model=LearnReportOut, summary="Learn an uploaded .txt, .md, .csv or .jsonl file"
)
async def ingest(
    request: Request,
    space: WriterSpace,
    file: Annotated[UploadFile, File(description="The file; its name's extension picks the format.")],
    format: Annotated[str | None, Form(description="Override the format: txt, md, csv or jsonl.")] = None,
) -> Response:
    name = os.path.basename(file.filename or "") or "upload"
    check_utf8(name, "file name")
    suffix = "." + format.lower().lstrip(".") if format else os.path.splitext(name)[1].lower()
    if suffix not in SUFFIXES:
        raise InputError(f"{name}: unknown format {suffix or '(none)'!r}; use one of {', '.join(SUFFIXES)}")
    raw = await file.read()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: not UTF-8 text (byte {exc.start}); convert it to UTF-8 first") from None
    if suffix != ".csv":  # the csv module splits records itself; the other readers expect \n line ends
        text = text.replace("\r\n", "\n")

    def run(engine: Sutra) -> object:
        docs = list(documents_from_text(text, name=name, suffix=suffix))
        _check_unique(docs)
        return engine.learn_documents(docs)

    report = await state_of(request).spaces.write(space, run)
    return json_response(_report(report))


@router.post("/ask", response_model=AnswerOut, summary="Ask a question; the answer explains itself")
async def ask(body: AskIn, request: Request, space: ReaderSpace) -> Response:
    return Response(await answer_bytes(request, space, body), media_type="application/json")


@router.post(
    "/ask/stream",
    # not response_class: FastAPI would then document the error responses as event streams too
    summary="Ask, answered as server-sent events",
    description=stream.DESCRIPTION,
    responses=event_stream([*stream.STAGES, "error"], "The stages, then the full answer."),
)
async def ask_stream(body: AskIn, request: Request, space: ReaderSpace) -> Response:
    validation.question(body.question)  # a question refused is a 400, as from /ask, not an error event
    return EventStreamResponse(stream.ask_events(request, space, body))
