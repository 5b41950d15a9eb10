"""Small file-system helpers for crash-safe writes: atomic replace and directory fsync.

An atomic replace is: write a temporary file next to the target, fsync it, rename it over the target, then
fsync the directory so the rename itself survives a power cut. Without the directory fsync, ext4 and XFS may
forget the rename after a crash even though the file's data is on disk.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

TMP_SUFFIX = ".tmp"


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_writer(target: Path) -> Iterator[BinaryIO]:
    """Yield a binary file; on a clean exit it atomically and durably replaces `target`.

    On an exception the temporary file is removed and `target` is untouched.
    """
    tmp = target.with_name(target.name + TMP_SUFFIX)
    try:
        with open(tmp, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    fsync_dir(target.parent)


def atomic_write(target: Path, data: bytes) -> None:
    with atomic_writer(target) as f:
        f.write(data)


def remove_stale_temporaries(directory: Path) -> list[Path]:
    """Delete leftovers of interrupted atomic writes (they never replaced anything, so they are garbage)."""
    removed = []
    for path in sorted(directory.glob("*" + TMP_SUFFIX)):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed.append(path)
    return removed
