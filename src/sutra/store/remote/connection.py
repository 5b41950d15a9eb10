"""One client connection to a storage server, shared by every thread of a `RemoteStore`.

Requests are pipelined: each caller sends its frame and waits for the response with its id. There is no
reader thread; whichever waiting caller finds nobody reading becomes the reader ("leader/followers"), reads
frames and hands each to its owner until its own has come, then lets another waiter take over. A lone
caller thus reads its own answer with no thread hand-off (a reader thread cost about a third of a round
trip, measured). Reads and writes of the socket share one lock because an `SSLSocket` must not be used by
two threads at once (OpenSSL's rule); the reader waits for data with `select` outside that lock, so a
waiting reader never holds up a sender.
"""

from __future__ import annotations

import itertools
import select
import socket
import ssl
import threading
import time
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from sutra.errors import LimitError, ProtocolError, RemoteStoreError, SutraError
from sutra.store.remote import protocol


@dataclass(slots=True)
class _Pending:
    done: bool = False
    parts: list[Any] = field(default_factory=list)  # chunks of a list result so far
    result: Any = None
    error: SutraError | None = None


class Connection:
    """A socket after a successful handshake. `broken` is set once it can no longer be used."""

    def __init__(self, sock: socket.socket, where: str, hello: dict[str, Any], frame_timeout: float) -> None:
        self.sock, self.where = sock, where
        self.role: str = hello["role"]
        self.limits: dict[str, int] = hello["limits"]
        self.broken: SutraError | None = None
        self._io = threading.Lock()
        self._state = threading.Condition()  # guards everything below
        self._pending: dict[int, _Pending] = {}
        self._reading = False
        self._ids = itertools.count(1)
        sock.settimeout(frame_timeout)  # bounds each blocking read or write once it has begun

    def call(self, op: str, args: dict[str, Any], timeout: float) -> Any:
        data = protocol.encode_request(0, op, args)  # id patched below; encoded first to check the size
        if len(data) - protocol.HEADER.size > self.limits["max_frame_bytes"]:
            raise LimitError(
                f"this {op} request is {len(data)} bytes, over the storage server's frame limit of "
                f"{self.limits['max_frame_bytes']} bytes; split it"
            )
        pending = _Pending()
        with self._state:
            self._raise_if_broken()
            if not self._pending and not self._reading and _readable(self.sock, 0):
                # Idle, yet the server has spoken: it is closing this connection (idle timeout, shutdown),
                # or answered a caller that stopped waiting. Either way, start afresh on a new one.
                self._fail(RemoteStoreError(f"the storage server at {self.where} closed the connection"))
                self._raise_if_broken()
            request_id = next(self._ids)
            self._pending[request_id] = pending
        try:
            with self._io:
                self.sock.sendall(protocol.encode_request(request_id, op, args))
        except OSError as exc:
            self._fail(RemoteStoreError(f"lost the connection to the storage server at {self.where} ({exc})"))
        self._wait(pending, request_id, op, time.monotonic() + timeout)
        if pending.error is not None:
            # a fresh instance per caller: one error may be shared by every request a broken connection held
            raise type(pending.error)(str(pending.error))
        return pending.result

    def close(self) -> None:
        with suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        with self._io:  # not while another thread is inside a read or write of it
            self.sock.close()
        self._fail(RemoteStoreError(f"the connection to the storage server at {self.where} was closed"))

    # ---- waiting and reading ----

    def _wait(self, pending: _Pending, request_id: int, op: str, deadline: float) -> None:
        while True:
            with self._state:
                while not pending.done and self._reading:
                    if not self._state.wait(deadline - time.monotonic()):
                        break
                if pending.done:
                    return
                if time.monotonic() >= deadline:
                    self._pending.pop(request_id, None)
                    raise RemoteStoreError(
                        f"the storage server at {self.where} did not answer {op!r} in time"
                    )
                self._reading = True  # nobody is reading: this caller becomes the reader
            try:
                self._read_until(pending, deadline)
            finally:
                with self._state:
                    self._reading = False
                    self._state.notify_all()  # a waiter whose answer has not come takes over

    def _read_until(self, pending: _Pending, deadline: float) -> None:
        try:
            while not pending.done and time.monotonic() < deadline:
                if not _readable(self.sock, min(0.5, max(0.0, deadline - time.monotonic()))):
                    continue
                with self._io:
                    body = read_frame(self.sock, self.limits["max_frame_bytes"] + protocol.CHUNK_BYTES)
                if body is None:
                    raise ConnectionResetError("the server closed the connection")
                response = protocol.decode_response(body)
                with self._state:
                    self._deliver(response)
                    self._state.notify_all()
        except (OSError, ValueError, ProtocolError, LimitError) as exc:  # ValueError: closed under us
            reason = exc if isinstance(exc, SutraError) else f"{type(exc).__name__}: {exc}"
            self._fail(
                RemoteStoreError(f"lost the connection to the storage server at {self.where} ({reason})")
            )

    def _deliver(self, response: protocol.Response) -> None:
        """With `_state` held: hand a response (or one chunk of it) to its caller."""
        if response.id is None:  # an error about the stream itself (oversized frame): it ends the connection
            if response.error is not None:
                self._fail_locked(response.error)
            return
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
        pending.done = True

    def _fail(self, error: SutraError) -> None:
        with self._state:
            self._fail_locked(error)

    def _fail_locked(self, error: SutraError) -> None:
        """Break the connection: every waiting caller gets `error`; `RemoteStore` reconnects next call."""
        if self.broken is None:
            self.broken = error
        for pending in self._pending.values():
            pending.error, pending.done = error, True
        self._pending.clear()
        self._state.notify_all()

    def _raise_if_broken(self) -> None:
        if self.broken is not None:
            raise type(self.broken)(str(self.broken))


def _readable(sock: socket.socket, wait: float) -> bool:
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return True  # decrypted bytes already buffered: select would not see them
    try:
        ready, _, _ = select.select([sock], [], [], wait)
    except (OSError, ValueError):  # closed under us: let the read report it
        return True
    return bool(ready)


def read_frame(sock: socket.socket, limit: int) -> bytes | None:
    """The next frame's body from a blocking socket; None at a clean end of stream."""
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
