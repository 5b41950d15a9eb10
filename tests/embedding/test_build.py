"""The install step: what it writes, that it is idempotent, and how it fails."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import onnxruntime as ort
import pytest

from sutra.embedding import build
from sutra.embedding.manifest import (
    BUILDER_VERSION,
    FP32_FILE,
    INT8_FILE,
    MANIFEST_FILE,
    TOKENIZER_FILE,
    read_manifest,
)
from sutra.errors import ModelError


def test_manifest_describes_the_build(model_dir: Path) -> None:
    manifest = read_manifest(model_dir)
    assert manifest is not None
    assert manifest.model == "sentence-transformers/all-MiniLM-L6-v2"
    assert (manifest.dim, manifest.max_seq_length) == (384, 256)
    assert manifest.builder_version == BUILDER_VERSION
    assert manifest.source_sha256 == build.sha256_file(build.source_dir() / "model.safetensors")
    assert set(manifest.files) == {INT8_FILE, FP32_FILE, TOKENIZER_FILE}
    assert manifest.int8_min_cosine >= build.MIN_INT8_COSINE
    assert not list(model_dir.glob(".build-*")), "the scratch folder was left behind"


@pytest.mark.parametrize("name", [INT8_FILE, FP32_FILE])
def test_graph_signature(model_dir: Path, name: str) -> None:
    session = ort.InferenceSession(str(model_dir / name), providers=["CPUExecutionProvider"])
    inputs = {i.name: i for i in session.get_inputs()}
    assert set(inputs) == {"input_ids", "attention_mask"}
    for tensor in inputs.values():
        assert tensor.type == "tensor(int64)"
        assert all(isinstance(dim, str) for dim in tensor.shape), "batch and sequence must be dynamic"
    (output,) = session.get_outputs()
    assert (output.name, output.type, output.shape[1]) == ("sentence_embedding", "tensor(float)", 384)


def test_int8_is_smaller_than_fp32(model_dir: Path) -> None:
    assert (model_dir / INT8_FILE).stat().st_size < (model_dir / FP32_FILE).stat().st_size / 3


def test_saved_tokenizer_neither_truncates_nor_pads(model_dir: Path) -> None:
    config = json.loads((model_dir / TOKENIZER_FILE).read_text(encoding="utf-8"))
    assert config["truncation"] is None
    assert config["padding"] is None


def test_rebuild_is_skipped_when_the_manifest_matches(model_dir: Path) -> None:
    before = {p.name: p.stat().st_mtime_ns for p in model_dir.iterdir()}
    manifest = build.build(model_dir)
    assert manifest == read_manifest(model_dir)
    assert {p.name: p.stat().st_mtime_ns for p in model_dir.iterdir()} == before


def test_unreadable_manifest_is_a_model_error(tmp_path: Path) -> None:
    (tmp_path / MANIFEST_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelError, match="unreadable"):
        read_manifest(tmp_path)


def test_missing_build_extra_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    # fault injection: make `import onnx` fail as it does without the build-model extra
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ModelError, match=r"sutra\[build-model\]"):
        build.require_build_deps()


def test_cli_reports_an_up_to_date_model(model_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert build.main(["--out", str(model_dir)]) == 0
    assert "ready in" in capsys.readouterr().out
