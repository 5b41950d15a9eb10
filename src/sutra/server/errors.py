"""One JSON error shape at the HTTP edge: `{"error": {"code": ..., "message": ...}}` with a fitting status.

Library errors (`sutra.errors`) map by type; the server's own refusals raise `ApiError` with a code.
"""

from __future__ import annotations

import logging
from pathlib import Path

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from sutra.errors import (
    ConfigError,
    CorruptionError,
    InputError,
    ModelError,
    NotFoundError,
    StorageError,
    StoreLockedError,
    SutraError,
)
from sutra.server.config import ServerConfig

log = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    body = orjson.dumps({"error": {"code": code, "message": message}})
    return Response(body, status_code=status, media_type="application/json", headers=headers)


# most specific first: isinstance decides
_LIBRARY = [
    (InputError, 400, "invalid_input"),
    (ConfigError, 400, "invalid_config"),
    (NotFoundError, 404, "not_found"),
    (StoreLockedError, 503, "space_locked"),
    (CorruptionError, 503, "space_corrupt"),
    (StorageError, 503, "storage_unavailable"),  # the disk refused (full, unreadable): not the caller's fault
    (ModelError, 503, "model_unavailable"),
]
_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type"}


def library_error(exc: SutraError) -> tuple[int, str]:
    for kind, status, code in _LIBRARY:
        if isinstance(exc, kind):
            return status, code
    return 500, "engine_error"


def without_paths(message: str, data_dir: Path, model_dir: Path | None = None) -> str:
    """The library's messages name files for the person at the console; a caller over HTTP learns no path
    on the server: the data directory, the model directory (as given and resolved) and the home folder
    become placeholders."""
    places = [(data_dir.resolve(), "<data>"), (data_dir, "<data>")]
    if model_dir is not None:
        places += [(model_dir.resolve(), "<models>"), (model_dir, "<models>")]
    for path, placeholder in [*places, (Path.home(), "~")]:
        if str(path) not in (".", "/"):
            message = message.replace(str(path), placeholder)
    return message


def public_message(config: ServerConfig, message: str) -> str:
    """`message` as a caller of this server may read it (see `without_paths`)."""
    return _printable(without_paths(message, config.data_dir, config.engine.model_dir))


def _printable(message: str) -> str:
    return message.encode("utf-8", "backslashreplace").decode("utf-8")


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> Response:
        return error_response(exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(SutraError)
    async def _library(request: Request, exc: SutraError) -> Response:
        status, code = library_error(exc)
        if status >= 500:
            log.error("engine error: %s", exc)
        return error_response(status, code, public_message(request.app.state.sutra.config, str(exc)))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> Response:
        problems = []
        for item in exc.errors()[:5]:
            where = ".".join(str(p) for p in item.get("loc", ()))
            problems.append(f"{where}: {item.get('msg', 'invalid')}")
        return error_response(422, "invalid_request", _printable("; ".join(problems) or "invalid request"))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> Response:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        return error_response(exc.status_code, code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _bug(_: Request, exc: Exception) -> Response:
        log.exception("unhandled error")
        return error_response(500, "internal", "internal error; the server log has the details")
