"""RemoteStore against a real server: every Store operation gives what a LocalStore gives, exactly."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.store.builders import dump, edge, entity, statement, unit
from tests.store.remote.conftest import Served

from sutra.config import Settings
from sutra.errors import ConfigError, InputError, LimitError, NotFoundError, RemoteStoreError
from sutra.model import (
    AssociationType,
    CloseAssociation,
    Concept,
    ConceptKind,
    DeleteAssociation,
    DeleteConcept,
    ForgetSource,
    Mutation,
    PutAssociation,
    PutConcept,
)
from sutra.store import LocalStore, open_store
from sutra.store.base import Store
from sutra.store.codec import concept_to_dict
from sutra.store.remote import Limits, RemoteStore, protocol

DIM = 8


def history(n: int = 12) -> list[list[Mutation]]:
    """Batches exercising every mutation: puts with vectors, attrs and times, reinforcement, closing,
    deletion and forgetting. Record times are fixed so two stores can be compared field for field."""
    people = [
        entity(f"Person {i}", f"doc{i % 3}", "people", aliases=(f"P{i}",), recorded_at=1.0) for i in range(n)
    ]
    batches: list[list[Mutation]] = [[PutConcept(p) for p in people]]
    for i in range(n - 1):
        s = statement(
            f"Person {i} met person {i + 1}.",
            f"doc{i % 3}",
            vector=unit(DIM, i),
            recorded_at=2.0,
            valid_from=f"2024-03-{i + 1:02d}",
            attrs={"support": [f"x{i}"], "score": 0.5, "deep": {"a": [1, None, True]}},
        )
        link = edge(people[i], "met", people[i + 1], f"doc{i % 3}", statements=(s.id,), recorded_at=2.0)
        batches.append([PutConcept(s), PutAssociation(link)])
    batches.append([PutConcept(entity("Person 1", "doc7", strength=2.0, recorded_at=3.0))])
    batches.append([CloseAssociation(edge(people[2], "met", people[3]).id, valid_to="2024-04-01")])
    batches.append([PutAssociation(edge(people[2], "met", people[3], "doc8", recorded_at=4.0))])  # reopens
    batches.append([DeleteAssociation(edge(people[4], "met", people[5]).id)])
    batches.append([DeleteConcept(people[8].id)])
    batches.append([ForgetSource("doc1")])
    return batches


def _comparable(local: Concept, remote: Concept | None) -> Concept | None:
    """`local` with its vector replaced by the remote one when the two are equal (dataclass equality
    cannot compare numpy arrays), so `==` checks every other field."""
    if remote is None or local.vector is None or remote.vector is None:
        return local
    assert np.array_equal(local.vector, remote.vector) and remote.vector.dtype == local.vector.dtype
    local.vector = remote.vector
    return local


def _records(concepts: list[Concept]) -> list[dict[str, Any]]:
    return [concept_to_dict(c, with_seq=True) for c in concepts]  # vectors as bytes: comparable


@pytest.fixture
def pair(serve: Callable[..., Served], tmp_path: Path) -> tuple[LocalStore, RemoteStore]:
    """A local store and a remote one that were given the same history."""
    local = LocalStore(tmp_path / "local", fsync="off")
    remote = serve().client()
    for batch in history():
        local.apply(batch)
        remote.apply(batch)
    yield local, remote
    assert local.check() == []
    local.close()


def test_the_same_history_gives_the_same_records_field_for_field(pair: tuple[LocalStore, Store]) -> None:
    local, remote = pair
    assert dump(remote) == dump(local)
    for c in local.concepts():
        got = remote.get_concept(c.id)
        assert got == _comparable(c, got)
    for a in local.neighbors(local.find_entities("P2")[0], "both"):
        assert remote.get_association(a.id) == a
    assert remote.get_concept("e:missing") is None and remote.get_association("a:missing") is None


def test_every_read_answers_as_the_local_store_does(pair: tuple[LocalStore, Store]) -> None:
    local, remote = pair
    person = local.find_entities("P2")[0]
    assert remote.find_entities("P2") == [person] and remote.find_entities("nobody") == []
    for direction in ("out", "in", "both"):
        assert remote.neighbors(person, direction) == local.neighbors(person, direction)
    assert remote.neighbors(
        person, "both", types=[AssociationType.SEMANTIC], relations=["met"], current_only=True
    ) == (
        local.neighbors(
            person, "both", types=[AssociationType.SEMANTIC], relations=["met"], current_only=True
        )
    )
    assert remote.neighbors(person, types=[AssociationType.CAUSAL]) == []
    assert remote.search_text("met person", k=3) == local.search_text("met person", k=3)
    query = unit(DIM, 3) + 0.1
    assert remote.search_vector(query, k=4) == local.search_vector(query, k=4)
    for kind in (None, ConceptKind.ENTITY, ConceptKind.STATEMENT):
        assert _records(remote.concepts(kind)) == _records(local.concepts(kind))
    assert remote.by_source("doc2") == local.by_source("doc2")
    assert remote.version() == local.version()
    stats = remote.stats()
    assert stats.pop("storage_url") == remote.url and stats["concepts"] == local.stats()["concepts"]


def test_paths_and_time_ranges_run_on_the_server_with_the_local_semantics(
    pair: tuple[LocalStore, Store],
) -> None:
    local, remote = pair
    start, goal = local.find_entities("P5")[0], local.find_entities("P7")[0]
    paths = remote.find_paths(start, goal, max_depth=3)
    assert paths == local.find_paths(start, goal, max_depth=3)
    assert [[a.relation for a in p] for p in paths] == [["met", "met"]]
    assert remote.find_paths(start, goal, max_depth=1) == []
    window = remote.time_range("2024-03-03", "2024-03-06", ConceptKind.STATEMENT)
    assert _records(window) == _records(local.time_range("2024-03-03", "2024-03-06", ConceptKind.STATEMENT))
    assert [c.valid_from for c in window] == sorted(c.valid_from for c in window) and window
    assert _records(remote.time_range(until="2024-03-01")) == _records(local.time_range(until="2024-03-01"))


def test_health_check_and_checkpoint(pair: tuple[LocalStore, Store]) -> None:
    _, remote = pair
    health = remote.health()
    assert health["status"] == "ok" and health["role"] == "admin" and health["protocol"] == 1
    assert remote.check() == []
    before = remote.stats()["wal_bytes"]
    remote.checkpoint()
    assert remote.stats()["wal_bytes"] < before


def test_a_bad_batch_is_refused_whole_with_the_local_message(serve: Callable[..., Served]) -> None:
    remote = serve().client()
    before = remote.version()
    bad = entity("Bob")
    bad.text = 5  # type: ignore[assignment]
    with pytest.raises(InputError, match=r"mutation 1 \(PutConcept\) is invalid: text must be a string"):
        remote.apply([PutConcept(entity("Ann")), PutConcept(bad)])
    # endpoints are checked by the store under its lock: the server's InputError comes back typed
    a, b = entity("Ann"), entity("Bob")
    with pytest.raises(NotFoundError, match="does not exist; put the concept first"):
        remote.apply([PutConcept(a), PutAssociation(edge(a, "knows", b))])
    assert remote.version() == before and remote.concepts() == []
    with pytest.raises(InputError, match="finite and non-zero"):
        remote.search_vector(np.zeros(DIM))
    with pytest.raises(ConfigError, match="direction"):
        remote.neighbors(a.id, "sideways")  # type: ignore[arg-type]


def test_results_larger_than_a_frame_chunk_arrive_whole_and_in_order(serve: Callable[..., Served]) -> None:
    remote = serve().client()
    big = [statement(f"{i} " + "word " * 20_000, "bulk") for i in range(30)]  # ~3 MB of text
    remote.apply([PutConcept(c) for c in big])
    assert [c.text for c in remote.concepts()] == [c.text for c in big]
    assert len(remote.by_source("bulk")) == 30


def test_one_client_serves_many_threads_at_once(serve: Callable[..., Served]) -> None:
    remote = serve().client()
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            for i in range(25):
                c = entity(f"T{t} item {i}", f"t{t}")
                remote.apply([PutConcept(c)])
                got = remote.get_concept(c.id)
                assert got is not None and got.text == c.text
                assert remote.find_entities(c.text) == [c.id]
        except BaseException as exc:  # reported below, with the thread's failure
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert remote.stats()["concepts"] == 150
    assert sorted(remote.by_source("t3")) == sorted(entity(f"T3 item {i}").id for i in range(25))


def test_requests_over_the_server_limits_are_limit_errors(serve: Callable[..., Served]) -> None:
    served = serve(limits=Limits(max_batch=3, max_k=5, max_depth=2, max_frame_bytes=200_000))
    remote = served.client()
    with pytest.raises(LimitError, match="batch of 4 mutations is over the storage server's limit of 3"):
        remote.apply([PutConcept(entity(f"E{i}")) for i in range(4)])
    with pytest.raises(LimitError, match="k=6 is over the storage server's limit of 5"):
        remote.search_text("anything", k=6)
    with pytest.raises(LimitError, match="max_depth=3"):
        remote.find_paths("e:a", "e:b", max_depth=3)
    with pytest.raises(LimitError, match="frame limit"):
        remote.apply([PutConcept(statement("x" * 300_000))])
    remote.apply([PutConcept(entity("Still fine"))])  # the connection is still good
    assert remote.find_entities("still fine")


def test_a_dropped_connection_is_replaced_on_the_next_call(serve: Callable[..., Served]) -> None:
    served = serve(limits=Limits(idle_timeout=0.3))
    remote = served.client()
    remote.apply([PutConcept(entity("Ann"))])
    time.sleep(0.8)  # the server closes the idle connection
    assert remote.find_entities("ann") == [entity("Ann").id]
    remote.apply([PutConcept(entity("Bob"))])
    assert remote.stats()["concepts"] == 2


def test_a_stopped_server_and_a_closed_client_are_clean_errors(serve: Callable[..., Served]) -> None:
    served = serve()
    remote = served.client()
    served.thread.stop()
    with pytest.raises(RemoteStoreError, match="cannot reach the storage server"):
        remote.get_concept("e:1")
    remote.close()
    with pytest.raises(RemoteStoreError, match="closed"):
        remote.get_concept("e:1")


@pytest.mark.parametrize("url", ["http://h:1", "sutra://", "sutra://h:99999", "h:1"])
def test_bad_urls_are_config_errors(url: str) -> None:
    with pytest.raises(ConfigError, match="storage URL"):
        RemoteStore(url)


def test_open_store_returns_a_remote_store_when_settings_name_a_server(
    serve: Callable[..., Served], tmp_path: Path
) -> None:
    served = serve()
    settings = Settings(
        data_dir=tmp_path / "engine", storage_url=served.url, storage_token=served.token("reader")
    )
    with open_store(settings=settings) as store:
        assert isinstance(store, RemoteStore) and store.role == "reader" and store.concepts() == []
    assert not (tmp_path / "engine").exists()  # nothing stored locally


def test_a_server_that_stops_answering_is_a_timeout_not_a_hang() -> None:
    """A peer that completes the handshake and then goes silent (a wedged server)."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []

    def silent_server() -> None:
        conn, _ = listener.accept()
        accepted.append(conn)
        header = conn.recv(protocol.HEADER.size, socket.MSG_WAITALL)
        conn.recv(protocol.HEADER.unpack(header)[0], socket.MSG_WAITALL)
        hello = {"protocol": 1, "role": "admin", "expires_at": 0, "limits": Limits().to_wire()}
        conn.sendall(protocol.encode_result(0, hello))

    thread = threading.Thread(target=silent_server)
    thread.start()
    try:
        with RemoteStore(f"sutra://127.0.0.1:{listener.getsockname()[1]}", timeout=0.5) as remote:
            thread.join()
            started = time.monotonic()
            with pytest.raises(RemoteStoreError, match="did not answer 'get_concept' in time"):
                remote.get_concept("e:1")
            assert time.monotonic() - started < 5
    finally:
        for conn in accepted:
            conn.close()
        listener.close()


