"""Shared fixtures: the real data sets beside the repository, one shared embedder, fresh spaces."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from tests.backends import BACKENDS, chosen

from sutra.config import Settings
from sutra.embedding import get_embedder
from sutra.embedding.base import Embedder
from sutra.engine import Sutra

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"the shared evaluation data is missing at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return get_embedder(Settings())


@pytest.fixture
def make_space(tmp_path: Path, embedder: Embedder) -> Iterator[Callable[..., Sutra]]:
    """Factory for fresh knowledge bases in temporary directories, closed after the test. The storage
    backend is the one SUTRA_TEST_BACKEND names (see tests/backends.py)."""
    opened: list[Sutra] = []
    backend = BACKENDS[chosen()]
    with ExitStack() as stack:

        def make(name: str = "space", **kwargs: Any) -> Sutra:
            kwargs.setdefault("fsync", "off")
            directory = tmp_path / name
            changes = backend(directory, stack)
            if changes:
                base = kwargs.pop("settings", None) or Settings()
                kwargs["settings"] = base.with_(**changes)
            space = Sutra(directory, embedder=embedder, **kwargs)
            opened.append(space)
            return space

        yield make
        for space in opened:
            space.close()
