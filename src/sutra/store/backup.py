"""Online backup of a local or sharded space: a consistent copy of its data directory, taken while it stays
open. A sharded space is copied whole: its manifest and coordinator log, and every shard's directory.

How: hold back the store's writers (readers go on), checkpoint (so the snapshot, its vector file and the
saved HNSW index all describe the same LSN and the WAL holds nothing after it), copy those files, and let
writers go. The copy is made in a temporary directory next to the destination, fsynced, opened once to check
it (`check()` must be clean), and only then renamed into place, so the destination is either a whole backup
or absent. Checkpoint-then-copy was chosen over copying snapshot + WAL as they are: the copy then opens
without replaying anything and without rebuilding the vector index, which for a large space is minutes.

Writers wait for the checkpoint plus the copy (about the snapshot's size at disk speed). The engine's audit
log (`audit.jsonl`) is copied too, up to its last complete line, since answers may still be appending to it.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from sutra.errors import ConfigError, InputError, IntegrityError, StorageError
from sutra.store.base import Store
from sutra.store.fsutil import fsync_dir

# Exactly the files a checkpointed space consists of; LOCK, side files and temporaries are not copied.
_SPACE_FILES = re.compile(
    r"manifest\.json|wal\.log|snapshot\.bin|snapshot\.\d+\.npy|vectors\.meta|vectors\.\d+\.hnsw"
)
AUDIT_NAME = "audit.jsonl"
_CHUNK = 1 << 20


@dataclass(slots=True)
class BackupReport:
    path: str
    files: list[str]
    bytes: int
    lsn: int
    concepts: int
    associations: int


def backup_store(store: Store, destination: Path) -> BackupReport:
    """Copy the open local or sharded store `store` to `destination` (which must not exist, or be empty)."""
    from sutra.store.local import LocalStore  # local imports this package's modules; import late
    from sutra.store.sharded import ShardedStore

    if not isinstance(store, (LocalStore, ShardedStore)):
        raise ConfigError(
            f"backup copies a data directory on this machine; this space is a {type(store).__name__}. "
            "Use `sutra export` for a portable copy of it instead"
        )
    source = store.path.resolve()
    destination = destination.absolute()
    if destination.exists() and (not destination.is_dir() or any(destination.iterdir())):
        raise InputError(f"{destination} is not empty; back up into a new or empty directory")
    if destination.resolve().is_relative_to(source):
        raise InputError(f"{destination} is inside the space being backed up; choose a folder outside it")
    staging = destination.with_name(f".{destination.name}.backup-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        staging.mkdir(parents=True)
        with store.writes_paused():
            store.checkpoint()
            lsn = store.stats()["lsn"]
            names = _space_files(source)
            for name in names:
                (staging / name).parent.mkdir(exist_ok=True)
            size = sum(_copy(source / name, staging / name) for name in names)
        if (source / AUDIT_NAME).is_file():
            size += _copy(source / AUDIT_NAME, staging / AUDIT_NAME, whole_lines=True)
            names.append(AUDIT_NAME)
        fsync_dir(staging)
        counts = _verify(staging)
        if destination.exists():
            destination.rmdir()  # empty (checked above)
        os.replace(staging, destination)
        fsync_dir(destination.parent)
    except OSError as exc:
        raise StorageError(
            f"the backup to {destination} failed ({exc}); the space is unchanged and nothing was left at "
            "the destination. Free disk space or fix the destination's permissions, then retry."
        ) from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return BackupReport(str(destination), names, size, lsn, *counts)


def _space_files(source: Path) -> list[str]:
    """The files to copy, relative to the space: its own, and those of each shard's directory."""
    from sutra.store.sharded import SHARD_DIR

    names = sorted(p.name for p in source.iterdir() if _SPACE_FILES.fullmatch(p.name))
    for shard in sorted(p for p in source.iterdir() if p.is_dir() and SHARD_DIR.fullmatch(p.name)):
        names += sorted(f"{shard.name}/{p.name}" for p in shard.iterdir() if _SPACE_FILES.fullmatch(p.name))
    return names


def _copy(source: Path, target: Path, *, whole_lines: bool = False) -> int:
    """Copy durably; with `whole_lines`, only up to the last newline (a line being appended is left out)."""
    with open(source, "rb") as src, open(target, "xb") as out:
        limit = os.fstat(src.fileno()).st_size
        if whole_lines and limit:
            src.seek(max(0, limit - _CHUNK))
            tail = src.read(limit - src.tell())
            cut = tail.rfind(b"\n")
            limit = limit - len(tail) + cut + 1 if cut >= 0 else 0
            src.seek(0)
        copied = 0
        while copied < limit:
            chunk = src.read(min(_CHUNK, limit - copied))
            if not chunk:
                break
            out.write(chunk)
            copied += len(chunk)
        out.flush()
        os.fsync(out.fileno())
    return copied


def _verify(directory: Path) -> tuple[int, int]:
    from sutra.store.sharded import open_existing

    with open_existing(directory) as copy:
        problems = copy.check()
        stats = copy.stats()
    if problems:
        raise IntegrityError(
            f"the backup copy does not check out ({len(problems)} problem(s), e.g. {problems[0]}); it was "
            "removed. The space itself is unchanged; run its check and retry"
        )
    return stats["concepts"], stats["associations"]
