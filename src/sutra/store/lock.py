"""The exclusive lock on a data directory: one writer per directory, across processes and within one.

`fcntl.flock` locks belong to an open file description, so a second `LocalStore` in the same process (which
opens the file again) is refused exactly like a second process, and the kernel drops the lock when its holder
dies, so a crashed process never leaves a stale lock behind. (A lock *file* created with O_EXCL was rejected:
it survives a SIGKILL and then needs manual clean-up.) The file's content only describes the holder for the
error message; it is not the lock.

The file is opened with O_NOFOLLOW: a symbolic link named LOCK is refused rather than followed to wherever it
points. A failed creation removes its LOCK again (`release(remove=True)`); an opener that raced with that
removal notices that the file it locked is no longer the one at the path, and locks the new one instead.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from pathlib import Path

from sutra.errors import StoreLockedError

LOCK_NAME = "LOCK"


class DirectoryLock:
    """Hold with `acquire()`, give back with `release()` (idempotent)."""

    def __init__(self, directory: Path) -> None:
        self.path = Path(directory) / LOCK_NAME
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        for _ in range(100):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                if self._still_linked(fd):
                    self._describe_holder(fd)
                    self._fd = fd
                    return
            except BlockingIOError:
                os.close(fd)
                raise StoreLockedError(self._refusal()) from None
            except BaseException:
                os.close(fd)
                raise
            os.close(fd)  # we locked a LOCK file that was just removed; lock the one at the path now
        raise StoreLockedError(f"could not lock {self.path}: it keeps being replaced; retry later")

    def release(self, *, remove: bool = False) -> None:
        """Give the lock back; `remove` also deletes the file (only for a space whose creation failed)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        if remove:
            with contextlib.suppress(OSError):
                self.path.unlink()  # while still locked: see the module docstring
        # Otherwise leave the file: unlinking it while others may be opening it would need them to retry.
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

    def _still_linked(self, fd: int) -> bool:
        try:
            here = os.stat(self.path, follow_symlinks=False)
        except FileNotFoundError:
            return False
        mine = os.fstat(fd)
        return (here.st_dev, here.st_ino) == (mine.st_dev, mine.st_ino)

    @staticmethod
    def _describe_holder(fd: int) -> None:
        holder = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": time.strftime("%Y-%m-%dT%H:%M:%S"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(holder).encode(), 0)

    def _refusal(self) -> str:
        try:
            holder = json.loads(self.path.read_text() or "{}")
        except (OSError, ValueError):
            holder = {}
        who = (
            f"process {holder.get('pid', '?')} on host {holder.get('host', '?')} "
            f"(holding it since {holder.get('since', '?')})"
        )
        return (
            f"the data directory {self.path.parent} is in use by {who}. Only one process may open a data "
            "directory at a time: stop that process or close its store, or use a different data directory."
        )
