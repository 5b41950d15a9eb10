"""Reading and pruning a space: stats, search, concepts, neighbourhoods, paths, timelines, causes and
effects, contradictions, semantic filters, audit records, deletion, export."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from sutra import validation
from sutra.engine import Sutra
from sutra.errors import NotFoundError
from sutra.learning import nlp
from sutra.learning.clauses import clause_key
from sutra.model import DeleteConcept
from sutra.readers import check_time
from sutra.reasoning import causal
from sutra.reasoning.explain import path_of
from sutra.server import views
from sutra.server.responses import WITH_INPUT, NDJSONResponse, json_response
from sutra.server.schemas import (
    CausalOut,
    ConceptOut,
    ConceptsOut,
    ContradictionsOut,
    DeletedOut,
    FilterIn,
    GraphOut,
    PathsOut,
    SearchOut,
    TimelineOut,
)
from sutra.server.security import ReaderSpace, WriterSpace
from sutra.server.state import state_of

router = APIRouter(prefix="/v1/spaces/{space}", tags=["browse"], responses=WITH_INPUT)
Text = Annotated[str, Query(min_length=1, max_length=10_000)]
ConceptId = Annotated[str, Path(min_length=1, max_length=1000)]


@router.get("/stats", response_model=dict[str, Any], summary="Counts of what the space holds")
async def stats(request: Request, space: ReaderSpace) -> Response:
    found = await state_of(request).spaces.read(space, lambda e: e.stats())
    found.pop("path", None)  # the server's file layout is not the caller's business
    return json_response(found)


@router.get("/search", response_model=SearchOut, summary="Keyword, vector or hybrid search")
async def search(
    request: Request,
    space: ReaderSpace,
    q: Text,
    mode: Literal["keyword", "vector", "hybrid"] = "hybrid",
    k: Annotated[int, Query(ge=1, le=200)] = 10,
) -> Response:
    validation.text(q, "q")
    results = await state_of(request).spaces.read(space, lambda e: views.search(e, q, mode, k))
    return json_response({"mode": mode, "results": results})


@router.get("/concepts/{concept_id}", response_model=ConceptOut, summary="One concept by id")
async def concept(concept_id: ConceptId, request: Request, space: ReaderSpace) -> Response:
    found = await state_of(request).spaces.read(space, lambda e: views.get_concept(e.store, concept_id))
    return json_response(views.concept_dict(found))


@router.delete("/concepts/{concept_id}", response_model=DeletedOut, summary="Delete a concept and its edges")
async def delete_concept(concept_id: ConceptId, request: Request, space: WriterSpace) -> Response:
    def run(engine: Sutra) -> int:
        views.get_concept(engine.store, concept_id)
        edges = len(engine.store.neighbors(concept_id, "both"))
        engine.store.apply([DeleteConcept(concept_id)])
        return edges + 1

    affected = await state_of(request).spaces.write(space, run)
    return json_response({"deleted": concept_id, "affected": affected})


@router.get(
    "/concepts/{concept_id}/neighbourhood",
    response_model=GraphOut,
    summary="Nearby concepts as nodes and edges",
)
async def neighbourhood(
    concept_id: ConceptId,
    request: Request,
    space: ReaderSpace,
    depth: Annotated[int, Query(ge=1, le=3)] = 1,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    graph = await state_of(request).spaces.read(
        space, lambda e: views.neighbourhood(e.store, concept_id, depth, limit)
    )
    return json_response(graph)


@router.get("/paths", response_model=PathsOut, summary="Paths between two concepts (ids or names)")
async def paths(
    request: Request,
    space: ReaderSpace,
    start: Annotated[str, Query(alias="from", min_length=1, max_length=1000)],
    end: Annotated[str, Query(alias="to", min_length=1, max_length=1000)],
    max_hops: Annotated[int, Query(ge=1, le=6)] = 4,
    limit: Annotated[int, Query(ge=1, le=views.MAX_PATHS)] = 5,
) -> Response:
    found = await state_of(request).spaces.read(
        space, lambda e: views.paths_between(e.store, start, end, max_hops, limit)
    )
    return json_response(found)


@router.get(
    "/timeline", response_model=TimelineOut, summary="Everything stated about a subject, oldest first"
)
async def timeline(request: Request, subject: Text, space: ReaderSpace) -> Response:
    entries = await state_of(request).spaces.read(space, lambda e: e.timeline(subject))
    return json_response({"subject": subject, "entries": entries})


def _chains(engine: Sutra, of: str, direction: str) -> dict[str, Any]:
    store = engine.store
    start = of if store.get_concept(of) is not None else None
    if start is None:
        validation.text(of, "of")
        start = causal.start_event(store, clause_key(list(nlp.parse_one(of))))
    if start is None:
        raise NotFoundError(
            f"no stored event matches {of!r}; give an event's id or its clause ('the disk is full')"
        )
    s = engine.settings
    found = causal.chains(store, start, direction, s.max_hops, s.hop_decay)
    return {"event": start, "direction": direction, "chains": [asdict(path_of(store, c)) for c in found]}


@router.get("/causes", response_model=CausalOut, summary="What leads to an event (causal chains backwards)")
async def causes(request: Request, of: Text, space: ReaderSpace) -> Response:
    return json_response(await state_of(request).spaces.read(space, lambda e: _chains(e, of, "causes")))


@router.get("/effects", response_model=CausalOut, summary="What an event leads to (causal chains forwards)")
async def effects(request: Request, of: Text, space: ReaderSpace) -> Response:
    return json_response(await state_of(request).spaces.read(space, lambda e: _chains(e, of, "effects")))


@router.get("/contradictions", response_model=ContradictionsOut, summary="Current facts that cannot all hold")
async def contradictions(
    request: Request,
    space: ReaderSpace,
    subject: Annotated[str | None, Query(min_length=1, max_length=10_000)] = None,
) -> Response:
    found = await state_of(request).spaces.read(
        space, lambda e: [asdict(c) for c in e.contradictions(subject)]
    )
    return json_response({"contradictions": found})


@router.post("/filter", response_model=ConceptsOut, summary="Concepts by semantic filters")
async def filter_concepts(body: FilterIn, request: Request, space: ReaderSpace) -> Response:
    conditions = body.model_dump(exclude={"limit"})
    for bound in ("since", "until"):  # the filter compares strings; a non-date would silently match nothing
        if conditions[bound] is not None:
            check_time(conditions[bound], bound)
    found = await state_of(request).spaces.read(space, lambda e: e.find(limit=body.limit, **conditions))
    return json_response({"concepts": [views.concept_dict(c) for c in found]})


@router.get("/audit/{audit_id}", response_model=dict[str, Any], summary="The stored record of one answer")
async def audit(
    audit_id: Annotated[str, Path(min_length=1, max_length=200)],
    request: Request,
    space: ReaderSpace,
) -> Response:
    return json_response(await state_of(request).spaces.read(space, lambda e: e.audit(audit_id)))


@router.delete(
    "/sources/{source_id:path}",
    response_model=DeletedOut,
    summary="Forget a source: everything only it supports is deleted",
)
async def forget(source_id: str, request: Request, space: WriterSpace) -> Response:
    affected = await state_of(request).spaces.write(space, lambda e: e.forget(source_id))
    return json_response({"deleted": source_id, "affected": affected})


@router.get(
    "/export",
    summary="Every concept, then every association, as JSON lines",
    responses={200: {"content": {"application/x-ndjson": {"schema": {"type": "string"}}}}},
)
async def export(request: Request, space: ReaderSpace) -> Response:
    # gathered under the lock so the export is one consistent state; streamed out afterwards
    lines = await state_of(request).spaces.read(space, lambda e: list(views.export_lines(e.store)))
    return NDJSONResponse(iter(lines))
