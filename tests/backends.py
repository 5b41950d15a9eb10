"""Storage backends the engine tests can run over, chosen with SUTRA_TEST_BACKEND (default "local").

Each backend turns a fresh space directory into the Settings changes that make `Sutra` use that backend;
anything it starts (a storage server, say) is registered on the ExitStack and stopped after the test.
`make test-backends` runs the engine tests once per backend.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

Backend = Callable[[Path, ExitStack], dict[str, Any]]


def _local(directory: Path, stack: ExitStack) -> dict[str, Any]:
    return {}


# one storage server per space directory, so a test that opens the same space twice reaches the same one
_SERVING: dict[Path, dict[str, Any]] = {}


def _remote(directory: Path, stack: ExitStack, *, secure: bool = False) -> dict[str, Any]:
    """A real storage server in this process (its own thread and event loop) over a LocalStore in
    `directory/storage`, with a token secret, and with TLS from a fresh self-signed set when `secure`."""
    if directory in _SERVING:
        return _SERVING[directory]
    from sutra.store import LocalStore
    from sutra.store.remote import ServerThread, StorageServer, tls, tokens

    store = LocalStore(directory / "storage", fsync="off")
    stack.callback(store.close)  # after the server has stopped (callbacks run last-in, first-out)
    stack.callback(_require_healthy, store)
    secret = tokens.new_secret().encode()
    files = tls.write_self_signed(directory / "tls") if secure else None
    context = None if files is None else tls.server_context(files.cert, files.key)
    server = ServerThread(StorageServer(store, ssl_context=context, token_secret=secret)).start()
    stack.callback(server.stop)
    changes = {
        "storage_url": server.server.url,
        "storage_token": tokens.issue(secret, "admin", ttl=3600),
        "storage_ca": None if files is None else files.ca,
    }
    _SERVING[directory] = changes
    stack.callback(_SERVING.pop, directory, None)
    return changes


def _require_healthy(store: Any) -> None:
    problems = store.check()
    if problems:
        raise AssertionError(f"the served store failed its integrity check: {problems}")


def _remote_tls(directory: Path, stack: ExitStack) -> dict[str, Any]:
    return _remote(directory, stack, secure=True)


def _sharded(directory: Path, stack: ExitStack) -> dict[str, Any]:
    """Four shards in the space's own directory (store/sharded.py)."""
    return {"shards": 4}


BACKENDS: dict[str, Backend] = {
    "local": _local,
    "remote": _remote,
    "remote-tls": _remote_tls,
    "sharded": _sharded,
}


def chosen() -> str:
    name = os.environ.get("SUTRA_TEST_BACKEND", "local")
    if name not in BACKENDS:
        raise RuntimeError(f"SUTRA_TEST_BACKEND={name!r} is not one of {', '.join(sorted(BACKENDS))}")
    return name
