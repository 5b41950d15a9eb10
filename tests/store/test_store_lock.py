"""One writer per data directory: a second opener, in this process or another, is refused by name."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest
from tests.store.builders import entity

from sutra.errors import StoreLockedError
from sutra.model import PutConcept
from sutra.store import LocalStore

CHILD = """
import sys
from sutra.errors import StoreLockedError
from sutra.store import LocalStore
try:
    LocalStore(sys.argv[1])
except StoreLockedError as exc:
    print(exc)
    sys.exit(3)
print("opened")
"""


def test_a_second_store_in_the_same_process_is_refused(open_store, tmp_path):
    store = open_store()
    with pytest.raises(StoreLockedError) as info:
        LocalStore(tmp_path / "db")
    assert f"process {os.getpid()}" in str(info.value) and socket.gethostname() in str(info.value)
    store.apply([PutConcept(entity("Still", "writable"))])
    assert store.check() == []


def test_another_process_is_refused_with_the_holders_name(open_store, tmp_path):
    store = open_store()
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path / "db")], capture_output=True, text=True, timeout=60
    )
    assert child.returncode == 3, child.stderr
    assert f"process {os.getpid()} on host {socket.gethostname()}" in child.stdout
    assert "stop that process" in child.stdout
    store.close()
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path / "db")], capture_output=True, text=True, timeout=60
    )
    assert child.returncode == 0 and "opened" in child.stdout, child.stderr
    with LocalStore(tmp_path / "db") as again:
        assert again.check() == []


def test_closing_releases_the_lock_for_the_same_process(tmp_path):
    first = LocalStore(tmp_path / "db")
    first.close()
    with LocalStore(tmp_path / "db") as second:
        assert second.check() == []
