"""`RemoteStore`: the `Store` interface over a connection to a storage server, so the engine runs
unchanged on local or remote storage.

One connection carries every caller's requests, pipelined: a caller sends its frame and waits for the
response with its id, which a reader thread hands over. Both directions share one lock for the socket
itself, because an `SSLSocket` must not be read and written by two threads at once (OpenSSL's rule); the
reader waits for data with `select` outside the lock, so a waiting reader never blocks a sender.

A connection that breaks is replaced on the next call. Reads that were in flight are sent again once on the
new connection; an `apply` is not, because the server may or may not have applied it before the break, and
the error says so.
"""

from __future__ import annotations

import itertools
import os
import select
import socket
import ssl
import threading
from collections.abc import Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from sutra.errors import ConfigError, LimitError, ProtocolError, RemoteStoreError, SutraError
from sutra.model import Association, AssociationType, Concept, ConceptKind, Mutation
from sutra.store.base import Direction, Store
from sutra.store.batch import encode_batch
from sutra.store.codec import CodecError, association_from_dict, concept_from_dict, normalize_vector
from sutra.store.remote import protocol, tls
from sutra.store.remote.ops import OPERATIONS

DEFAULT_PORT = 7878


@dataclass(slots=True)
class _Pending:
    done: threading.Event = field(default_factory=threading.Event)
    parts: list[Any] = field(default_factory=list)  # chunks of a list result so far
    result: Any = None
    error: SutraError | None = None


class _Connection:
    """One socket after a successful handshake, and the reader thread that demultiplexes its responses."""

    def __init__(self, sock: socket.socket, where: str, hello: dict[str, Any], frame_timeout: float) -> None:
        self.sock, self.where = sock, where
        self.role: str = hello["role"]
        self.limits: dict[str, int] = hello["limits"]
        self._io = threading.Lock()
        self._ids = itertools.count(1)
        self._pending: dict[int, _Pending] = {}
        self._pending_lock = threading.Lock()
        self.broken: SutraError | None = None
        self._closing = False
        sock.settimeout(frame_timeout)  # bounds every blocking read or write once it has begun
        self._reader = threading.Thread(target=self._read_loop, name="sutra-storage-client", daemon=True)
        self._reader.start()

    def call(self, op: str, args: dict[str, Any], timeout: float) -> Any:
        pending = _Pending()
        with self._pending_lock:
            if self.broken is not None:
                raise type(self.broken)(str(self.broken))
            request_id = next(self._ids)
            self._pending[request_id] = pending
        data = protocol.encode_request(request_id, op, args)
        if len(data) - protocol.HEADER.size > self.limits["max_frame_bytes"]:
            self._forget(request_id)
            raise LimitError(
                f"this {op} request is {len(data)} bytes, over the storage server's frame limit of "
                f"{self.limits['max_frame_bytes']} bytes; split it"
            )
        try:
            with self._io:
                self.sock.sendall(data)
        except OSError as exc:
            self._fail(RemoteStoreError(f"lost the connection to the storage server at {self.where} ({exc})"))
        if not pending.done.wait(timeout):
            self._forget(request_id)
            raise RemoteStoreError(
                f"the storage server at {self.where} did not answer {op!r} within {timeout:g} s"
            )
        if pending.error is not None:
            # a fresh instance per caller: one error may be shared by every request a broken connection held
            raise type(pending.error)(str(pending.error))
        return pending.result

    def close(self) -> None:
        self._closing = True
        with suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self._reader.join()
        self.sock.close()
        self._fail(RemoteStoreError(f"the connection to the storage server at {self.where} was closed"))

    def _forget(self, request_id: int) -> None:
        with self._pending_lock:
            self._pending.pop(request_id, None)

    def _read_loop(self) -> None:
        try:
            while not self._closing:
                if not _readable(self.sock):
                    continue
                with self._io:
                    body = _read_frame(self.sock, self.limits["max_frame_bytes"] + protocol.CHUNK_BYTES)
                if body is None:
                    raise ConnectionResetError("the server closed the connection")
                self._deliver(protocol.decode_response(body))
        except (OSError, ValueError, ProtocolError, LimitError) as exc:  # ValueError: socket closed under us
            if not self._closing:
                reason = exc if isinstance(exc, SutraError) else f"{type(exc).__name__}: {exc}"
                self._fail(
                    RemoteStoreError(f"lost the connection to the storage server at {self.where} ({reason})")
                )

    def _deliver(self, response: protocol.Response) -> None:
        if response.id is None:  # an error about the stream itself (oversized frame): it ends the connection
            if response.error is not None:
                self._fail(response.error)
            return
        with self._pending_lock:
            pending = self._pending.get(response.id)
            if pending is None:
                return  # its caller gave up waiting
            if response.more:
                if not isinstance(response.result, list):
                    raise ProtocolError("the storage server sent a chunk that is not a list")
                pending.parts.extend(response.result)
                return
            del self._pending[response.id]
        if response.error is not None:
            pending.error = response.error
        elif pending.parts:
            pending.result = pending.parts + list(response.result or [])
        else:
            pending.result = response.result
        pending.done.set()

    def _fail(self, error: SutraError) -> None:
        """Break the connection: every waiting caller gets `error`, later calls reconnect."""
        with self._pending_lock:
            if self.broken is None:
                self.broken = error
            waiting, self._pending = list(self._pending.values()), {}
        for pending in waiting:
            pending.error = error
            pending.done.set()


