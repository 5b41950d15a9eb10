"""A server facing bad clients: malformed frames get an error response or a clean close, never a crash or a
hang, and the server keeps serving everyone else. Raw sockets, so the client library's own checks are
bypassed and the server's are the ones tested."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.store.builders import entity
from tests.store.remote.conftest import Served, closed_by_peer, read_response

from sutra.errors import InputError, LimitError, ProtocolError, RemoteStoreError
from sutra.model import PutConcept
from sutra.store.codec import mutation_to_dict
from sutra.store.remote import Limits, protocol


def request(sock: socket.socket, request_id: int, op: str, **args: object) -> protocol.Response:
    sock.sendall(protocol.encode_request(request_id, op, args))
    return read_response(sock)


def test_pipelined_requests_are_all_answered_with_their_ids(serve: Callable[..., Served]) -> None:
    served = serve()
    served.client().apply([PutConcept(entity(f"E{i}", "s")) for i in range(5)])
    with served.raw(served.token()) as sock:
        sock.sendall(
            b"".join(protocol.encode_request(i, "find_entities", {"name": f"e{i % 5}"}) for i in range(1, 41))
        )
        answers = {}
        while len(answers) < 40:
            response = read_response(sock)
            assert response.ok and not response.more
            answers[response.id] = response.result
        assert answers == {i: [entity(f"E{i % 5}").id] for i in range(1, 41)}


def test_a_malformed_request_gets_an_error_and_the_connection_goes_on(serve: Callable[..., Served]) -> None:
    served = serve()
    with served.raw(served.token()) as sock:
        sock.sendall(protocol.frame(b"\xc1\xc1 not msgpack"))
        response = read_response(sock)
        assert response.id is None and isinstance(response.error, ProtocolError)
        sock.sendall(protocol.frame(msgpack.packb({"id": 5, "op": 12})))
        response = read_response(sock)
        assert response.id == 5 and isinstance(response.error, ProtocolError)
        assert isinstance(request(sock, 6, "no_such_op").error, ProtocolError)
        assert request(sock, 7, "version").result == served.store.version()


@pytest.mark.parametrize(
    ("op", "args", "error", "message"),
    [
        ("get_concept", {"id": 5}, InputError, "'id' must be a string"),
        (
            "neighbors",
            {"id": "e:1", "direction": "out", "types": ["nonsense"]},
            InputError,
            "association type",
        ),
        ("neighbors", {"id": "e:1", "direction": "out", "current_only": "yes"}, InputError, "true or false"),
        ("concepts", {"kind": "planet"}, InputError, "concept kind"),
        ("search_text", {"query": "x", "k": 0}, InputError, "at least 1"),
        ("search_text", {"query": "x", "k": 10**6}, LimitError, "over the storage server's limit"),
        ("search_vector", {"vector": b"abc", "k": 3}, InputError, "float32 bytes"),
        ("find_paths", {"start": "a", "goal": "b", "max_depth": 99}, LimitError, "max_depth=99"),
        ("apply", {"batch": "everything"}, InputError, "list of mutations"),
        (
            "apply",
            {"batch": [{"op": "put_concept", "concept": {"id": "x"}}]},
            InputError,
            "mutation 0 of the batch is malformed",
        ),
        ("apply", {"batch": [{"op": "explode"}]}, InputError, "malformed"),
    ],
)
def test_bad_arguments_are_typed_errors_and_change_nothing(
    serve: Callable[..., Served], op: str, args: dict[str, object], error: type[Exception], message: str
) -> None:
    served = serve()
    before = served.store.version()
    with served.raw(served.token()) as sock:
        response = request(sock, 1, op, **args)
        assert type(response.error) is error and message in str(response.error)
        assert request(sock, 2, "health").ok
    assert served.store.version() == before


def test_a_batch_over_the_limit_is_refused_by_the_server_itself(serve: Callable[..., Served]) -> None:
    served = serve(limits=Limits(max_batch=2))
    batch = [mutation_to_dict(PutConcept(entity(f"E{i}"))) for i in range(3)]
    with served.raw(served.token()) as sock:
        response = request(sock, 1, "apply", batch=batch)
        assert isinstance(response.error, LimitError) and "limit of 2" in str(response.error)
    assert served.store.concepts() == []


def test_an_oversized_frame_is_answered_and_the_connection_closed(serve: Callable[..., Served]) -> None:
    served = serve(limits=Limits(max_frame_bytes=1000))
    with served.raw(served.token()) as sock:
        sock.sendall(protocol.HEADER.pack(5000) + b"x" * 100)
        response = read_response(sock)
        assert isinstance(response.error, LimitError) and "limit of 1000 bytes" in str(response.error)
        assert closed_by_peer(sock)
    assert served.client().health()["status"] == "ok"


def test_a_frame_that_stalls_halfway_is_dropped_after_the_frame_timeout(serve: Callable[..., Served]) -> None:
    served = serve(limits=Limits(frame_timeout=0.3))
    with served.raw(served.token()) as sock:
        sock.sendall(protocol.HEADER.pack(100) + b"only part")
        started = time.monotonic()
        assert closed_by_peer(sock)
        assert time.monotonic() - started < 5


def test_a_silent_client_is_dropped_at_the_handshake_timeout(serve: Callable[..., Served]) -> None:
    served = serve(limits=Limits(handshake_timeout=0.3))
    with served.raw() as sock:
        assert closed_by_peer(sock)


def test_a_half_sent_header_and_an_abrupt_close_do_not_disturb_the_server(
    serve: Callable[..., Served],
) -> None:
    served = serve()
    for junk in (b"\x00\x00", protocol.HEADER.pack(50) + b"abc", b""):
        with served.raw(served.token()) as sock:
            sock.sendall(junk)
    assert served.client().health()["status"] == "ok"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.binary(max_size=64)
        | st.builds(lambda b: protocol.HEADER.pack(len(b)) + b, st.binary(min_size=1, max_size=64))
        | st.builds(
            lambda op, args: protocol.encode_request(1, op, args),
            st.sampled_from(["get_concept", "neighbors", "apply", "concepts", "search_vector", "x"]),
            st.dictionaries(
                st.sampled_from(["id", "batch", "k", "vector", "kind", "direction"]),
                st.none()
                | st.integers(-3, 3)
                | st.text(max_size=5)
                | st.binary(max_size=8)
                | st.lists(st.integers(0, 2), max_size=2),
            ),
        ),
        max_size=4,
    )
)
def test_any_bytes_after_the_handshake_get_answers_or_a_close(
    serve_once: Served, chunks: list[bytes]
) -> None:
    with serve_once.raw(serve_once.token()) as sock:
        sock.settimeout(2)
        sock.sendall(b"".join(chunks))
        sock.shutdown(socket.SHUT_WR)  # then the server must finish: answer what it can, and close
        while True:
            try:
                if not sock.recv(65536):
                    break
            except ConnectionResetError:
                break
    assert serve_once.client().health()["status"] == "ok"


@pytest.fixture(scope="module")
def serve_once(tmp_path_factory: pytest.TempPathFactory) -> Served:
    """One server for all fuzz examples (hypothesis runs them inside one test call)."""
    from sutra.store import LocalStore
    from sutra.store.remote import ServerThread, StorageServer, tokens

    store = LocalStore(tmp_path_factory.mktemp("fuzz") / "db", fsync="off")
    secret = tokens.new_secret().encode()
    thread = ServerThread(StorageServer(store, token_secret=secret, limits=Limits(frame_timeout=0.5))).start()
    served = Served(store, thread, secret, None)
    yield served
    for client in served.clients:
        client.close()
    thread.stop()
    assert store.check() == []
    store.close()


def test_connections_over_the_limit_are_turned_away_with_a_reason(serve: Callable[..., Served]) -> None:
    served = serve(limits=Limits(max_connections=2))
    first, second = served.client(), served.client()
    with served.raw() as third:
        error = read_response(third).error
        assert error is not None and "2 connections open, its limit" in str(error)
        assert closed_by_peer(third)
    first.close()
    deadline = time.monotonic() + 10
    while True:  # a slot frees once the server has noticed the closed connection
        try:
            third_client = served.client()
            break
        except RemoteStoreError:
            assert time.monotonic() < deadline, "the closed connection's slot never came back"
            time.sleep(0.05)
    assert third_client.health()["status"] == second.health()["status"] == "ok"
