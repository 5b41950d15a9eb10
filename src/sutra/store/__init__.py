"""Storage: the `Store` interface and the embedded engine behind it.

`open_store` is the one place that turns settings into a store, so the engine never names a backend.
"""

from __future__ import annotations

import os

from sutra.config import Settings
from sutra.store.base import Direction, Store
from sutra.store.local import LocalStore, RecoveryReport

__all__ = ["Direction", "LocalStore", "RecoveryReport", "Store", "open_store"]


def open_store(path: str | os.PathLike[str] | None = None, settings: Settings | None = None) -> Store:
    """Open (or create) the store at `path` (default `settings.data_dir`) under `settings`' policies."""
    settings = settings if settings is not None else Settings()
    if settings.storage_url:  # the concepts live in a storage server; `path` keeps only local files
        from sutra.store.remote.client import RemoteStore

        return RemoteStore(settings.storage_url, token=settings.storage_token, ca=settings.storage_ca)
    return LocalStore(
        settings.data_dir if path is None else path,
        fsync=settings.fsync,
        batch_fsync_ms=settings.batch_fsync_ms,
        checkpoint_wal_bytes=settings.checkpoint_wal_bytes,
    )
