"""The model directory's layout and its `manifest.json`, shared by the build step and the loader.

The manifest is written last by the build, so its presence marks a finished build; the loader trusts a
directory only when the manifest parses and every file it names is there.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from sutra.errors import ModelError

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_SLUG = "all-MiniLM-L6-v2"
# Bump when the graph, the quantization or the directory layout changes: older builds are then rebuilt.
BUILDER_VERSION = 1

INT8_FILE = "model.onnx"
FP32_FILE = "model-fp32.onnx"
TOKENIZER_FILE = "tokenizer.json"
MANIFEST_FILE = "manifest.json"


@dataclass(frozen=True, slots=True)
class Manifest:
    """What was built, from what, and how well the int8 model agrees with fp32."""

    model: str
    dim: int
    max_seq_length: int
    source_sha256: str
    builder_version: int
    files: tuple[str, ...]
    # the smallest int8-vs-fp32 cosine over the build's sample sentences
    int8_min_cosine: float

    def write(self, model_dir: Path) -> None:
        data = asdict(self)
        data["files"] = list(self.files)
        tmp = model_dir / f"{MANIFEST_FILE}.{os.getpid()}.tmp"  # per process: builds may race
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        tmp.replace(model_dir / MANIFEST_FILE)

    def is_complete(self, model_dir: Path) -> bool:
        return all((model_dir / name).is_file() for name in self.files)


def read_manifest(model_dir: Path) -> Manifest | None:
    """The directory's manifest, or None when there is none. A manifest that exists but cannot be read is
    an error, not "missing": silently rebuilding over it could hide a disk problem."""
    path = model_dir / MANIFEST_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Manifest(
            model=str(data["model"]),
            dim=int(data["dim"]),
            max_seq_length=int(data["max_seq_length"]),
            source_sha256=str(data["source_sha256"]),
            builder_version=int(data["builder_version"]),
            files=tuple(str(name) for name in data["files"]),
            int8_min_cosine=float(data["int8_min_cosine"]),
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(
            f"the model manifest {path} is unreadable ({exc}); delete {model_dir} and rebuild it with "
            f"`python -m sutra.embedding.build --out {model_dir}`"
        ) from exc
