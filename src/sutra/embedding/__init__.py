"""Sentence embeddings, computed locally.

    from sutra.embedding import get_embedder
    embedder = get_embedder(Settings())
    vectors = embedder.embed(["A man is eating food.", "The girl is carrying a baby."])

`get_embedder` loads the model from `settings.model_dir`, building it on first use when the optional
`build-model` extra is installed. Loaded embedders are cached per model file: opening an onnxruntime session
costs ~0.3 s and ~100 MB, and every part of the engine should share one.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from sutra.config import Settings
from sutra.embedding.base import Embedder
from sutra.embedding.manifest import BUILDER_VERSION, MODEL_SLUG, read_manifest
from sutra.embedding.onnx_embedder import OnnxEmbedder, Variant
from sutra.errors import ModelError

__all__ = ["Embedder", "OnnxEmbedder", "get_embedder", "model_path"]

log = logging.getLogger(__name__)

_cache: dict[tuple[Path, str, int], Embedder] = {}
# One lock for load and build: two threads asking at once must not build the model twice.
_lock = threading.Lock()


def model_path(settings: Settings) -> Path:
    """The directory holding the embedding model for these settings."""
    return settings.model_dir / MODEL_SLUG


def get_embedder(settings: Settings, *, variant: Variant = "int8") -> Embedder:
    """The shared embedder for `settings`; `variant="fp32"` is the unquantized model (benchmarks, tests)."""
    directory = model_path(settings).resolve()
    key = (directory, variant, settings.embed_batch_size)
    with _lock:
        embedder = _cache.get(key)
        if embedder is None:
            _ensure_built(directory)
            embedder = OnnxEmbedder.from_dir(directory, variant=variant, batch_size=settings.embed_batch_size)
            _cache[key] = embedder
        return embedder


def _ensure_built(directory: Path) -> None:
    manifest = read_manifest(directory)
    usable = manifest is not None and manifest.is_complete(directory)
    if usable and manifest is not None and manifest.builder_version == BUILDER_VERSION:
        return
    # Imported here: build.py is import-safe without its extra, but the runtime path should not pay for it.
    from sutra.embedding import build

    if usable:  # built by an older builder: rebuild when we can, otherwise it still works as it is
        if build.build_deps_available():
            log.warning("embedding model in %s is from an older build step; rebuilding it", directory)
            build.build(directory)
        return
    if not build.build_deps_available():
        raise ModelError(
            f"the embedding model is not built in {directory}; run `python -m sutra.embedding.build "
            f"--out {directory}` ({build.INSTALL_HINT})"
        )
    log.warning("embedding model missing in %s; building it now (once, under a minute)", directory)
    build.build(directory)
