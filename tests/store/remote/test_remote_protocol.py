"""The wire format alone: frames, requests, responses, chunking, errors; the decoder fuzzed."""

from __future__ import annotations

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sutra.errors import (
    AuthError,
    ForbiddenError,
    InputError,
    LimitError,
    NotFoundError,
    ProtocolError,
    StorageError,
    SutraError,
)
from sutra.store.remote import protocol


def body_of(frame: bytes) -> bytes:
    (length,) = protocol.HEADER.unpack(frame[: protocol.HEADER.size])
    body = frame[protocol.HEADER.size :]
    assert len(body) == length
    return body


def test_a_request_round_trips() -> None:
    frame = protocol.encode_request(7, "neighbors", {"id": "e:1", "types": None, "vector": b"\x00\x01"})
    request = protocol.decode_request(body_of(frame))
    assert request == protocol.Request(7, "neighbors", {"id": "e:1", "types": None, "vector": b"\x00\x01"})


@pytest.mark.parametrize(
    ("value", "message", "request_id"),
    [
        ([1, 2], "must be a map", None),
        ({"op": "stats"}, "request id", None),
        ({"id": -1, "op": "stats"}, "request id", None),
        ({"id": True, "op": "stats"}, "request id", None),
        ({"id": 2**63, "op": "stats"}, "request id", None),
        ({"id": 3}, "operation name", 3),
        ({"id": 3, "op": "x" * 65}, "operation name", 3),
        ({"id": 3, "op": "stats", "args": [1]}, "args must be a map", 3),
        ({"id": 3, "op": "stats", "args": {1: 2}}, "args must be a map", 3),
        ({"id": 3, "op": "stats", "extra": 1}, r"unknown request fields \['extra'\]", 3),
    ],
)
def test_malformed_requests_are_protocol_errors_that_keep_the_id(
    value: object, message: str, request_id: int | None
) -> None:
    with pytest.raises(protocol.MalformedRequest, match=message) as caught:
        protocol.decode_request(msgpack.packb(value))
    assert caught.value.request_id == request_id


def test_frame_headers_are_checked_against_the_limit() -> None:
    assert protocol.body_length(protocol.HEADER.pack(100), 100) == 100
    with pytest.raises(LimitError, match="over this connection's limit of 99 bytes"):
        protocol.body_length(protocol.HEADER.pack(100), 99)
    with pytest.raises(ProtocolError, match="empty frame"):
        protocol.body_length(protocol.HEADER.pack(0), 99)


def test_list_results_are_cut_into_chunks_that_reassemble_in_order() -> None:
    items = [{"n": i, "text": "x" * 5000} for i in range(600)]  # about 3 MB: several chunks
    frames = list(protocol.encode_chunks(9, items))
    assert len(frames) >= 3
    assert all(len(f) <= protocol.CHUNK_BYTES + 6000 for f in frames)
    responses = [protocol.decode_response(body_of(f)) for f in frames]
    assert [r.more for r in responses] == [True] * (len(frames) - 1) + [False]
    assert {r.id for r in responses} == {9}
    assert [item for r in responses for item in r.result] == items


def test_an_empty_list_result_is_one_frame() -> None:
    (only,) = protocol.encode_chunks(4, [])
    assert protocol.decode_response(body_of(only)) == protocol.Response(4, True, [], False)


@pytest.mark.parametrize("error", [InputError, LimitError, AuthError, ForbiddenError, NotFoundError])
def test_sutra_errors_cross_the_wire_with_their_type_and_message(error: type[SutraError]) -> None:
    response = protocol.decode_response(body_of(protocol.encode_error(5, error("what failed and why"))))
    assert response.id == 5 and not response.ok
    assert type(response.error) is error and str(response.error) == "what failed and why"


def test_a_private_error_subclass_travels_as_its_public_parent() -> None:
    response = protocol.decode_response(body_of(protocol.encode_error(1, protocol.MalformedRequest("bad"))))
    assert type(response.error) is ProtocolError


def test_a_bug_in_the_server_becomes_a_storage_error_naming_it() -> None:
    response = protocol.decode_response(body_of(protocol.encode_error(1, KeyError("oops"))))
    assert type(response.error) is StorageError and "KeyError" in str(response.error)


def test_an_unknown_error_type_from_a_server_is_a_storage_error() -> None:
    body = msgpack.packb({"id": 1, "ok": False, "error": {"type": "SystemExit", "message": "no"}})
    assert type(protocol.decode_response(body).error) is StorageError


# ---- fuzzing: whatever the bytes, the decoders answer with a value or a ProtocolError ----

msgpack_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats() | st.text() | st.binary(),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.text(max_size=5) | st.integers(-(2**63), 2**63 - 1), children, max_size=5)
    ),
    max_leaves=20,
)
arg_maps = st.dictionaries(st.text(), msgpack_values)
request_like = st.fixed_dictionaries(
    {},
    optional={
        "id": st.integers(-5, 2**64 - 1) | st.booleans() | st.text(),
        "op": st.text(max_size=70) | st.integers(-100, 100),
        "args": msgpack_values,
    },
)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_decode_request_survives_any_bytes(data: bytes) -> None:
    try:
        request = protocol.decode_request(data)
    except ProtocolError:
        return
    assert isinstance(request.id, int) and isinstance(request.op, str) and isinstance(request.args, dict)


@settings(max_examples=300, deadline=None)
@given(msgpack_values | request_like)
def test_decode_request_survives_any_msgpack_value(value: object) -> None:
    try:
        request = protocol.decode_request(msgpack.packb(value, use_bin_type=True))
    except ProtocolError:
        return
    assert 0 <= request.id < 2**63 and 0 < len(request.op) <= protocol.MAX_OP_CHARS


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200) | msgpack_values.map(lambda v: msgpack.packb(v, use_bin_type=True)))
def test_decode_response_survives_any_bytes(data: bytes) -> None:
    try:
        response = protocol.decode_response(data)
    except ProtocolError:
        return
    assert response.ok or isinstance(response.error, SutraError)


@given(st.integers(0, 2**63 - 1), st.text(min_size=1, max_size=64), arg_maps)
def test_every_well_formed_request_round_trips(request_id: int, op: str, args: dict[str, object]) -> None:
    decoded = protocol.decode_request(body_of(protocol.encode_request(request_id, op, args)))
    assert (decoded.id, decoded.op) == (request_id, op)
    assert msgpack.packb(decoded.args) == msgpack.packb(args)  # NaN-safe comparison
