"""Fixtures for the embedding tests: one real model per test session, never mocked.

The model is reused from the default model directory when it is already built from the same weights by the
same builder version (and kept its fp32 file, which the oracle test needs); otherwise it is built once into
a temporary directory, so running the tests never writes into the user's cache.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sutra.config import Settings
from sutra.embedding import build, model_path
from sutra.embedding.manifest import BUILDER_VERSION, FP32_FILE, read_manifest
from sutra.embedding.onnx_embedder import OnnxEmbedder


def _reusable(directory: Path) -> bool:
    manifest = read_manifest(directory)
    return (
        manifest is not None
        and manifest.builder_version == BUILDER_VERSION
        and manifest.source_sha256 == build.sha256_file(build.source_dir() / "model.safetensors")
        and FP32_FILE in manifest.files
        and manifest.is_complete(directory)
    )


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    default = model_path(Settings())
    if _reusable(default):
        return default
    directory = tmp_path_factory.mktemp("model") / "all-MiniLM-L6-v2"
    build.build(directory)
    return directory


@pytest.fixture(scope="session")
def int8(model_dir: Path) -> OnnxEmbedder:
    return OnnxEmbedder.from_dir(model_dir, variant="int8")


@pytest.fixture(scope="session")
def fp32(model_dir: Path) -> OnnxEmbedder:
    return OnnxEmbedder.from_dir(model_dir, variant="fp32")


@pytest.fixture(scope="session")
def corpus_sentences() -> list[str]:
    """Real sentences from the WorldTree corpus beside the repository."""

    path = Path(__file__).resolve().parents[3] / "shared" / "data" / "worldtree" / "corpus.jsonl"
    if not path.is_file():
        pytest.fail(f"the shared WorldTree corpus is missing at {path}")
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line)["text"] for line in fh if line.strip()]
