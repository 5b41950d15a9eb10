"""The storage server: one store served over TCP (optionally TLS) with asyncio.

Each connection starts with the handshake (protocol version + token, see protocol.py), then reads request
frames and runs each in a thread pool, so a slow `apply` (fsync) or `checkpoint` never stalls the event loop
and pipelined requests overlap; responses are written as they finish. Reads are bounded in time (handshake,
idle connection, a frame that has begun but stalls) and in size (the frame limit, much smaller before the
token is checked); a frame that breaks the protocol gets an error response, and when the stream cannot be
trusted to be in step any more (an oversized frame) the connection is closed. Requests on one connection are
not ordered against each other: a client that needs order waits for the answer, as the `Store` API does.

`ServerThread` runs a server on its own event loop in a background thread: for tests, benchmarks and
embedding a server in a process that is not async.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from typing import Any

from sutra.errors import AuthError, LimitError, ProtocolError, RemoteStoreError, StorageError
from sutra.store.base import Store
from sutra.store.remote import ops, protocol, tokens
from sutra.store.remote.protocol import Limits, Request

log = logging.getLogger("sutra.storage")


class StorageServer:
    """Serves `store` (which stays the caller's to close). Without `token_secret` every client is an
    admin: only for a trusted loopback."""

    def __init__(
        self,
        store: Store,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl_context: ssl.SSLContext | None = None,
        token_secret: bytes | None = None,
        limits: Limits | None = None,
        workers: int = 8,
    ) -> None:
        if token_secret is not None:
            tokens.check_secret(token_secret)
        self.store, self.host, self.port = store, host, port
        self.limits = limits or Limits()
        self._ssl, self._secret = ssl_context, token_secret
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="sutra-storage")
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._in_workers = 0  # requests running in the pool now (only touched on the event loop)
        self._started = time.time()

    @property
    def requires_tokens(self) -> bool:
        return self._secret is not None

    @property
    def url(self) -> str:
        return f"{'sutras' if self._ssl else 'sutra'}://{self.host}:{self.port}"

    async def start(self) -> None:
        tls: dict[str, Any] = {}
        if self._ssl is not None:  # a client that never finishes the TLS handshake is dropped too
            tls = {"ssl": self._ssl, "ssl_handshake_timeout": self.limits.handshake_timeout}
        self._server = await asyncio.start_server(self._connection, self.host, self.port, **tls)
        self.port = self._server.sockets[0].getsockname()[1]
        if self._secret is None:
            log.warning("storage server at %s accepts every client as admin (no token secret)", self.url)

    async def stop(self) -> None:
        """Stop listening, close every connection, wait for running requests, release the threads."""
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
        await asyncio.get_running_loop().run_in_executor(None, self._executor.shutdown)

    # ---- one connection ----

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None  # always inside a task here; not input validation
        self._connections.add(task)
        running: set[asyncio.Task[None]] = set()
        try:
            if len(self._connections) > self.limits.max_connections:
                busy = RemoteStoreError(
                    f"the storage server has {self.limits.max_connections} connections open, its limit; "
                    "retry later, or share one RemoteStore between threads"
                )
                writer.write(protocol.encode_error(0, busy))
                await writer.drain()
                return
            claims = await self._handshake(reader, writer)
            if claims is not None:
                await self._serve(reader, writer, claims, running)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError, TimeoutError):
            pass  # the peer went away, stalled or broke TLS: nothing to answer
        except asyncio.CancelledError:
            pass  # `stop()` (the only canceller): close below and end normally, so asyncio logs nothing
        finally:
            # Answers still being computed finish (their writes are dropped); closing an already broken
            # connection may fail or be cancelled too, and there is nothing more to do about it then.
            with suppress(Exception, asyncio.CancelledError):
                if running:
                    await asyncio.gather(*running, return_exceptions=True)
                writer.close()
                await writer.wait_closed()
            self._connections.discard(task)

    async def _read_frame(self, reader: asyncio.StreamReader, limit: int, wait: float) -> bytes | None:
        """The next frame's body, None at a clean end of stream. `wait` bounds the wait for a frame to
        begin; once it has, the rest must come within `frame_timeout`."""
        try:
            header = await asyncio.wait_for(reader.readexactly(protocol.HEADER.size), wait)
        except asyncio.IncompleteReadError as exc:
            if exc.partial:
                raise
            return None
        length = protocol.body_length(header, limit)
        return await asyncio.wait_for(reader.readexactly(length), self.limits.frame_timeout)

    async def _handshake(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> tokens.Claims | None:
        try:
            body = await self._read_frame(
                reader, protocol.PRE_AUTH_FRAME_BYTES, self.limits.handshake_timeout
            )
            if body is None:
                return None
            request = protocol.decode_request(body)
            if request.op != "hello":
                raise ProtocolError(f"the first request must be 'hello' (the handshake), not {request.op!r}")
            version = request.args.get("protocol")
            if type(version) is not int or version != protocol.PROTOCOL_VERSION:  # True == 1 in Python
                raise ProtocolError(
                    f"protocol version {version!r:.20} is not supported; this server speaks version "
                    f"{protocol.PROTOCOL_VERSION}: upgrade the older side"
                )
            claims = self._claims(request.args.get("token"))
        except (ProtocolError, AuthError, LimitError) as exc:
            log.info("refused a client: %s", exc)
            writer.write(protocol.encode_error(getattr(exc, "request_id", 0), exc))
            await writer.drain()
            return None
        result = {
            "protocol": protocol.PROTOCOL_VERSION,
            "role": claims.role,
            "expires_at": claims.expires_at,
            "limits": self.limits.to_wire(),
        }
        writer.write(protocol.encode_result(request.id, result))
        await writer.drain()
        return claims

    def _claims(self, token: Any) -> tokens.Claims:
        if self._secret is None:
            return tokens.Claims("admin", self._started, float("inf"), "anonymous")
        return tokens.verify(token, self._secret)

    async def _serve(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        claims: tokens.Claims,
        running: set[asyncio.Task[None]],
    ) -> None:
        slots = asyncio.Semaphore(self.limits.max_in_flight)
        while True:
            try:
                body = await self._read_frame(reader, self.limits.max_frame_bytes, self.limits.idle_timeout)
            except (LimitError, ProtocolError) as exc:
                # the body was not read, so the stream is out of step: answer, then close
                writer.write(protocol.encode_error(None, exc))
                await writer.drain()
                return
            if body is None:
                return
            try:
                request = protocol.decode_request(body)
            except protocol.MalformedRequest as exc:
                writer.write(protocol.encode_error(exc.request_id, exc))
                await writer.drain()
                continue
            op = ops.OPERATIONS.get(request.op)
            if op is not None and op.quick and self._in_workers == 0:
                # Nothing runs in the pool, so nothing holds the store's lock for long: a lookup by key
                # answers at once here, saving two thread hand-offs (half the round trip, measured).
                writer.writelines(self._run(request, claims))
                await writer.drain()
                continue
            await slots.acquire()  # back-pressure: stop reading while this many requests run
            task = asyncio.create_task(self._answer(request, claims, writer, slots))
            running.add(task)
            task.add_done_callback(running.discard)

    async def _answer(
        self, request: Request, claims: tokens.Claims, writer: asyncio.StreamWriter, slots: asyncio.Semaphore
    ) -> None:
        self._in_workers += 1
        try:
            loop = asyncio.get_running_loop()
            try:
                frames = await loop.run_in_executor(self._executor, self._run, request, claims)
            finally:
                self._in_workers -= 1
            if not writer.is_closing():
                writer.writelines(frames)
                await writer.drain()
        except (ConnectionError, ssl.SSLError):
            pass  # the client left before its answer
        finally:
            slots.release()

    def _run(self, request: Request, claims: tokens.Claims) -> list[bytes]:
        """In a worker thread: check, run, encode (encoding a large result is work too)."""
        try:
            op = ops.OPERATIONS.get(request.op)
            if op is None:
                raise ProtocolError(
                    f"unknown operation {request.op!r}; this server knows {', '.join(sorted(ops.OPERATIONS))}"
                )
            claims.require(op.role, request.op)
            result = op.run(self.store, request.args, self.limits)
            if op.chunked:
                return list(protocol.encode_chunks(request.id, result))
            if request.op == "health":
                result = {**result, **self._health(claims)}
            return [protocol.encode_result(request.id, result)]
        except Exception as exc:  # every failure becomes a typed error response; bugs are logged there
            return [protocol.encode_error(request.id, exc)]

    def _health(self, claims: tokens.Claims) -> dict[str, Any]:
        return {
            "protocol": protocol.PROTOCOL_VERSION,
            "role": claims.role,
            "uptime_s": round(time.time() - self._started, 3),
            "connections": len(self._connections),
        }


class ServerThread:
    """A `StorageServer` on its own event loop in a daemon thread. `start()` returns once it listens."""

    def __init__(self, server: StorageServer) -> None:
        self.server = server
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="sutra-storage-server", daemon=True)

    def start(self) -> ServerThread:
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise StorageError(f"the storage server did not start ({self._error})") from self._error
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stopping is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _main(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self._loop, self._stopping = asyncio.get_running_loop(), asyncio.Event()
        try:
            await self.server.start()
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            await self._stopping.wait()
        finally:
            await self.server.stop()
