"""Storage: the `Store` interface and the embedded engine behind it.

`open_store` is the one place that turns settings into a store, so the engine never names a backend.
"""

from __future__ import annotations

import os
from pathlib import Path

from sutra.config import Settings
from sutra.store.base import Direction, Store
from sutra.store.local import LocalStore, RecoveryReport
from sutra.store.manifest import MANIFEST_NAME
from sutra.store.sharded import ShardedStore, is_sharded

__all__ = ["Direction", "LocalStore", "RecoveryReport", "ShardedStore", "Store", "open_store"]


def open_store(path: str | os.PathLike[str] | None = None, settings: Settings | None = None) -> Store:
    """Open (or create) the store at `path` (default `settings.data_dir`) under `settings`' policies."""
    settings = settings if settings is not None else Settings()
    if settings.storage_url:  # the concepts live in a storage server; `path` keeps only local files
        from sutra.store.remote.client import RemoteStore

        return RemoteStore(settings.storage_url, token=settings.storage_token, ca=settings.storage_ca)
    directory = Path(settings.data_dir if path is None else path)
    options = {
        "fsync": settings.fsync,
        "batch_fsync_ms": settings.batch_fsync_ms,
        "checkpoint_wal_bytes": settings.checkpoint_wal_bytes,
        "vector_dtype": settings.vector_dtype,
    }
    # the shard count applies to a new space; an existing one keeps what its manifest records
    if is_sharded(directory) or (settings.shards > 1 and not (directory / MANIFEST_NAME).exists()):
        return ShardedStore(directory, shards=settings.shards if settings.shards > 1 else None, **options)
    return LocalStore(directory, **options)
