"""`get_embedder`: builds on first use, caches per model, and says what to run when it cannot build."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest

from sutra.config import Settings
from sutra.embedding import build, get_embedder, model_path
from sutra.embedding.base import Embedder
from sutra.embedding.manifest import read_manifest
from sutra.errors import ModelError


def test_builds_on_first_use_then_caches(tmp_path: Path) -> None:
    settings = Settings(model_dir=tmp_path / "models")
    embedder = get_embedder(settings)
    assert isinstance(embedder, Embedder)
    assert (model_path(settings) / "manifest.json").is_file()
    assert get_embedder(settings) is embedder
    assert get_embedder(Settings(model_dir=tmp_path / "models")) is embedder
    vector = embedder.embed_one("The sun is a star.")
    assert vector.shape == (384,)
    np.testing.assert_allclose(np.linalg.norm(vector), 1.0, atol=1e-5)


def test_fp32_variant_is_a_separate_embedder(model_dir: Path, tmp_path: Path) -> None:
    settings = Settings(model_dir=tmp_path)
    shutil.copytree(model_dir, model_path(settings))
    assert get_embedder(settings, variant="fp32") is not get_embedder(settings)


def test_missing_model_without_build_extra_names_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(build, "build_deps_available", lambda: False)  # fault injection
    settings = Settings(model_dir=tmp_path / "empty")
    with pytest.raises(ModelError, match=r"python -m sutra\.embedding\.build --out .*empty"):
        get_embedder(settings)


def test_older_build_still_loads_without_build_extra(
    model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(model_dir=tmp_path)
    target = model_path(settings)
    shutil.copytree(model_dir, target)
    old = dataclasses.replace(read_manifest(target), builder_version=0)  # type: ignore[type-var]
    old.write(target)
    monkeypatch.setattr(build, "build_deps_available", lambda: False)  # fault injection
    assert get_embedder(settings).embed_one("still works").shape == (384,)
