"""Which folders become spaces, what a space must contain, and clean errors for bad paths.

A folder that is not a space is refused before anything is written to it or deleted from it; a space
whose files are missing is refused as corrupt instead of opening empty; OS errors become `StorageError`s.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from tests.store.builders import entity, statement, unit

from sutra.errors import ConfigError, CorruptionError, StorageError, StoreLockedError, SutraError
from sutra.model import PutConcept
from sutra.store import LocalStore, layout, lock, wal


def listing(directory: Path) -> dict[str, bytes | None]:
    """Every entry of a folder with its content (None for what is not a regular file)."""
    return {
        p.name: p.read_bytes() if p.is_file() and not p.is_symlink() else None
        for p in sorted(directory.iterdir())
    }


def make_space(directory: Path, *, checkpoint: bool = False, vectors: bool = False) -> None:
    with LocalStore(directory) as store:
        store.apply([PutConcept(entity("Ann", "d"))])
        if vectors:
            store.apply([PutConcept(statement("Ann is here.", "d", vector=unit(8, 1)))])
        if checkpoint:
            store.checkpoint()
        store.apply([PutConcept(entity("Bob", "d"))])
        assert store.check() == []


# ---- which folders become spaces ----


def test_empty_and_missing_folders_become_spaces(tmp_path):
    (tmp_path / "empty").mkdir()
    for directory in (tmp_path / "empty", tmp_path / "missing" / "nested"):
        with LocalStore(directory) as store:
            assert store.check() == []
        assert {"LOCK", "manifest.json", "wal.log"} <= set(os.listdir(directory))
        assert (directory / "wal.log").read_bytes() == wal.file_header()  # written at creation


def test_a_foreign_folder_is_refused_and_left_untouched(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "holiday.jpg").write_bytes(b"jpeg")
    (folder / "draft.tmp").write_text("my unsaved work")  # D1: this used to be deleted
    (folder / "snapshot.bin.tmp").write_text("not ours either: the folder is not a space")
    before = listing(folder)
    with pytest.raises(StorageError) as info:
        LocalStore(folder)
    message = str(info.value)
    assert "not a Sutra data directory" in message and "'draft.tmp'" in message and "empty" in message
    assert listing(folder) == before  # no LOCK, no manifest, no WAL, nothing deleted


def test_a_folder_with_another_tools_manifest_is_refused(tmp_path):
    folder = tmp_path / "webapp"
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps({"name": "My App", "icons": []}))
    before = listing(folder)
    with pytest.raises(StorageError, match=r"its manifest\.json is not Sutra's"):
        LocalStore(folder)
    assert listing(folder) == before


def test_only_sutras_own_temporaries_are_cleaned_up(tmp_path):
    make_space(tmp_path / "db")
    ours = ["snapshot.bin.tmp", "manifest.json.tmp", "wal.log.tmp", "vectors.meta.tmp", "vectors.12.hnsw.tmp"]
    theirs = ["notes.tmp", "snapshot.bin.tmp.bak", "x.snapshot.bin.tmp"]
    for name in ours + theirs:
        (tmp_path / "db" / name).write_text("left over")
    with LocalStore(tmp_path / "db") as store:
        names = set(os.listdir(tmp_path / "db"))
        assert not names & set(ours) and set(theirs) <= names
        assert store.check() == []


def test_a_refused_open_never_cleans_up(open_store, tmp_path):
    store = open_store()
    in_flight = tmp_path / "db" / "snapshot.bin.tmp"
    in_flight.write_text("the holder is writing this right now")
    with pytest.raises(StoreLockedError):
        LocalStore(tmp_path / "db")
    assert in_flight.exists()
    assert store.check() == []


def test_an_interrupted_creation_is_completed(tmp_path):
    folder = tmp_path / "db"
    folder.mkdir()
    (folder / "LOCK").write_text("")  # a crash after the WAL was created but before the manifest
    (folder / "wal.log").write_bytes(wal.file_header())
    (folder / "wal.log.tmp").write_bytes(b"half")
    with LocalStore(folder) as store:
        store.apply([PutConcept(entity("Ann", "d"))])
        assert store.check() == []
    assert "wal.log.tmp" not in os.listdir(folder)


@pytest.mark.parametrize("existed", [True, False])
def test_a_failed_open_leaves_no_space_behind(tmp_path, monkeypatch, existed):
    folder = tmp_path / "new"
    if existed:
        folder.mkdir()

    def broken_read(path):
        raise OSError(errno.EIO, "Input/output error", str(path))

    monkeypatch.setattr("sutra.store.local.read_snapshot", broken_read)
    with pytest.raises(StorageError, match="Input/output error"):
        LocalStore(folder)
    assert (os.listdir(folder) == []) if existed else not folder.exists()
    monkeypatch.undo()
    with LocalStore(folder) as store:  # and it can still become a space
        assert store.check() == []


def test_a_failed_open_of_a_space_keeps_the_space(tmp_path, monkeypatch):
    make_space(tmp_path / "db")
    before = set(os.listdir(tmp_path / "db"))

    def broken_read(path):
        raise OSError(errno.EIO, "Input/output error", str(path))

    monkeypatch.setattr("sutra.store.local.read_snapshot", broken_read)
    with pytest.raises(StorageError):
        LocalStore(tmp_path / "db")
    monkeypatch.undo()
    assert set(os.listdir(tmp_path / "db")) == before
    with LocalStore(tmp_path / "db") as store:
        assert len(store.concepts()) == 2 and store.check() == []


# ---- D5: a space must have its files ----


@pytest.mark.parametrize("checkpoint", [False, True])
def test_a_space_without_its_wal_is_refused_not_opened_empty(tmp_path, checkpoint):
    make_space(tmp_path / "db", checkpoint=checkpoint)
    (tmp_path / "db" / "wal.log").unlink()
    with pytest.raises(CorruptionError) as info:
        LocalStore(tmp_path / "db")
    assert str(tmp_path / "db" / "wal.log") in str(info.value) and "repair=True" in str(info.value)
    assert not (tmp_path / "db" / "wal.log").exists()  # refusing changes nothing
    with LocalStore(tmp_path / "db", repair=True) as store:  # continue from what is left, on request
        assert store.recovery.wal_recreated
        assert [c.text for c in store.concepts()] == (["Ann"] if checkpoint else [])
        store.apply([PutConcept(entity("Cid", "d"))])
        assert store.check() == []


def test_a_space_without_its_snapshot_is_refused(tmp_path):
    make_space(tmp_path / "db", checkpoint=True)
    assert json.loads((tmp_path / "db" / "manifest.json").read_text())["snapshot"] is True
    (tmp_path / "db" / "snapshot.bin").unlink()
    with pytest.raises(CorruptionError, match=r"snapshot\.bin is missing"):
        LocalStore(tmp_path / "db")


def test_a_space_without_wal_and_snapshot_is_refused(tmp_path):
    make_space(tmp_path / "db", checkpoint=True)
    (tmp_path / "db" / "snapshot.bin").unlink()
    (tmp_path / "db" / "wal.log").unlink()
    with pytest.raises(CorruptionError, match=r"wal\.log is missing"):
        LocalStore(tmp_path / "db")


def test_an_older_space_gets_its_snapshot_mark_on_open(tmp_path):
    make_space(tmp_path / "db", checkpoint=True)
    manifest = tmp_path / "db" / "manifest.json"
    manifest.write_text(json.dumps({"format": 1, "dim": None, "created": "2024-01-01T00:00:00Z"}))
    with LocalStore(tmp_path / "db") as store:
        assert len(store.concepts()) == 2 and store.check() == []
    assert json.loads(manifest.read_text())["snapshot"] is True


def test_sutra_data_without_a_manifest_is_corruption_not_a_foreign_folder(tmp_path):
    make_space(tmp_path / "db")
    (tmp_path / "db" / "manifest.json").unlink()
    with pytest.raises(CorruptionError, match=r"manifest\.json is missing"):
        LocalStore(tmp_path / "db")


# ---- C7: damaged manifest values ----


@pytest.mark.parametrize(
    "manifest",
    [
        {"format": 1, "dim": "abc"},
        {"format": 1, "dim": -1},
        {"format": 1, "dim": 0},
        {"format": 1, "dim": True},
        {"format": 1, "dim": 8.5},
        {"format": "1", "dim": 8},
        {"format": None, "dim": 8},
        {"format": 0, "dim": 8},
        {"format": 1, "dim": 8, "created": 5},
        {"format": 1, "dim": 8, "snapshot": "yes"},
    ],
)
def test_damaged_manifest_values_are_corruption(tmp_path, manifest):
    make_space(tmp_path / "db", vectors=True)
    (tmp_path / "db" / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CorruptionError) as info:
        LocalStore(tmp_path / "db")
    assert "manifest.json is damaged" in str(info.value) and "backup" in str(info.value)


@pytest.mark.parametrize("text", ["[1, 2]", '{"format": 1, "dim": 8', "\x00\x01garbage"])
def test_an_unreadable_manifest_is_corruption(tmp_path, text):
    make_space(tmp_path / "db")
    (tmp_path / "db" / "manifest.json").write_text(text)
    with pytest.raises(CorruptionError, match=r"manifest\.json"):
        LocalStore(tmp_path / "db")


@pytest.mark.parametrize("checkpoint", [False, True])
def test_a_manifest_dim_that_contradicts_the_vectors_is_corruption(tmp_path, checkpoint):
    make_space(tmp_path / "db", checkpoint=checkpoint, vectors=True)  # 8-d vectors
    manifest = tmp_path / "db" / "manifest.json"
    raw = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**raw, "dim": 768}))
    wal_before = (tmp_path / "db" / "wal.log").read_bytes()
    with pytest.raises(CorruptionError) as info:
        LocalStore(tmp_path / "db", repair=True)  # even repair must not drop batches for this
    assert "manifest.json says the vectors are 768-dimensional" in str(info.value)
    assert "8-dimensional" in str(info.value)
    assert (tmp_path / "db" / "wal.log").read_bytes() == wal_before


def test_a_lost_dim_is_taken_from_the_stored_vectors(tmp_path):
    make_space(tmp_path / "db", checkpoint=True, vectors=True)
    manifest = tmp_path / "db" / "manifest.json"
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "dim": None}))
    with LocalStore(tmp_path / "db") as store:
        assert store.stats()["dim"] == 8 and store.stats()["vectors"] == 1
        assert store.check() == []
    assert json.loads(manifest.read_text())["dim"] == 8


def test_a_newer_manifest_format_still_asks_to_upgrade(tmp_path):
    make_space(tmp_path / "db")
    (tmp_path / "db" / "manifest.json").write_text(json.dumps({"format": 7, "dim": None}))
    with pytest.raises(ConfigError, match="upgrade Sutra"):
        LocalStore(tmp_path / "db")


# ---- C1: bad paths give clean errors ----


def open_error(path: Path) -> str:
    with pytest.raises(SutraError) as info:
        LocalStore(path)
    assert isinstance(info.value, StorageError), repr(info.value)
    return str(info.value)


def test_a_file_as_data_path(tmp_path):
    (tmp_path / "file").write_text("x")
    assert "is a file, not a directory" in open_error(tmp_path / "file")
    assert "part of the path is a file" in open_error(tmp_path / "file" / "db")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    assert "symbolic link to nothing" in open_error(tmp_path / "dangling")
    assert (tmp_path / "file").read_text() == "x"


@pytest.mark.parametrize("path", ["/proc/sutra-test", "/proc/self", "/sys/sutra-test", "/sys/kernel"])
def test_virtual_file_systems_are_refused(path):
    assert "virtual file system" in open_error(Path(path))


@pytest.mark.parametrize("name", ["wal.log", "snapshot.bin", "LOCK"])
def test_a_directory_where_a_file_belongs(tmp_path, name):
    make_space(tmp_path / "db", checkpoint=True)
    target = tmp_path / "db" / name
    target.unlink()
    target.mkdir()
    message = open_error(tmp_path / "db")
    assert name in message and "a directory stands where Sutra keeps a file" in message


def test_a_lock_that_is_a_dangling_symlink(tmp_path):
    make_space(tmp_path / "db")
    (tmp_path / "db" / "LOCK").unlink()
    (tmp_path / "db" / "LOCK").symlink_to(tmp_path / "elsewhere" / "LOCK")
    message = open_error(tmp_path / "db")
    assert "LOCK" in message and "symbolic link" in message
    assert not (tmp_path / "elsewhere").exists()


def test_permission_denied(tmp_path, monkeypatch):
    make_space(tmp_path / "db")
    real_open = os.open

    def denied(path, *args, **kwargs):
        if str(path).endswith("LOCK"):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(lock.os, "open", denied)
    message = open_error(tmp_path / "db")
    assert "Permission denied" in message and "LOCK" in message and "permissions" in message


@pytest.fixture
def immutable_dir(tmp_path):
    folder = tmp_path / "frozen"
    folder.mkdir()
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", str(folder)], capture_output=True).returncode:
        pytest.skip("needs chattr +i (root on a file system that supports it)")
    yield folder
    subprocess.run([chattr, "-i", str(folder)], check=True)


def test_an_immutable_directory(immutable_dir):
    message = open_error(immutable_dir)
    assert "Operation not permitted" in message and "immutable" in message
    assert os.listdir(immutable_dir) == []


def test_the_path_checks_do_not_depend_on_the_store(tmp_path):
    # layout.prepare is what LocalStore calls first; a plain new directory passes and is created
    assert layout.prepare(tmp_path / "a" / "b") is True
    assert layout.prepare(tmp_path / "a" / "b") is False
