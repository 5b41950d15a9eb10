"""Export / import (portable JSONL dump) and online backup: copies equal to the original, bad input refused
with a typed error that names the line, and nothing half-made left behind."""

from __future__ import annotations

import json
import threading

import numpy as np
import orjson
import pytest
from tests.store.builders import dump, edge, entity, statement, unit
from typer.testing import CliRunner

from sutra.cli import app
from sutra.errors import ConfigError, InputError, StorageError
from sutra.model import CloseAssociation, DeleteConcept, ForgetSource, PutAssociation, PutConcept
from sutra.store import LocalStore
from sutra.store.backup import backup_store
from sutra.store.dump import export_store, import_dump

DIM = 16


def populate(store: LocalStore) -> None:
    """A bit of everything: aliases, attrs, vectors, reinforcement, a closed fact, deletions, a forget."""
    ann, bob = entity("Ann", "d1", aliases=("Annie",)), entity("Bob", "d2")
    kitchen, garden = entity("kitchen", "d1"), entity("garden", "d2")
    texts = ["Ann is in the kitchen.", "Ann went to the garden.", "Bob likes Ann.", "A spare fact."]
    ss = [statement(t, f"d{i % 2 + 1}", vector=unit(DIM, i), attrs={"n": i}) for i, t in enumerate(texts)]
    store.apply([PutConcept(x) for x in (ann, bob, kitchen, garden, *ss)])
    in_kitchen = edge(ann, "located_in", kitchen, "d1", statements=(ss[0].id,), attrs={"support": []})
    store.apply([PutAssociation(in_kitchen)])
    store.apply(
        [
            CloseAssociation(in_kitchen.id, "2024-01-02"),
            PutAssociation(edge(ann, "located_in", garden, "d2", statements=(ss[1].id,))),
        ]
    )
    store.apply([PutAssociation(edge(bob, "likes", ann, "d2", "d1", statements=(ss[2].id,)))])
    store.apply([PutConcept(statement(texts[2], "d3", vector=unit(DIM, 2)))])  # reinforced from d3
    store.apply([DeleteConcept(ss[3].id), ForgetSource("d9")])


def searches(store: LocalStore) -> list:
    return [store.search_text(q) for q in ("Ann kitchen", "garden", "likes")] + [
        store.search_vector(unit(DIM, i), k=5) for i in range(4)
    ]


@pytest.mark.parametrize("dtype", ["float32", "float16", "int8"])
def test_export_then_import_gives_an_equal_store(open_store, tmp_path, dtype):
    original = open_store("db", vector_dtype=dtype)
    populate(original)
    report = export_store(original, tmp_path / "dump.jsonl")
    assert (report.concepts, report.vectors) == (7, 3)
    header = json.loads((tmp_path / "dump.jsonl").read_text().splitlines()[0])
    assert header["format"] == "sutra-dump" and header["dim"] == DIM and header["concepts"] == 7
    assert header["vector_dtype"] == dtype

    imported_report = import_dump(tmp_path / "dump.jsonl", tmp_path / "copy")
    assert imported_report.concepts == 7 and imported_report.associations == report.associations
    with LocalStore(tmp_path / "copy") as copy:
        assert dump(copy) == dump(original)  # every field, store order numbers and timelines included
        assert searches(copy) == searches(original)
        assert copy.stats()["vector_dtype"] == dtype and copy.check() == []
        copy.apply([PutConcept(entity("Carl", "d4"))])  # and it is a working space that takes writes


def test_a_dump_without_vectors_restores_everything_but_vector_search(open_store, tmp_path):
    original = open_store("db")
    populate(original)
    export_store(original, tmp_path / "dump.jsonl", vectors=False)
    import_dump(tmp_path / "dump.jsonl", tmp_path / "copy")
    with LocalStore(tmp_path / "copy") as copy:
        stripped = dump(original)
        for c in stripped["concepts"]:
            c["vector"] = None
        assert dump(copy) == stripped
        assert copy.search_vector(unit(DIM, 1)) == [] and copy.check() == []


def corrupt(path, number: int, change) -> None:
    lines = path.read_bytes().splitlines()
    lines[number - 1] = change(lines[number - 1])
    path.write_bytes(b"\n".join(lines) + b"\n")