def _readable(sock: socket.socket) -> bool:
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return True  # decrypted bytes already buffered: select would not see them
    ready, _, _ = select.select([sock], [], [], 0.5)  # wakes now and then to notice close()
    return bool(ready)


def _read_frame(sock: socket.socket, limit: int) -> bytes | None:
    header = _recv_exactly(sock, protocol.HEADER.size, allow_eof=True)
    if header is None:
        return None
    body = _recv_exactly(sock, protocol.body_length(header, limit), allow_eof=False)
    assert body is not None  # allow_eof=False never returns None
    return body


def _recv_exactly(sock: socket.socket, size: int, *, allow_eof: bool) -> bytes | None:
    chunks, got = [], 0
    while got < size:
        chunk = sock.recv(min(size - got, 1 << 20))
        if not chunk:
            if allow_eof and got == 0:
                return None
            raise ConnectionResetError("the connection ended inside a frame")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


class RemoteStore(Store):
    """A store served by `sutra storage serve` at `url` ("sutra://host:port", or "sutras://" for TLS),
    reached with `token` and, for TLS, a server certificate verified against the CA file `ca` (the
    system's CAs when None). Thread-safe. `close()` closes the connection; the server's store stays open."""

    def __init__(
        self,
        url: str,
        *,
        token: str = "",
        ca: str | os.PathLike[str] | None = None,
        timeout: float = 300.0,
        connect_timeout: float = 10.0,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("sutra", "sutras") or not parts.hostname:
            raise ConfigError(f"storage URL {url!r} must look like sutra://host:port or sutras://host:port")
        try:
            port = parts.port or DEFAULT_PORT
        except ValueError:
            raise ConfigError(f"storage URL {url!r} has an invalid port") from None
        self.url, self._host, self._port = url, parts.hostname, port
        self._where = f"{self._host}:{port}"
        self._token, self._timeout, self._connect_timeout = token, timeout, connect_timeout
        self._ssl = tls.client_context(None if ca is None else Path(ca)) if parts.scheme == "sutras" else None
        self._lock = threading.Lock()
        self._conn: _Connection | None = None
        self._closed = False
        self._connection()  # fail now, not at the first read, when the server or the token is wrong

    # ---- connection ----

    def _connection(self) -> _Connection:
        with self._lock:
            if self._closed:
                raise RemoteStoreError(f"this RemoteStore for {self.url} is closed; open a new one")
            if self._conn is None or self._conn.broken is not None:
                if self._conn is not None:
                    self._conn.close()
                self._conn = self._connect()
            return self._conn

    def _connect(self) -> _Connection:
        try:
            raw = socket.create_connection((self._host, self._port), timeout=self._connect_timeout)
        except OSError as exc:
            raise RemoteStoreError(
                f"cannot reach the storage server at {self._where} ({exc.strerror or exc}); is it running?"
            ) from None
        try:
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # small frames must not wait (Nagle)
            sock = raw if self._ssl is None else self._wrap(raw)
            sock.sendall(
                protocol.encode_request(
                    0, "hello", {"protocol": protocol.PROTOCOL_VERSION, "token": self._token}
                )
            )
            body = _read_frame(sock, protocol.PRE_AUTH_FRAME_BYTES)
            if body is None:
                raise RemoteStoreError(
                    f"the storage server at {self._where} closed the connection at the handshake"
                )
            response = protocol.decode_response(body)
            if response.error is not None:
                raise response.error
            hello = response.result
            if not isinstance(hello, dict) or hello.get("protocol") != protocol.PROTOCOL_VERSION:
                raise ProtocolError(
                    f"the storage server at {self._where} answered the handshake in another protocol"
                )
            return _Connection(sock, self._where, hello, frame_timeout=self._connect_timeout * 3)
        except BaseException as exc:
            raw.close()
            if isinstance(exc, OSError):
                raise RemoteStoreError(
                    f"the handshake with the storage server at {self._where} failed ({exc})"
                ) from None
            raise

    def _wrap(self, raw: socket.socket) -> ssl.SSLSocket:
        assert self._ssl is not None  # only called for sutras:// URLs
        try:
            return self._ssl.wrap_socket(raw, server_hostname=self._host)
        except ssl.SSLCertVerificationError as exc:
            raise RemoteStoreError(
                f"the storage server at {self._where} presented a certificate that is not trusted "
                f"({exc.verify_message}); check storage_ca"
            ) from None
        except (ssl.SSLError, OSError) as exc:
            raise RemoteStoreError(f"the TLS handshake with {self._where} failed ({exc})") from None

    def _call(self, op: str, **args: Any) -> Any:
        for attempt in (1, 2):
            conn = self._connection()
            try:
                return conn.call(op, args, self._timeout)
            except RemoteStoreError as exc:
                if conn.broken is None or type(exc) is not RemoteStoreError:
                    raise  # an answer from the server (refused token, ...), not a broken connection
                if attempt == 2 or not OPERATIONS[op].idempotent:
                    if op == "apply":
                        raise RemoteStoreError(
                            f"{exc}; the batch may or may not have been applied: check before retrying"
                        ) from None
                    raise
        raise AssertionError("unreachable")

    @property
    def role(self) -> str:
        """The role the server granted this client's token."""
        return self._connection().role

    def _limit(self, name: str) -> int:
        return self._connection().limits[name]

    # ---- the Store interface ----

    def apply(self, batch: Sequence[Mutation]) -> None:
        dicts, _ = encode_batch(batch)  # the same checks, messages and record stamps as a local store
        if not dicts:
            return
        if len(dicts) > self._limit("max_batch"):
            raise LimitError(
                f"a batch of {len(dicts)} mutations is over the storage server's limit of "
                f"{self._limit('max_batch')}; split it into smaller batches"
            )
        self._call("apply", batch=dicts)

    def get_concept(self, concept_id: str) -> Concept | None:
        found = self._call("get_concept", id=concept_id)
        return None if found is None else _decode(concept_from_dict, found)

    def get_association(self, association_id: str) -> Association | None:
        found = self._call("get_association", id=association_id)
        return None if found is None else _decode(association_from_dict, found)

    def neighbors(
        self,
        concept_id: str,
        direction: Direction = "out",
        types: Iterable[AssociationType] | None = None,
        relations: Iterable[str] | None = None,
        current_only: bool = False,
    ) -> list[Association]:
        found = self._call(
            "neighbors",
            id=concept_id,
            direction=direction,
            types=None if types is None else [AssociationType(t).value for t in types],
            relations=None if relations is None else list(relations),
            current_only=current_only,
        )
        return [_decode(association_from_dict, a) for a in found]

    def find_entities(self, name: str) -> list[str]:
        return list(self._call("find_entities", name=name))

    def find_paths(
        self, start: str, goal: str, max_depth: int = 3, *, current_only: bool = True, limit: int = 10
    ) -> list[list[Association]]:
        found = self._call(
            "find_paths", start=start, goal=goal, max_depth=max_depth, current_only=current_only, limit=limit
        )
        return [[_decode(association_from_dict, a) for a in path] for path in found]

    def search_text(self, query: str, k: int = 10) -> list[tuple[str, float]]:
        return [(cid, score) for cid, score in self._call("search_text", query=query, k=k)]

    def search_vector(self, vector: np.ndarray, k: int = 10) -> list[tuple[str, float]]:
        query = normalize_vector(vector)  # bad vectors fail here, with the local store's message
        return [(cid, score) for cid, score in self._call("search_vector", vector=query.tobytes(), k=k)]

    def time_range(
        self, since: str | None = None, until: str | None = None, kind: ConceptKind | None = None
    ) -> list[Concept]:
        kind_value = None if kind is None else ConceptKind(kind).value
        found = self._call("time_range", since=since, until=until, kind=kind_value)
        return [_decode(concept_from_dict, c) for c in found]

    def concepts(self, kind: ConceptKind | None = None) -> list[Concept]:
        found = self._call("concepts", kind=None if kind is None else ConceptKind(kind).value)
        return [_decode(concept_from_dict, c) for c in found]

    def by_source(self, source_id: str) -> list[str]:
        return list(self._call("by_source", source=source_id))

    def stats(self) -> dict[str, Any]:
        return {**self._call("stats"), "storage_url": self.url}

    def version(self) -> int:
        return int(self._call("version"))

    def health(self) -> dict[str, Any]:
        return dict(self._call("health"))

    def checkpoint(self) -> None:
        self._call("checkpoint")

    def check(self) -> list[str]:
        return list(self._call("check"))

    def close(self) -> None:
        with self._lock:
            self._closed = True
            conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def __enter__(self) -> RemoteStore:
        return self


def _decode(decode: Any, record: Any) -> Any:
    try:
        return decode(record)
    except CodecError as exc:
        raise ProtocolError(f"the storage server sent a malformed record ({exc})") from None
