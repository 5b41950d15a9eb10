"""The storage wire protocol: length-prefixed msgpack frames carrying requests and responses with ids.

A frame is a 4-byte big-endian length, then that many bytes of msgpack. The client's first frame is the
handshake ``{"id": 0, "op": "hello", "args": {"protocol": 1, "token": "..."}}``; the answer carries the role
the token grants and the server's limits. After that every request is ``{"id", "op", "args"}`` and every
response ``{"id", "ok": true, "result", "more"}`` or ``{"id", "ok": false, "error": {"type", "message"}}``.
Requests on one connection may be pipelined; responses come back as each finishes, matched by id. A list
result may arrive as several frames of the same id, all but the last marked ``"more": true``, so no single
frame has to hold a whole graph.

Everything here is pure (bytes in, values out); the asyncio server and the socket client share it.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any, TypeGuard

import msgpack

from sutra import errors
from sutra.errors import LimitError, ProtocolError, SutraError

log = logging.getLogger("sutra.storage")

PROTOCOL_VERSION = 1
HEADER = struct.Struct(">I")
# Before a client has shown a valid token it may send only this much, so strangers cannot make the server
# allocate large buffers.
PRE_AUTH_FRAME_BYTES = 64 * 1024
# A chunked list result is cut into frames of about this many bytes.
CHUNK_BYTES = 1024 * 1024
MAX_OP_CHARS = 64
MAX_REQUEST_ID = 2**63 - 1


@dataclass(frozen=True, slots=True)
class Limits:
    """What one request may ask for; the server enforces them and tells the client in the handshake."""

    max_frame_bytes: int = 64 * 1024 * 1024
    max_batch: int = 100_000  # mutations in one `apply`
    max_k: int = 10_000  # results of a search, paths of `find_paths`
    max_depth: int = 8  # edges in one path of `find_paths`
    max_in_flight: int = 64  # pipelined requests one connection may have running
    max_connections: int = 1024  # open connections; more are answered with an error and closed
    handshake_timeout: float = 10.0
    frame_timeout: float = 30.0  # once a frame has begun, the rest must arrive within this
    idle_timeout: float = 900.0  # a connection silent this long is closed (the client reconnects)

    def to_wire(self) -> dict[str, int]:
        return {k: v for k, v in asdict(self).items() if k.startswith("max_")}


@dataclass(frozen=True, slots=True)
class Request:
    id: int
    op: str
    args: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Response:
    id: int | None
    ok: bool
    result: Any = None
    more: bool = False
    error: SutraError | None = None


class MalformedRequest(ProtocolError):
    """A request frame that is not a request; `request_id` is its id when one could be read, so the
    error response can still be matched by a client that pipelines."""

    def __init__(self, message: str, request_id: int | None = None) -> None:
        super().__init__(message)
        self.request_id = request_id


# ---- frames ----


def pack(value: Any) -> bytes:
    return msgpack.packb(value, use_bin_type=True)


def unpack(body: bytes) -> Any:
    try:
        return msgpack.unpackb(body, raw=False, strict_map_key=False)
    except Exception as exc:  # untrusted bytes: msgpack raises several types, none of them ours
        detail = f": {exc}" if str(exc) else ""
        raise ProtocolError(f"a frame is not valid msgpack ({type(exc).__name__}{detail})") from None


def frame(body: bytes) -> bytes:
    return HEADER.pack(len(body)) + body


def body_length(header: bytes, limit: int) -> int:
    """The body length a frame header announces; `LimitError` over `limit`, `ProtocolError` if empty."""
    (length,) = HEADER.unpack(header)
    if length > limit:
        raise LimitError(
            f"a frame of {length} bytes is over this connection's limit of {limit} bytes; send smaller "
            "requests (split a batch, ask for fewer results)"
        )
    if length == 0:
        raise ProtocolError("an empty frame (length 0) is not a message")
    return length


# ---- requests ----


def encode_request(request_id: int, op: str, args: dict[str, Any]) -> bytes:
    return frame(pack({"id": request_id, "op": op, "args": args}))


def decode_request(body: bytes) -> Request:
    """A request from untrusted bytes; `MalformedRequest` (a `ProtocolError`) for anything else."""
    try:
        value = unpack(body)
    except ProtocolError as exc:
        raise MalformedRequest(str(exc)) from None
    if not isinstance(value, dict):
        raise MalformedRequest(f"a request must be a map, got {type(value).__name__}")
    request_id = value.get("id")
    if not _is_id(request_id):
        raise MalformedRequest(f"a request id must be a whole number in [0, 2^63), got {request_id!r:.40}")
    op, args = value.get("op"), value.get("args", {})
    if not isinstance(op, str) or not 0 < len(op) <= MAX_OP_CHARS:
        raise MalformedRequest(f"a request needs an operation name, got {op!r:.40}", request_id)
    if not isinstance(args, dict) or not all(isinstance(k, str) for k in args):
        raise MalformedRequest("request args must be a map with string keys", request_id)
    unknown = set(value) - {"id", "op", "args"}
    if unknown:
        raise MalformedRequest(
            f"unknown request fields {sorted(map(str, unknown))}; a request has id, op and args", request_id
        )
    return Request(request_id, op, args)


def _is_id(value: Any) -> TypeGuard[int]:
    return not isinstance(value, bool) and isinstance(value, int) and 0 <= value <= MAX_REQUEST_ID


# ---- responses ----


def encode_result(request_id: int, result: Any) -> bytes:
    return frame(pack({"id": request_id, "ok": True, "result": result, "more": False}))


def encode_chunks(request_id: int, items: list[Any]) -> Iterator[bytes]:
    """A list result as frames of about `CHUNK_BYTES` each (at least one item per frame, at least one
    frame). Items are packed once and spliced into each frame's array, not packed twice."""
    packer = msgpack.Packer(use_bin_type=True)
    pending: list[bytes] = []
    size = 0
    for item in items:
        packed = packer.pack(item)
        if pending and size + len(packed) > CHUNK_BYTES:
            yield _chunk_frame(packer, request_id, pending, more=True)
            pending, size = [], 0
        pending.append(packed)
        size += len(packed)
    yield _chunk_frame(packer, request_id, pending, more=False)


