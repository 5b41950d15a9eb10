"""Real storage servers on 127.0.0.1 (port 0) over real LocalStores in temporary directories."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from sutra.store import LocalStore
from sutra.store.remote import Limits, RemoteStore, ServerThread, StorageServer, protocol, tls, tokens


@dataclass
class Served:
    """One running server and what a client needs to reach it."""

    store: LocalStore
    thread: ServerThread
    secret: bytes | None
    ca: Path | None
    clients: list[RemoteStore] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.thread.server.url

    @property
    def port(self) -> int:
        return self.thread.server.port

    def token(self, role: str = "admin", ttl: float = 3600) -> str:
        assert self.secret is not None, "this server was started without a token secret"
        return tokens.issue(self.secret, role, ttl)

    def client(self, role: str = "admin", **kwargs: Any) -> RemoteStore:
        kwargs.setdefault("token", self.token(role) if self.secret else "")
        kwargs.setdefault("ca", self.ca)
        store = RemoteStore(self.url, **kwargs)
        self.clients.append(store)
        return store

    def raw(self, token: str | None = None) -> socket.socket:
        """A plain socket after a successful handshake (or before any, with token=None)."""
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        if token is not None:
            sock.sendall(protocol.encode_request(0, "hello", {"protocol": 1, "token": token}))
            assert read_response(sock).ok
        return sock


def read_response(sock: socket.socket) -> protocol.Response:
    header = _exactly(sock, protocol.HEADER.size)
    return protocol.decode_response(_exactly(sock, protocol.HEADER.unpack(header)[0]))


def _exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionResetError("closed")
        data += chunk
    return data


def closed_by_peer(sock: socket.socket) -> bool:
    """True when the server has closed this connection (reads end), waiting up to the socket's timeout."""
    try:
        while True:
            if not sock.recv(65536):
                return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Served]]:
    """`serve(secret=True, secure=False, limits=None, name="db", hostnames=..., fsync="off")`: a server.
    All stop after the test, each store checked for integrity first."""
    started: list[Served] = []

    def start(
        *,
        secret: bool = True,
        secure: bool = False,
        limits: Limits | None = None,
        name: str = "db",
        hostnames: tuple[str, ...] = ("localhost", "127.0.0.1"),
        fsync: str = "off",
    ) -> Served:
        store = LocalStore(tmp_path / name, fsync=fsync)  # type: ignore[arg-type]
        key = tokens.new_secret().encode() if secret else None
        files = tls.write_self_signed(tmp_path / f"{name}-tls", hostnames) if secure else None
        context = None if files is None else tls.server_context(files.cert, files.key)
        thread = ServerThread(StorageServer(store, ssl_context=context, token_secret=key, limits=limits))
        served = Served(store, thread.start(), key, None if files is None else files.ca)
        started.append(served)
        return served

    yield start
    for served in started:
        for client in served.clients:
            client.close()
        served.thread.stop()
        assert served.store.check() == []
        served.store.close()
