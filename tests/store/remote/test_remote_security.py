"""Secure mode: tokens checked at the handshake and on every request, roles enforced, TLS verified."""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.store.builders import entity
from tests.store.remote.conftest import Served, read_response

from sutra.errors import AuthError, ForbiddenError, RemoteStoreError
from sutra.model import DeleteConcept, ForgetSource, PutConcept
from sutra.store.remote import RemoteStore, protocol, tls, tokens


def test_a_client_without_a_token_is_refused_at_the_door(serve: Callable[..., Served]) -> None:
    served = serve()
    with pytest.raises(AuthError, match="needs a token"):
        RemoteStore(served.url)


def test_expired_tampered_and_foreign_tokens_are_refused(serve: Callable[..., Served]) -> None:
    served = serve()
    assert served.secret is not None
    expired = tokens.issue(served.secret, "admin", 60, now=time.time() - 120)
    with pytest.raises(AuthError, match="expired"):
        RemoteStore(served.url, token=expired)
    good = served.token("reader")
    head, payload, signature = good.split(".")
    with pytest.raises(AuthError, match="signature does not match"):
        RemoteStore(served.url, token=f"{head}.{payload[:-2]}xy.{signature}")
    with pytest.raises(AuthError, match="signature does not match"):
        RemoteStore(served.url, token=tokens.issue(b"another secret that is long enough!!", "admin", 60))
    with pytest.raises(AuthError, match="malformed"):
        RemoteStore(served.url, token="letmein")


def test_each_role_may_do_what_it_grants_and_no_more(serve: Callable[..., Served]) -> None:
    served = serve()
    writer, reader, admin = served.client("writer"), served.client("reader"), served.client("admin")
    ann = entity("Ann", "s1")
    writer.apply([PutConcept(ann)])
    assert reader.get_concept(ann.id) is not None and reader.health()["role"] == "reader"
    with pytest.raises(ForbiddenError, match="'apply' needs the writer role; this token grants only reader"):
        reader.apply([PutConcept(entity("Bob"))])
    with pytest.raises(ForbiddenError, match="writer"):
        reader.apply([DeleteConcept(ann.id)])  # deleting is writing
    with pytest.raises(ForbiddenError, match="'checkpoint' needs the admin role"):
        writer.checkpoint()
    with pytest.raises(ForbiddenError, match="'check' needs the admin role"):
        reader.check()
    writer.apply([ForgetSource("s1")])
    admin.checkpoint()
    assert admin.check() == [] and admin.concepts() == []


def test_a_token_that_expires_during_a_connection_stops_working(serve: Callable[..., Served]) -> None:
    served = serve()
    client = served.client(token=served.token("admin", ttl=0.6))
    assert client.concepts() == []
    time.sleep(0.8)
    with pytest.raises(AuthError, match="expired"):
        client.concepts()


def test_the_first_request_must_be_the_handshake(serve: Callable[..., Served]) -> None:
    with serve().raw() as sock:
        sock.sendall(protocol.encode_request(1, "concepts", {}))
        response = read_response(sock)
        assert isinstance(response.error, RemoteStoreError) and "must be 'hello'" in str(response.error)
        assert sock.recv(1) == b""  # then the server hangs up


@pytest.mark.parametrize("version", [99, True, 1.0])
def test_another_protocol_version_is_refused_naming_both(serve: Callable[..., Served], version) -> None:
    served = serve()
    with served.raw() as sock:
        sock.sendall(protocol.encode_request(0, "hello", {"protocol": version, "token": served.token()}))
        error = read_response(sock).error
        expected = f"version {version!r} is not supported; this server speaks version 1"
        assert error is not None and expected in str(error)  # True and 1.0 are not the integer 1


def test_before_the_token_is_checked_only_small_frames_are_read(serve: Callable[..., Served]) -> None:
    with serve().raw() as sock:
        sock.sendall(protocol.HEADER.pack(protocol.PRE_AUTH_FRAME_BYTES + 1))
        error = read_response(sock).error
        assert error is not None and "over this connection's limit" in str(error)
        assert sock.recv(1) == b""


def test_tls_with_the_right_ca_works(serve: Callable[..., Served]) -> None:
    served = serve(secure=True)
    assert served.url.startswith("sutras://")
    client = served.client("writer")
    client.apply([PutConcept(entity("Ann"))])
    assert client.find_entities("ann") == [entity("Ann").id]


def test_tls_with_a_wrong_ca_is_refused(serve: Callable[..., Served], tmp_path: Path) -> None:
    served = serve(secure=True)
    other = tls.write_self_signed(tmp_path / "other")
    with pytest.raises(RemoteStoreError, match=r"not trusted .* check storage_ca"):
        RemoteStore(served.url, token=served.token(), ca=other.ca)
    with pytest.raises(RemoteStoreError, match="not trusted"):
        RemoteStore(served.url, token=served.token())  # the system's CAs do not know it either


def test_a_certificate_for_another_host_name_is_refused(serve: Callable[..., Served]) -> None:
    served = serve(secure=True, hostnames=("storage.example",))
    with pytest.raises(RemoteStoreError, match=r"not trusted .*mismatch"):
        RemoteStore(served.url, token=served.token(), ca=served.ca)


def test_plain_and_tls_clients_and_servers_do_not_mix(serve: Callable[..., Served]) -> None:
    secure, plain = serve(secure=True, name="secure"), serve(name="plain")
    with pytest.raises(RemoteStoreError):
        RemoteStore(f"sutra://127.0.0.1:{secure.port}", token=secure.token())
    with pytest.raises(RemoteStoreError):
        RemoteStore(f"sutras://127.0.0.1:{plain.port}", token=plain.token(), ca=secure.ca)
    assert secure.client().health()["status"] == plain.client().health()["status"] == "ok"


def test_a_client_that_never_finishes_the_tls_handshake_is_dropped(serve: Callable[..., Served]) -> None:
    from sutra.store.remote import Limits

    served = serve(secure=True, limits=Limits(handshake_timeout=0.3))
    with socket.create_connection(("127.0.0.1", served.port), timeout=5) as sock:
        assert sock.recv(1) == b""  # closed after the timeout, without a byte from us
    context = tls.client_context(served.ca)
    with (
        socket.create_connection(("127.0.0.1", served.port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as sock,
    ):
        try:  # TLS is up, but the handshake frame never comes: the server hangs up
            data = sock.recv(1)
        except (ssl.SSLError, ConnectionError):
            data = b""
        assert data == b""
