"""The data directory as a whole: which folders may become a space, Sutra's own file names, clean-up.

A folder is opened only when it is a Sutra space (it has our `manifest.json`) or may become one (it does not
exist, is empty, or holds only what an interrupted creation leaves: `LOCK`, a header-only `wal.log`, our
temporaries). Anything else is refused *before* anything is written there, so pointing Sutra at the wrong
folder never litters it, let alone deletes from it. Clean-up after a crash only removes files whose exact
names Sutra writes (an earlier version deleted every `*.tmp` of any folder it was pointed at).

OS errors met while opening become `StorageError`s that name the path and say what to do.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
from dataclasses import dataclass
from pathlib import Path

from sutra.errors import CorruptionError, StorageError
from sutra.store import manifest as manifest_file
from sutra.store import wal
from sutra.store.fsutil import fsync_dir
from sutra.store.lock import LOCK_NAME, DirectoryLock
from sutra.store.snapshot import MAGIC as SNAPSHOT_MAGIC
from sutra.store.snapshot import SNAPSHOT_NAME

WAL_NAME = "wal.log"
MANIFEST_NAME = manifest_file.MANIFEST_NAME
# The temporaries of atomic replaces (fsutil.atomic_writer), of the snapshot's vector file (snapshot.py)
# and of the saved HNSW graph (vectors/hnsw.py).
_OWN_TEMPORARY = re.compile(
    r"(manifest\.json|snapshot\.bin|snapshot\.\d+\.npy|wal\.log|vectors\.meta|vectors\.\d+\.hnsw)\.tmp"
)
_VIRTUAL_ROOTS = ("/proc", "/sys")


@dataclass(slots=True)
class Claim:
    """A data directory locked for this process: an existing space, or a new one just created."""

    directory: Path
    lock: DirectoryLock
    created: bool  # this open created the space (so a failed open removes it again)
    made_directory: bool

    def abandon(self) -> None:
        """Give the directory back after a failed open, as it was before."""
        if self.created:
            remove_created(self.directory)
        self.lock.release(remove=self.created)
        if self.made_directory:
            with contextlib.suppress(OSError):
                self.directory.rmdir()  # only if empty: never remove what someone else put there


def claim(directory: Path, manifest: manifest_file.Manifest | None = None) -> Claim:
    """Lock `directory` for opening, creating a space there if it may become one; refuse anything else.

    The folder is inspected before anything is written to it (a foreign folder gets no LOCK), and again
    under the lock, which is what counts: another process may have created the space in between.
    `manifest` is what a new space starts with (default: `manifest.new_manifest()`).
    """
    made = prepare(directory)
    lock = DirectoryLock(directory)
    looked_new = False
    try:
        looked_new = is_new(directory)
        lock.acquire()
        new = is_new(directory)
        remove_own_temporaries(directory)  # only now: the folder is ours, and nobody else is writing it
    except BaseException:
        lock.release(remove=looked_new)  # a folder that changed under us keeps no LOCK of ours
        if made:
            with contextlib.suppress(OSError):
                directory.rmdir()
        raise
    opened = Claim(directory, lock, created=new, made_directory=made)
    if new:
        try:
            wal.create(directory / WAL_NAME)
            # last: it makes the folder a space
            manifest_file.save(directory, manifest or manifest_file.new_manifest())
        except BaseException:
            opened.abandon()
            raise
    return opened


def prepare(directory: Path) -> bool:
    """Check that `directory` can hold a space and create it if missing; return whether it was created."""
    resolved = Path(os.path.realpath(directory))
    if any(resolved == Path(root) or Path(root) in resolved.parents for root in _VIRTUAL_ROOTS):
        shown = "" if resolved == directory else f" ({resolved})"
        raise StorageError(
            f"{directory}{shown} is on a virtual file system (/proc or /sys), which cannot hold data; "
            "choose a directory on a disk"
        )
    if directory.is_dir():
        return False
    if directory.is_symlink() or directory.exists():
        what = "a symbolic link to nothing" if not directory.exists() else "a file, not a directory"
        raise StorageError(
            f"the data path {directory} is {what}; give the path of a directory (a new or empty one, or an "
            "existing Sutra space)"
        )
    directory.mkdir(parents=True)
    fsync_dir(directory.parent)  # the new directory's entry must survive a crash too
    return True


def is_new(directory: Path) -> bool:
    """True for a folder that may become a space, False for a space; refuses every other folder."""
    names = sorted(os.listdir(directory))
    if MANIFEST_NAME in names:
        if manifest_file.is_ours(directory) or _sutra_data(directory):
            return False  # a space (a damaged manifest is reported when it is loaded)
        raise _foreign(directory, names, f"its {MANIFEST_NAME} is not Sutra's")
    if all(n == LOCK_NAME or _OWN_TEMPORARY.fullmatch(n) for n in names if n != WAL_NAME) and (
        WAL_NAME not in names or _header_only_wal(directory / WAL_NAME)
    ):
        return True  # empty, or an interrupted creation: the manifest is written last
    found = _sutra_data(directory)
    if found:
        raise CorruptionError(
            f"{directory} holds Sutra data ({', '.join(found)}) but its {MANIFEST_NAME} is missing. Restore "
            f'it from a backup, or recreate it as {{"format": {manifest_file.FORMAT_VERSION}, "dim": N}} '
            "(N: the size of the stored vectors, or null if none were stored)."
        )
    raise _foreign(directory, names, f"there is no {MANIFEST_NAME}")


def remove_own_temporaries(directory: Path) -> None:
    """Delete leftovers of interrupted atomic writes (they never replaced anything, so they are garbage)."""
    for name in os.listdir(directory):
        if _OWN_TEMPORARY.fullmatch(name) and (directory / name).is_file():
            with contextlib.suppress(FileNotFoundError):
                (directory / name).unlink()


def remove_created(directory: Path) -> None:
    """Undo a creation that failed: remove the files a new space starts with (LOCK goes with the lock).

    The manifest goes first, so that whatever else fails to go, the folder is no longer taken for a space.
    """
    for name in (MANIFEST_NAME, WAL_NAME):
        with contextlib.suppress(OSError):
            (directory / name).unlink()


_HINTS = {
    errno.EACCES: "check its permissions: the user running Sutra needs read and write access",
    errno.EPERM: "the file system refuses the change (an immutable attribute? see lsattr) or permissions",
    errno.EROFS: "the file system is read-only; choose a writable location",
    errno.ENOSPC: "the disk is full; free some space and retry",
    errno.EDQUOT: "the disk quota is exhausted; free some space and retry",
    errno.EISDIR: "a directory stands where Sutra keeps a file; move it away or restore from a backup",
    errno.ENOTDIR: "part of the path is a file, not a directory; choose another path",
    errno.ELOOP: "a symbolic link stands where Sutra keeps a file (Sutra never follows those); remove it",
    errno.ENOENT: "a part of the path is missing or cannot be created; check the path",
}


def check_writable(directory: Path, *, closed: bool, failure: str | None, logs: str = "WAL") -> None:
    """Refuse a write to a closed store, or to one that stopped accepting writes after `failure`."""
    if closed:
        raise StorageError(f"the store at {directory} is closed; open it again to write")
    if failure is not None:
        raise StorageError(
            f"the store at {directory} stopped accepting writes: {failure}. Close it and reopen it to "
            f"recover from the {logs}."
        )


def storage_error(exc: OSError, directory: Path) -> StorageError:
    """An OSError met while opening `directory`, as a message that says where and what to do."""
    where = f" ({exc.filename})" if exc.filename and str(exc.filename) != str(directory) else ""
    hint = _HINTS.get(exc.errno or 0, "check the path, its permissions and the disk")
    return StorageError(f"cannot open the data directory {directory}: {exc.strerror or exc}{where}; {hint}")


def _header_only_wal(path: Path) -> bool:
    return (
        path.is_file() and path.stat().st_size <= wal.FILE_HEADER.size and _starts_with(path, wal.FILE_MAGIC)
    )


def _sutra_data(directory: Path) -> list[str]:
    """The names of the Sutra data files (recognised by their magic bytes) in `directory`."""
    found = [
        name
        for name, magic in ((WAL_NAME, wal.FILE_MAGIC), (SNAPSHOT_NAME, SNAPSHOT_MAGIC))
        if (directory / name).is_file() and _starts_with(directory / name, magic)
    ]
    return found


def _starts_with(path: Path, magic: bytes) -> bool:
    with open(path, "rb") as f:
        return f.read(len(magic)) == magic


def _foreign(directory: Path, names: list[str], why: str) -> StorageError:
    shown = ", ".join(repr(n) for n in names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return StorageError(
        f"{directory} is not a Sutra data directory ({why}) and it is not empty: it holds {shown}. Sutra "
        "creates a space only in a new or empty directory; choose another path, or empty this one."
    )