def test_large_and_small_answers_interleave_on_one_connection(serve: Callable[..., Served]) -> None:
    """Chunks of a big answer and small answers for other threads share the stream; each caller gets
    exactly its own, whichever thread happens to be reading."""
    remote = serve().client()
    bulk = [statement(f"{i} " + "word " * 10_000, "bulk") for i in range(40)]  # ~2 MB: several chunks
    people = [entity(f"Person {i}", "people") for i in range(20)]
    remote.apply([PutConcept(c) for c in bulk + people])
    failures: list[BaseException] = []

    def big() -> None:
        for _ in range(3):
            if [c.id for c in remote.concepts(ConceptKind.STATEMENT)] != [c.id for c in bulk]:
                failures.append(AssertionError("big answer out of order"))

    def small(t: int) -> None:
        for i in range(60):
            person = people[(t + i) % len(people)]
            if remote.find_entities(person.text) != [person.id]:
                failures.append(AssertionError(f"thread {t} got another caller's answer"))

    threads = [threading.Thread(target=big)] + [threading.Thread(target=small, args=(t,)) for t in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


def test_an_acknowledged_remote_write_is_on_disk_before_the_answer(
    serve: Callable[..., Served], tmp_path: Path
) -> None:
    """The server answers an apply only after the store made it durable: a copy of the directory taken
    right after the acknowledgement (what a crash would leave, the server never closing) recovers it."""
    served = serve(fsync="always")
    remote = served.client("writer")
    ann, bob = entity("Ann", "s1"), entity("Bob", "s1")
    remote.apply([PutConcept(ann), PutConcept(bob), PutAssociation(edge(ann, "knows", bob, "s1"))])
    crashed = tmp_path / "crashed"
    shutil.copytree(served.store.path, crashed, ignore=shutil.ignore_patterns("LOCK"))
    with LocalStore(crashed) as recovered:
        assert [c.text for c in recovered.concepts()] == ["Ann", "Bob"]
        assert [a.relation for a in recovered.neighbors(ann.id)] == ["knows"]
        assert recovered.check() == []
