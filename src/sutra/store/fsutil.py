"""Small file-system helpers for crash-safe writes: atomic replace, directory fsync, cutting a file's tail.

An atomic replace is: write a temporary file next to the target, fsync it, rename it over the target, then
fsync the directory so the rename itself survives a power cut. Without the directory fsync, ext4 and XFS may
forget the rename after a crash even though the file's data is on disk.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import time
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


def move_tail_aside(path: Path, offset: int, label: str) -> Path:
    """Cut `path` at `offset`, first copying the cut bytes durably to `<name>.<label>-<UTC time>` next to it.

    The copy is made durable before the cut, so a crash in between leaves both (never neither).
    """
    with open(path, "rb") as f:
        f.seek(offset)
        tail = f.read()
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    for n in itertools.count(1):
        side = path.with_name(f"{path.name}.{label}-{stamp}" + (f"-{n}" if n > 1 else ""))
        try:
            with open(side, "xb") as out:
                out.write(tail)
                out.flush()
                os.fsync(out.fileno())
            break
        except FileExistsError:
            continue  # two cuts within one second: number them
    fsync_dir(path.parent)
    fd = os.open(path, os.O_WRONLY)
    try:
        os.ftruncate(fd, offset)
        os.fsync(fd)
    finally:
        os.close(fd)
    return side
