"""A fixture that opens real stores in temporary directories and closes them after the test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sutra.store import LocalStore


@pytest.fixture
def open_store(tmp_path: Path) -> Iterator[Callable[..., LocalStore]]:
    """`open_store(name="db", **options)`: a LocalStore in tmp_path/name; all are closed after the test."""
    opened: list[LocalStore] = []

    def make(name: str = "db", **options: Any) -> LocalStore:
        store = LocalStore(tmp_path / name, **options)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()