@pytest.mark.parametrize(
    ("line", "change", "message"),
    [
        (1, lambda b: b'{"format": "other"}', "not a Sutra dump"),
        (1, lambda b: b.replace(b'"version":1', b'"version":99'), "newer than this Sutra reads"),
        (2, lambda b: b"{not json", "dump.jsonl:2: not a JSON line"),
        (2, lambda b: b.replace(b'"kind":"entity"', b'"kind":"planet"'), "dump.jsonl:2: a malformed concept"),
        (3, lambda b: b'{"record": "mystery"}', "dump.jsonl:3: unknown record"),
        (3, lambda b: b"", "announces 7 concepts but the file holds 6"),
        (-1, lambda b: b.replace(b'"concepts":', b'"concepts":9,"x":'), "source lines do not match"),
    ],
)
def test_a_bad_dump_is_refused_by_line_and_creates_nothing(open_store, tmp_path, line, change, message):
    original = open_store("db")
    populate(original)
    path = tmp_path / "dump.jsonl"
    export_store(original, path)
    count = len(path.read_bytes().splitlines())
    corrupt(path, line if line > 0 else count + 1 + line, change)
    with pytest.raises(InputError, match=message):
        import_dump(path, tmp_path / "copy")
    assert not (tmp_path / "copy").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_vector_of_the_wrong_size_is_refused(open_store, tmp_path):
    original = open_store("db")
    populate(original)
    path = tmp_path / "dump.jsonl"
    export_store(original, path)

    def shorter(raw: bytes) -> bytes:
        record = orjson.loads(raw)
        record["vector"] = "AACAPw=="  # one float32
        return orjson.dumps(record)

    lines = path.read_bytes().splitlines()
    number = next(i for i, raw in enumerate(lines, 1) if b'"vector":"' in raw)
    corrupt(path, number, shorter)
    with pytest.raises(InputError, match="vectors of size"):
        import_dump(path, tmp_path / "copy")


def test_import_never_merges_into_an_existing_space(open_store, tmp_path):
    original = open_store("db")
    populate(original)
    export_store(original, tmp_path / "dump.jsonl")
    with pytest.raises(InputError, match="not empty"):
        import_dump(tmp_path / "dump.jsonl", tmp_path / "db")
    (tmp_path / "empty").mkdir()
    import_dump(tmp_path / "dump.jsonl", tmp_path / "empty")  # an empty folder is fine
    with LocalStore(tmp_path / "empty") as copy:
        assert dump(copy) == dump(original)
    with pytest.raises(InputError, match="cannot read the dump"):
        import_dump(tmp_path / "missing.jsonl", tmp_path / "other")
    with pytest.raises(StorageError, match="could not write the dump"):
        export_store(original, tmp_path / "no-such-dir" / "dump.jsonl")


def test_backup_of_an_open_store_while_a_writer_runs_opens_cleanly(open_store, tmp_path):
    store = open_store("db", vector_index="hnsw")
    populate(store)
    (tmp_path / "db" / "audit.jsonl").write_bytes(b'{"id": 1}\n{"id": 2}\n{"id": 3, "unfini')
    before, base_lsn = store.stats()["concepts"], store.stats()["lsn"]
    done, started = threading.Event(), threading.Event()

    def writer() -> None:
        i = 0
        while not done.is_set() and i < 2000:
            store.apply([PutConcept(statement(f"note {i}", "w", vector=np.full(DIM, i + 1.0)))])
            i += 1
            if i == 50:
                started.set()

    thread = threading.Thread(target=writer)
    thread.start()
    started.wait(timeout=60)
    try:
        report = backup_store(store, tmp_path / "backup")
    finally:
        done.set()
        thread.join()
    assert "snapshot.bin" in report.files and "vectors.meta" in report.files
    assert (tmp_path / "backup" / "audit.jsonl").read_bytes() == b'{"id": 1}\n{"id": 2}\n'
    with LocalStore(tmp_path / "backup", vector_index="hnsw") as copy:
        assert copy.check() == []
        assert copy.recovery.frames_replayed == 0 and copy.recovery.vector_index_loaded
        stats = copy.stats()
        # one concept per writer batch: the copy holds exactly the batches up to its LSN
        assert report.lsn >= base_lsn + 50 and stats["lsn"] == report.lsn
        assert stats["concepts"] == before + (report.lsn - base_lsn)
        assert copy.search_text("garden")[0][0] == store.search_text("garden")[0][0]
    assert store.check() == []


