"""`manifest.json`: the parameters that shape a data directory (format version, vector dimension).

They live with the data, not in settings, because they cannot change once data exists: a store of 384-d
vectors cannot be opened as 768-d. The vector dimension is fixed by the first vector ever stored.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from sutra.errors import ConfigError, CorruptionError
from sutra.store.fsutil import atomic_write

MANIFEST_NAME = "manifest.json"
FORMAT_VERSION = 1


@dataclass(slots=True)
class Manifest:
    format: int = FORMAT_VERSION
    dim: int | None = None
    created: str = ""


def load_or_create(directory: Path) -> Manifest:
    path = directory / MANIFEST_NAME
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        manifest = Manifest(created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        save(directory, manifest)
        return manifest
    except (OSError, ValueError) as exc:
        raise CorruptionError(f"{path} is unreadable ({exc}); restore it from a backup") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("format"), int):
        raise CorruptionError(f"{path} is not a Sutra manifest; restore it from a backup")
    if raw["format"] > FORMAT_VERSION:
        raise ConfigError(
            f"{directory} uses data format {raw['format']}, newer than this Sutra's ({FORMAT_VERSION}); "
            "upgrade Sutra"
        )
    return Manifest(format=raw["format"], dim=raw.get("dim"), created=raw.get("created", ""))


def save(directory: Path, manifest: Manifest) -> None:
    atomic_write(directory / MANIFEST_NAME, (json.dumps(asdict(manifest), indent=2) + "\n").encode())


def check_dim(manifest: Manifest, dim: int, directory: Path) -> None:
    if manifest.dim is not None and manifest.dim != dim:
        raise ConfigError(
            f"{directory} stores {manifest.dim}-dimensional vectors, got a {dim}-dimensional one; use the "
            "embedding model this store was built with, or a new data directory"
        )
