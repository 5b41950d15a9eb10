"""Compact vector storage (float32 / float16 / int8 chosen at creation), the snapshot's separate vector file,
and checkpoints serialised from a frozen view while writers keep going."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
from tests.store.builders import dump, statement

from sutra.errors import ConfigError, CorruptionError
from sutra.model import DeleteConcept, PutConcept
from sutra.store import LocalStore
from sutra.store.vectors import storage

DIM = 48


def vectors(n: int, seed: int = 3) -> np.ndarray:
    m = np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)
    return m / np.linalg.norm(m, axis=1, keepdims=True)


def fill(store: LocalStore, matrix: np.ndarray) -> list[str]:
    items = [statement(f"statement {i}", f"doc{i % 4}", vector=v) for i, v in enumerate(matrix)]
    store.apply([PutConcept(s) for s in items])
    return [s.id for s in items]


@pytest.mark.parametrize(("dtype", "min_cosine"), [("float16", 0.9999), ("int8", 0.999)])
def test_compact_vectors_keep_their_direction(dtype, min_cosine):
    m = vectors(200)
    stored = storage.encode_rows(m, dtype)
    assert (
        stored.dtype == storage.numpy_dtype(dtype)
        and stored.nbytes * (2 if dtype == "float16" else 4) == m.nbytes
    )
    back = storage.decode_rows(stored)
    assert back.dtype == np.float32
    assert np.allclose(np.linalg.norm(back, axis=1), 1.0, atol=1e-3)
    cosines = np.sum(back * m, axis=1) / np.linalg.norm(back, axis=1)
    assert float(np.min(cosines)) > min_cosine
    assert np.array_equal(storage.decode(storage.encode(m[0], dtype)), back[0])


@pytest.mark.parametrize("dtype", ["float16", "int8"])
def test_a_compact_space_stores_searches_and_reopens_the_same(open_store, tmp_path, dtype):
    m = vectors(300)
    store = open_store("db", vector_dtype=dtype, vector_index="exact")
    ids = fill(store, m)
    exact = open_store("exact32", vector_index="exact")
    fill(exact, m)
    assert json.loads((tmp_path / "db" / "manifest.json").read_text())["vector_dtype"] == dtype
    assert store.stats()["vector_dtype"] == dtype
    got = store.get_concept(ids[5]).vector
    assert got.dtype == np.float32 and float(got @ m[5]) > 0.999
    for q in m[:20]:  # the same nearest neighbours as float32, similarities within the rounding
        ours, reference = store.search_vector(q, k=5), exact.search_vector(q, k=5)
        assert ours[0][0] == reference[0][0]
        assert abs(ours[0][1] - reference[0][1]) < 2e-3
    store.apply([DeleteConcept(ids[0])])
    live = dump(store)
    store.close()

    with LocalStore(tmp_path / "db") as replayed:  # from the WAL (float32 frames) into the compact form
        assert dump(replayed) == live and replayed.check() == []
        replayed.checkpoint()
    files = sorted(p.name for p in (tmp_path / "db").glob("snapshot.*.npy"))
    assert len(files) == 1
    on_disk = np.load(tmp_path / "db" / files[0])
    assert on_disk.dtype == storage.numpy_dtype(dtype) and on_disk.shape == (299, DIM)
    snapshot = (tmp_path / "db" / "snapshot.bin").read_bytes()
    assert on_disk[5].tobytes() not in snapshot  # vectors are not inline
    float32 = np.asarray(on_disk[5], dtype=np.float32).tobytes()
    assert float32 not in snapshot  # not even as float32 bytes
    with LocalStore(tmp_path / "db") as loaded:  # from the snapshot and its memory-mapped vector file
        assert loaded.recovery.frames_replayed == 0
        assert dump(loaded) == live and loaded.check() == []
        assert loaded.search_vector(m[7], k=3)[0][0] == ids[7]


def test_the_vector_dtype_is_fixed_once_a_vector_is_stored(open_store, tmp_path):
    with pytest.raises(ConfigError, match="not one of"):
        LocalStore(tmp_path / "bad", vector_dtype="float64")
    store = open_store("db", vector_dtype="int8")  # an empty space may still choose
    store.close()
    store = open_store("db", vector_dtype="float16")
    fill(store, vectors(3))
    store.close()
    with pytest.raises(ConfigError, match="cannot become int8"):
        LocalStore(tmp_path / "db", vector_dtype="int8")
    with LocalStore(tmp_path / "db") as reopened:  # no choice given: the manifest's
        assert reopened.stats()["vector_dtype"] == "float16" and reopened.check() == []


def test_a_damaged_or_missing_vector_file_stops_the_open(open_store, tmp_path):
    store = open_store("db")
    fill(store, vectors(50))
    store.checkpoint()
    store.close()
    (vector_file,) = (tmp_path / "db").glob("snapshot.*.npy")
    raw = bytearray(vector_file.read_bytes())
    raw[-7] ^= 0xFF
    vector_file.write_bytes(bytes(raw))
    with pytest.raises(CorruptionError, match="checksum of its vector file"):
        LocalStore(tmp_path / "db")
    vector_file.unlink()
    with pytest.raises(CorruptionError, match="is missing"):
        LocalStore(tmp_path / "db")


def test_a_frozen_view_does_not_move_with_later_writes(open_store):
    store = open_store()
    ids = fill(store, vectors(10))
    view = store.frozen()
    store.apply([DeleteConcept(ids[0])])
    fill(store, vectors(5, seed=9))
    assert [c.id for c in view.concepts] == ids and view.lsn == 1
    assert store.frozen().lsn == 3


def test_checkpoints_with_writers_and_readers_running_lose_nothing(open_store, tmp_path):
    store = open_store("db", checkpoint_wal_bytes=1 << 40)
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer(t: int) -> None:
        try:
            for i in range(40):
                v = vectors(1, seed=1000 * t + i)[0]
                store.apply([PutConcept(statement(f"writer {t} fact {i}", f"w{t}", vector=v))])
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    def reader() -> None:
        try:
            while not stop.is_set():
                store.search_vector(vectors(1)[0], k=3)
                store.stats()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(3)] + [
        threading.Thread(target=reader)
    ]
    for th in threads:
        th.start()
    for _ in range(5):
        store.checkpoint()
    for th in threads[:3]:
        th.join()
    stop.set()
    threads[3].join()
    assert errors == []
    assert store.stats()["concepts"] == 120 and store.check() == []
    live = dump(store)
    store.close()
    with LocalStore(tmp_path / "db") as reopened:
        assert dump(reopened) == live and reopened.check() == []


@pytest.mark.parametrize("shards", [1, 2])
def test_the_vector_form_is_a_setting_chosen_when_a_space_is_created(tmp_path, shards):
    from sutra.config import Settings
    from sutra.errors import ConfigError
    from sutra.store import open_store

    settings = Settings(data_dir=tmp_path / "s", shards=shards, vector_dtype="float16")
    vectors = np.random.default_rng(3).standard_normal((20, DIM)).astype(np.float32)
    with open_store(settings=settings) as store:
        store.apply([PutConcept(statement(f"fact {i}", "d", vector=v)) for i, v in enumerate(vectors)])
        assert store.stats()["vector_dtype"] == "float16"
    with open_store(settings=settings.with_(vector_dtype=None)) as store:  # unset: the space keeps its form
        assert store.stats()["vector_dtype"] == "float16"
    with pytest.raises(ConfigError, match="chosen when a space is created"):
        open_store(settings=settings.with_(vector_dtype="int8"))
    with pytest.raises(ConfigError, match="not one of"):
        Settings(vector_dtype="float64")