def _chunk_frame(packer: msgpack.Packer, request_id: int, items: list[bytes], *, more: bool) -> bytes:
    head = packer.pack_map_header(4) + b"".join(
        packer.pack(x) for x in ("id", request_id, "ok", True, "more", more, "result")
    )
    return frame(head + packer.pack_array_header(len(items)) + b"".join(items))


def encode_error(request_id: int | None, exc: BaseException) -> bytes:
    return frame(pack({"id": request_id, "ok": False, "error": error_to_wire(exc)}))


def decode_response(body: bytes) -> Response:
    value = unpack(body)
    if not isinstance(value, dict) or not isinstance(value.get("ok"), bool):
        raise ProtocolError("the storage server sent something that is not a response")
    request_id = value.get("id")
    if request_id is not None and (isinstance(request_id, bool) or not isinstance(request_id, int)):
        raise ProtocolError(f"a response id must be a whole number, got {request_id!r:.40}")
    if not value["ok"]:
        return Response(request_id, False, error=error_from_wire(value.get("error")))
    return Response(request_id, True, value.get("result"), bool(value.get("more", False)))


# ---- errors across the wire: by class name, limited to Sutra's own tree ----

_WIRE_ERRORS: dict[str, type[SutraError]] = {
    cls.__name__: cls
    for cls in vars(errors).values()
    if isinstance(cls, type) and issubclass(cls, SutraError)
}


def error_to_wire(exc: BaseException) -> dict[str, str]:
    if isinstance(exc, SutraError):
        name = next(c.__name__ for c in type(exc).__mro__ if c.__name__ in _WIRE_ERRORS)
        return {"type": name, "message": str(exc)}
    # A bug in the server: the client gets a typed error, the traceback stays in the server's log.
    log.error("storage request failed unexpectedly", exc_info=exc)
    return {
        "type": "StorageError",
        "message": f"the storage server failed on this request ({type(exc).__name__}: {exc}); see its log",
    }


def error_from_wire(error: Any) -> SutraError:
    if not isinstance(error, dict) or not isinstance(error.get("message"), str):
        return ProtocolError("the storage server sent an error response without a message")
    cls = _WIRE_ERRORS.get(str(error.get("type")), errors.StorageError)
    return cls(error["message"])
