"""Running the app with uvicorn: `serve` for the CLI (blocks), `running` for tests and benchmarks (a real
server on a background thread, bound to a free port, stopped on exit)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from sutra.errors import ConfigError


def uvicorn_config(
    app: FastAPI,
    host: str,
    port: int,
    *,
    cert: Path | None = None,
    key: Path | None = None,
    log_level: str = "info",
) -> uvicorn.Config:
    if (cert is None) != (key is None):
        raise ConfigError("TLS needs both --cert and --key (PEM files)")
    for path in (cert, key):
        if path is not None and not path.is_file():
            raise ConfigError(f"{path} is not a readable file; give the PEM certificate and its private key")
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        ssl_certfile=str(cert) if cert else None,
        ssl_keyfile=str(key) if key else None,
        log_level=log_level,
        # one process: a space's directory can only be opened by one process (see docs/server.md)
        workers=1,
        lifespan="on",
        server_header=False,
        timeout_graceful_shutdown=10,
    )


def serve(config: uvicorn.Config) -> None:
    uvicorn.Server(config).run()


@contextmanager
def running(config: uvicorn.Config, start_timeout: float = 60.0) -> Iterator[str]:
    """Start a real server on a thread; yields its base URL (the actual port when `config.port` is 0)."""
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="sutra-http", daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError("the HTTP server did not start; see its log")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    scheme = "https" if config.ssl_certfile else "http"
    host = config.host if ":" not in config.host else f"[{config.host}]"
    try:
        yield f"{scheme}://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