def test_backup_refuses_bad_destinations_and_closed_stores(open_store, tmp_path):
    store = open_store("db")
    populate(store)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("mine")
    with pytest.raises(InputError, match="not empty"):
        backup_store(store, tmp_path / "full")
    with pytest.raises(InputError, match="inside the space"):
        backup_store(store, tmp_path / "db" / "copy")
    assert (tmp_path / "full" / "x").read_text() == "mine" and not (tmp_path / "db" / "copy").exists()
    store.close()
    with pytest.raises(StorageError, match="closed"):
        backup_store(store, tmp_path / "later")
    with pytest.raises(ConfigError, match="data directory on this machine"):
        backup_store(object(), tmp_path / "later")  # type: ignore[arg-type]


def test_cli_export_import_and_backup(open_store, tmp_path):
    store = open_store("db")
    populate(store)
    expected = dump(store)
    store.close()
    runner = CliRunner()
    db, dumped = str(tmp_path / "db"), str(tmp_path / "d.jsonl")
    result = runner.invoke(app, ["export", dumped, "--data", db])
    assert result.exit_code == 0 and "exported 7 concepts" in result.output
    result = runner.invoke(app, ["import", dumped, "--data", str(tmp_path / "copy")])
    assert result.exit_code == 0 and "imported 7 concepts" in result.output
    result = runner.invoke(app, ["backup", str(tmp_path / "bak"), "--data", db])
    assert result.exit_code == 0 and "backed up 7 concepts" in result.output
    for name in ("copy", "bak"):
        with LocalStore(tmp_path / name) as copy:
            assert dump(copy) == expected and copy.check() == []
    result = runner.invoke(app, ["import", dumped, "--data", db])
    assert result.exit_code == 2 and "not empty" in result.output
    result = runner.invoke(app, ["export", dumped, "--data", str(tmp_path / "nowhere")])
    assert result.exit_code == 2 and "no Sutra space" in result.output


def test_backup_of_a_sharded_space_copies_every_shard_and_opens_equal(tmp_path):
    from sutra.store import ShardedStore

    with ShardedStore(tmp_path / "db", shards=3, fsync="off") as store:
        populate(store)
        report = backup_store(store, tmp_path / "backup")
        live = dump(store)
    assert "manifest.json" in report.files and "shard-002/snapshot.bin" in report.files
    with ShardedStore(tmp_path / "backup") as copy:
        assert copy.stats()["shards"] == 3 and copy.check() == []
        assert dump(copy) == live


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("confidence", "hi", "confidence must be a finite number"),
        ("negated", "yes", "negated must be a bool"),
        ("closed_seq", "x", "not what a store writes"),
        ("history", "x", "history must be a list"),
    ],
)
def test_an_edited_dump_with_values_apply_refuses_is_refused(open_store, tmp_path, field, value, message):
    store = open_store("db")
    populate(store)
    export_store(store, tmp_path / "dump.jsonl")
    lines = (tmp_path / "dump.jsonl").read_text(encoding="utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if json.loads(line).get("record") == "association")
    record = json.loads(lines[at])
    record[field] = value
    lines[at] = json.dumps(record)
    (tmp_path / "dump.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=message):
        import_dump(tmp_path / "dump.jsonl", tmp_path / "copy")
    assert not (tmp_path / "copy").exists()


@pytest.mark.parametrize(("exported_from", "imported_into"), [(3, 3), (1, 4), (3, 1)])
def test_import_builds_a_sharded_space_with_equal_records(tmp_path, exported_from, imported_into):
    from sutra.store import ShardedStore

    def opened(path, shards):
        return LocalStore(path) if shards == 1 else ShardedStore(path, shards=shards)

    with opened(tmp_path / "db", exported_from) as store:
        populate(store)
        export_store(store, tmp_path / "dump.jsonl")
        live = dump(store)
    import_dump(tmp_path / "dump.jsonl", tmp_path / "copy", shards=imported_into)
    with opened(tmp_path / "copy", imported_into) as copy:
        assert copy.stats().get("shards", 1) == imported_into and copy.check() == []
        assert dump(copy) == live
        copy.apply([PutConcept(entity("Zed", "d9"))])  # and it takes writes
    with opened(tmp_path / "copy", imported_into) as copy:
        assert copy.get_concept(entity("Zed").id) is not None and copy.check() == []
