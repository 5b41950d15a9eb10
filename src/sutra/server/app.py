"""`create_app(config)`: the Sutra HTTP API as a FastAPI application (REST, SSE, OpenAI-compatible chat)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from starlette.responses import Response

from sutra.embedding.base import Embedder
from sutra.errors import SutraError
from sutra.server import errors, routes_accounts, routes_browse, routes_knowledge, routes_openai
from sutra.server.config import ServerConfig
from sutra.server.protection import BodyLimit, SecurityHeaders
from sutra.server.responses import errors as error_responses
from sutra.server.responses import json_response
from sutra.server.schemas import Health, Ready
from sutra.server.state import ServerState, state_of

API_DESCRIPTION = """Sutra's HTTP API: learn text into isolated spaces and ask questions whose answers explain
themselves (reasoning paths, sources, confidence, alternatives, conflicts, audit id).

Authenticate with `Authorization: Bearer <token or API key>` (POST /v1/auth/login gives a token). Every
error is `{"error": {"code": ..., "message": ...}}`."""


def create_app(config: ServerConfig, *, embedder: Embedder | None = None) -> FastAPI:
    """The application for `config`. `embedder` lets a caller share an already loaded model; by default
    the model is loaded once, on first use, and shared by every space."""
    state = ServerState.build(config, embedder)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if config.parse_worker:
            from sutra.learning import nlp

            await anyio.to_thread.run_sync(nlp.start_worker)
        try:
            yield
        finally:
            await anyio.to_thread.run_sync(state.close)
            if config.parse_worker:
                await anyio.to_thread.run_sync(nlp.stop_worker)

    app = FastAPI(
        title="Sutra",
        version="1",
        description=API_DESCRIPTION,
        openapi_url="/v1/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.sutra = state
    errors.install(app)
    for module in (routes_accounts, routes_knowledge, routes_browse, routes_openai):
        app.include_router(module.router)
    _health_routes(app)
    if config.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(config.cors_origins),
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
            max_age=600,
        )
    app.add_middleware(BodyLimit, max_bytes=config.max_body_bytes)
    app.add_middleware(SecurityHeaders, tls=config.tls)
    return app


def _health_routes(app: FastAPI) -> None:
    @app.get("/v1/health", response_model=Health, tags=["health"], summary="The process is up")
    async def health() -> Response:
        return json_response({"status": "ok"})

    @app.get(
        "/v1/ready",
        response_model=Ready,
        tags=["health"],
        summary="Ready to answer: accounts readable, language and embedding models loaded",
        responses=error_responses(503),
    )
    async def ready(request: Request) -> Response:
        state = state_of(request)
        try:
            await anyio.to_thread.run_sync(_warm, state)
        except SutraError as exc:
            detail = errors.public_message(state.config, str(exc))
            return json_response({"ready": False, "detail": detail}, 503)
        return json_response({"ready": True, "detail": f"{len(state.accounts.spaces())} spaces"})


def _warm(state: ServerState) -> None:
    from sutra.learning import nlp

    state.accounts.spaces()
    state.spaces.embedder  # noqa: B018 - loads the model on first call
    nlp.load()
