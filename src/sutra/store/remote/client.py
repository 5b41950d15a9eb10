"""`RemoteStore`: the `Store` interface over a connection to a storage server, so the engine runs
unchanged on local or remote storage.

Every thread's requests share one pipelined connection (connection.py). A connection that breaks is
replaced on the next call. Reads that were in flight are sent again once on the new connection; an `apply`
is not, because the server may or may not have applied it before the break, and the error says so.
"""

from __future__ import annotations

import os
import socket
import ssl
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from sutra.errors import ConfigError, LimitError, ProtocolError, RemoteStoreError
from sutra.model import Association, AssociationType, Concept, ConceptKind, Mutation
from sutra.store.base import Direction, Store
from sutra.store.batch import encode_batch
from sutra.store.codec import CodecError, association_from_dict, concept_from_dict, normalize_vector
from sutra.store.remote import protocol, tls
from sutra.store.remote.connection import Connection, read_frame
from sutra.store.remote.ops import OPERATIONS

DEFAULT_PORT = 7878


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
        self._conn: Connection | None = None
        self._closed = False
        self._connection()  # fail now, not at the first read, when the server or the token is wrong

    # ---- connection ----

    def _connection(self) -> Connection:
        with self._lock:
            if self._closed:
                raise RemoteStoreError(f"this RemoteStore for {self.url} is closed; open a new one")
            if self._conn is None or self._conn.broken is not None:
                if self._conn is not None:
                    self._conn.close()
                self._conn = self._connect()
            return self._conn

    def _connect(self) -> Connection:
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
            body = read_frame(sock, protocol.PRE_AUTH_FRAME_BYTES)
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
            return Connection(sock, self._where, hello, frame_timeout=self._connect_timeout * 3)
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
