"""Shared fixtures: the real development sets in ../shared/data (read-only, never copied)."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not (DATA / "babi" / "questions.jsonl").is_file():
        pytest.skip(f"shared evaluation data not found at {DATA}")
    return DATA
