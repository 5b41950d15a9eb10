"""One typed settings object, validated at start-up. The only place that reads the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import platformdirs

from sutra.errors import ConfigError

FsyncPolicy = Literal["always", "batch", "off"]
FSYNC_POLICIES: tuple[str, ...] = ("always", "batch", "off")


def default_data_dir() -> Path:
    return Path(os.environ.get("SUTRA_DATA_DIR") or platformdirs.user_data_dir("sutra"))


def default_model_dir() -> Path:
    """SUTRA_MODEL_DIR names the models folder itself; the default is the user cache's `sutra/models`."""
    override = os.environ.get("SUTRA_MODEL_DIR")
    return Path(override) if override else Path(platformdirs.user_cache_dir("sutra")) / "models"


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None


def _path_env(name: str) -> Path | None:
    raw = os.environ.get(name)
    return Path(raw) if raw else None


@dataclass(frozen=True, slots=True)
class Settings:
    """Runtime settings. Parameters that shape stored data (vector dimension, format version) are saved in
    the data directory itself, not here."""

    data_dir: Path = field(default_factory=default_data_dir)
    model_dir: Path = field(default_factory=default_model_dir)
    fsync: FsyncPolicy = field(default_factory=lambda: os.environ.get("SUTRA_FSYNC", "always"))  # type: ignore[assignment]
    # group commit: with policy "batch", fsync at most every this many milliseconds
    batch_fsync_ms: float = 10.0
    # take a snapshot (and truncate the WAL) once the WAL grows past this size
    checkpoint_wal_bytes: int = 64 * 1024 * 1024
    embed_batch_size: int = 32
    # threads numpy's BLAS may use in this process (0: leave it as it is). Sutra's matrix products are small
    # and a BLAS thread per core spins after each one, taking the cores parsing and embedding need
    blas_threads: int = field(default_factory=lambda: _int_env("SUTRA_BLAS_THREADS", 1))
    # storage backend. `shards` applies when a store is created (an existing store keeps the count in its
    # manifest); a non-empty `storage_url` ("sutra://host:port", or "sutras://" for TLS) means the concepts
    # live in a storage server, reached with `storage_token`, verified against the CA file `storage_ca`.
    shards: int = field(default_factory=lambda: _int_env("SUTRA_SHARDS", 1))
    storage_url: str = field(default_factory=lambda: os.environ.get("SUTRA_STORAGE_URL", ""))
    storage_token: str = field(default_factory=lambda: os.environ.get("SUTRA_STORAGE_TOKEN", ""))
    storage_ca: Path | None = field(default_factory=lambda: _path_env("SUTRA_STORAGE_CA"))
    # how a new space keeps its vectors: "float32", "float16" or "int8" (None: float32, or what an existing
    # space already uses; asking an existing space with vectors for another form is an error)
    vector_dtype: str | None = field(default_factory=lambda: os.environ.get("SUTRA_VECTOR_DTYPE") or None)
    # reasoning
    max_hops: int = 4
    hop_decay: float = 0.85
    min_confidence: float = 0.35

    def __post_init__(self) -> None:
        if self.fsync not in FSYNC_POLICIES:
            raise ConfigError(f"fsync policy {self.fsync!r} is not one of {', '.join(FSYNC_POLICIES)}")
        if not 1 <= self.max_hops <= 8:
            raise ConfigError(f"max_hops must be between 1 and 8, got {self.max_hops}")
        if not 0 < self.hop_decay <= 1:
            raise ConfigError(f"hop_decay must be in (0, 1], got {self.hop_decay}")
        if not 1 <= self.shards <= 256:
            raise ConfigError(f"shards must be between 1 and 256, got {self.shards}")
        if self.storage_url and not self.storage_url.startswith(("sutra://", "sutras://")):
            raise ConfigError(f"storage_url {self.storage_url!r} must start with sutra:// or sutras://")
        from sutra.store.vectors.storage import VECTOR_DTYPES  # here: the store package imports this module

        if self.vector_dtype is not None and self.vector_dtype not in VECTOR_DTYPES:
            raise ConfigError(f"vector_dtype {self.vector_dtype!r} is not one of {', '.join(VECTOR_DTYPES)}")
        if self.embed_batch_size < 1:
            raise ConfigError("embed_batch_size must be at least 1")
        if self.blas_threads < 0:
            raise ConfigError(f"blas_threads must be 0 (leave as is) or more, got {self.blas_threads}")

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]
