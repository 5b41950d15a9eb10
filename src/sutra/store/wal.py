"""The write-ahead log: one checksummed frame per `apply` batch, group commit, and crash recovery.

File layout::

    file header  b"SUTRAWAL" | u32 format version | u32 crc32(first 12 bytes) (16 bytes, written atomically)
    frame        u32 payload length | u32 crc32(payload) | u32 crc32(first 8 header bytes) | payload
    payload      msgpack {"lsn": int, "m": [mutation dicts]}                 (see codec.py)

The frame header carries its own checksum so that a flipped bit in a *length* is reported as corruption
instead of being mistaken for a torn tail (a bad length would otherwise point past the end of the file and
look exactly like an interrupted write). The file header's checksum does the same for the version: a flipped
bit there is corruption, not "written by a newer Sutra". It occupies what used to be a reserved zero field,
so the format version stays 1 and both directions stay compatible: a header with a zero there (written
before the checksum existed) is still read, and older readers ignore the field.

Recovery rules (see `scan`): a partial frame at the very end is a torn write from a crash and is cut
off with a warning; so is an all-zero tail (some file systems extend a file before its data lands). Any
*complete* frame whose checksum or content is wrong is corruption: it is reported with `CorruptionError`
and never skipped, unless the caller asks for repair, which truncates at the first bad frame and says how
much was dropped. Whatever is cut is first copied to a side file next to the WAL (`wal.log.torn-<time>`,
`wal.log.dropped-<time>`): a torn write was never acknowledged under fsync="always", but what was cut is
evidence worth keeping.

fsync policies: "always" makes a batch durable before `apply` returns; "batch" returns at once and a
background thread fsyncs every `batch_fsync_ms`, so a crash (power loss, not a process kill: the page cache
survives those) may lose acknowledged batches from the last window; "off" leaves flushing to the OS.
Group commit: appends are serialized, and whichever waiting writer finds no fsync in flight becomes the
leader and fsyncs everything appended so far; the others wait for it, so N concurrent writers need far fewer
than N fsyncs.
"""

from __future__ import annotations

import logging
import os
import struct
import threading
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sutra.errors import ConfigError, CorruptionError, InputError, StorageError
from sutra.model import Mutation
from sutra.store.codec import CodecError, mutation_from_dict, pack, unpack
from sutra.store.fsutil import atomic_write, move_tail_aside

log = logging.getLogger("sutra.store")

FILE_MAGIC = b"SUTRAWAL"
WAL_VERSION = 1
FILE_HEADER = struct.Struct("<8sII")
FRAME_HEADER = struct.Struct("<III")
MAX_FRAME = 1 << 31  # a sanity bound: a "valid" header claiming more than this is corruption
# Every payload is the msgpack map {"lsn": ..., "m": ...} (or with a third key "x"), so it starts with these
# bytes after its one-byte map header; after a frame whose header is damaged (its length unknown), the next
# intact frame is found by searching for them.
_PAYLOAD_START = b"\xa3lsn"

_fsync = getattr(os, "fdatasync", os.fsync)  # fdatasync still flushes the size change an append makes


# ---- encoding ----


def encode_payload(
    lsn: int, mutation_dicts: list[dict[str, Any]], extra: dict[str, Any] | None = None
) -> bytes:
    """`extra` (optional, key "x") carries a sharded space's transaction record (see store/shard.py)."""
    body: dict[str, Any] = {"lsn": lsn, "m": mutation_dicts}
    if extra is not None:
        body["x"] = extra
    payload = pack(body)
    if len(payload) > MAX_FRAME:  # refused before anything is applied: recovery would not read it back
        raise InputError(
            f"the batch encodes to {len(payload):,} bytes, more than one WAL frame holds ({MAX_FRAME:,}); "
            "split it into smaller batches"
        )
    return payload


def decode_payload(payload: bytes) -> tuple[int, list[Mutation]]:
    lsn, mutations, _ = decode_record(payload)
    return lsn, mutations


def decode_record(payload: bytes) -> tuple[int, list[Mutation], dict[str, Any] | None]:
    body = unpack(payload)
    if (
        not isinstance(body, dict)
        or not isinstance(body.get("lsn"), int)
        or not isinstance(body.get("m"), list)
        or not isinstance(body.get("x", {}), dict)
    ):
        raise CodecError(
            "a WAL payload must be a map with an integer 'lsn', a list 'm' and an optional 'x' map"
        )
    return body["lsn"], [mutation_from_dict(d) for d in body["m"]], body.get("x")


def encode_frame(payload: bytes) -> bytes:
    head = struct.pack("<II", len(payload), zlib.crc32(payload))
    return head + struct.pack("<I", zlib.crc32(head)) + payload


# ---- reading ----


@dataclass(slots=True)
class Frame:
    offset: int
    lsn: int
    mutations: list[Mutation]
    extra: dict[str, Any] | None = None  # a sharded space's transaction record, if any


@dataclass(slots=True)
class ScanResult:
    """What a WAL holds: `valid_end` is where the last good frame ends; `problem` is None/"torn"/"corrupt"."""

    frames: list[Frame] = field(default_factory=list)
    valid_end: int = FILE_HEADER.size
    size: int = 0
    problem: str | None = None
    reason: str = ""
    frames_after_bad: int = 0  # for "corrupt": complete frames after the bad one (lost by a repair)


def scan(data: bytes, *, name: str = "WAL") -> ScanResult:
    """Parse a whole WAL image; never raises on frame damage (the result says what was found)."""
    _check_file_header(data, name)
    result = ScanResult(size=len(data))
    pos, last_lsn = FILE_HEADER.size, 0
    while pos < len(data):
        verdict, end, frame = _read_frame(data, pos, last_lsn)
        if verdict != "ok":
            result.problem, result.reason = verdict, end  # type: ignore[assignment]
            if verdict == "corrupt":
                result.frames_after_bad = _count_frames_after(data, pos)
            break
        assert frame is not None
        result.frames.append(frame)
        last_lsn, pos = frame.lsn, end  # type: ignore[assignment]
        result.valid_end = pos
    return result


def file_header(version: int = WAL_VERSION) -> bytes:
    head = FILE_HEADER.pack(FILE_MAGIC, version, 0)[:12]
    return head + struct.pack("<I", zlib.crc32(head))


def _check_file_header(data: bytes, name: str) -> None:
    if len(data) < FILE_HEADER.size or data[:8] != FILE_MAGIC:
        raise CorruptionError(
            f"{name} does not start with a Sutra WAL header; it is not a WAL or its first bytes are damaged. "
            "Restore the data directory from a backup, or move this file away and reopen with repair=True "
            "to continue from the snapshot alone."
        )
    _, version, check = FILE_HEADER.unpack_from(data)
    legacy = check == 0 and version == 1  # written before the header had a checksum
    if check != zlib.crc32(data[:12]) and not legacy:
        raise CorruptionError(
            f"{name} has a damaged file header (its checksum does not match, so its format version "
            f"{version} cannot be trusted). Restore the data directory from a backup."
        )
    if version < 1:
        raise CorruptionError(
            f"{name} claims WAL format {version}, which never existed; restore from a backup."
        )
    if version > WAL_VERSION:
        raise ConfigError(
            f"{name} has WAL format {version}, newer than this Sutra reads ({WAL_VERSION}); upgrade Sutra."
        )


def _read_frame(data: bytes, pos: int, last_lsn: int) -> tuple[str, Any, Frame | None]:
    """("ok", end offset, frame) or ("torn" | "corrupt", reason, None)."""
    remaining = len(data) - pos
    if remaining < FRAME_HEADER.size:
        return "torn", f"{remaining} byte(s) of an incomplete frame header", None
    length, payload_crc, header_crc = FRAME_HEADER.unpack_from(data, pos)
    if zlib.crc32(data[pos : pos + 8]) != header_crc or length > MAX_FRAME:
        if not any(data[pos:]):
            return "torn", f"{remaining} zero byte(s) after the last frame", None
        return "corrupt", "the frame header checksum does not match", None
    end = pos + FRAME_HEADER.size + length
    if end > len(data):
        return "torn", f"a frame of {length} bytes with only {remaining - FRAME_HEADER.size} present", None
    payload = data[pos + FRAME_HEADER.size : end]
    if zlib.crc32(payload) != payload_crc:
        return "corrupt", "the frame payload checksum does not match", None
    try:
        lsn, mutations, extra = decode_record(payload)
    except CodecError as exc:
        return "corrupt", f"the frame checksum matches but its content is invalid ({exc})", None
    if lsn <= last_lsn:
        return "corrupt", f"LSN {lsn} does not follow LSN {last_lsn}", None
    return "ok", end, Frame(pos, lsn, mutations, extra)


def _count_frames_after(data: bytes, pos: int) -> int:
    """How many intact frames lie after the bad one at `pos` (what a repair would drop besides it).

    From each place where the next frame should start, a frame is read; where there is none (the bad frame's
    length is unknown, or more damage follows), the next frame is found by its payload's fixed first bytes.
    """
    count, search_from = 0, pos + 1
    while True:
        found = data.find(_PAYLOAD_START, search_from + FRAME_HEADER.size + 1)
        start = found - 1 - FRAME_HEADER.size
        if found < 0:
            return count
        verdict, end, _ = _read_frame(data, start, 0)
        if verdict == "ok":
            count, search_from = count + 1, end
            while search_from < len(data):  # intact frames usually follow each other: no search needed
                verdict, end, _ = _read_frame(data, search_from, 0)
                if verdict != "ok":
                    break
                count, search_from = count + 1, end
        else:
            search_from = start + 1


@dataclass(slots=True)
class Recovered:
    frames: list[Frame]
    torn_bytes: int = 0  # cut off as an interrupted write
    repaired_bytes: int = 0  # cut off by an explicit repair
    repaired_frames: int = 0
    saved_to: Path | None = None  # the side file that keeps the bytes cut off


def recover(path: Path, *, repair: bool) -> Recovered:
    """Read the WAL at `path`, cut a torn tail, and report or repair damage (keeping what is cut aside)."""
    data = path.read_bytes()
    result = scan(data, name=str(path))
    out = Recovered(frames=result.frames)
    cut = len(data) - result.valid_end
    if result.problem == "torn":
        out.saved_to = move_tail_aside(path, result.valid_end, "torn")
        log.warning(
            "%s: cut off a torn tail at offset %d (%s), left by an interrupted write; the %d cut byte(s) "
            "are kept in %s",
            path,
            result.valid_end,
            result.reason,
            cut,
            out.saved_to,
        )
        out.torn_bytes = cut
    elif result.problem == "corrupt":
        dropped = _describe_drop(cut, result.frames_after_bad)
        if not repair:
            raise CorruptionError(
                f"{path} is corrupt at offset {result.valid_end}: {result.reason}. The "
                f"{result.valid_end} bytes before it ({len(result.frames)} batch(es)) are intact. To keep "
                f"them, reopen with repair=True: it drops {dropped}, keeping a copy of those bytes in a side "
                "file. Otherwise restore the data directory from a backup."
            )
        out.saved_to = move_tail_aside(path, result.valid_end, "dropped")
        log.warning(
            "%s: repair dropped %s, from offset %d (%s); the dropped bytes are kept in %s",
            path,
            dropped,
            result.valid_end,
            result.reason,
            out.saved_to,
        )
        out.repaired_bytes, out.repaired_frames = cut, 1 + result.frames_after_bad
    return out


def _describe_drop(size: int, intact_after: int) -> str:
    return (
        f"the damaged batch and everything after it ({size} bytes: {1 + intact_after} batch(es), the damaged "
        f"one and {intact_after} intact one(s) after it)"
    )


def create(path: Path) -> None:
    atomic_write(path, file_header())


# ---- writing ----


class WalWriter:
    """Appends frames and makes them durable under a policy. `fsyncs` counts the syncs actually issued."""

    def __init__(self, path: Path, *, next_lsn: int, policy: str = "always", batch_fsync_ms: float = 10.0):
        self.path = path
        self.policy = policy
        self.next_lsn = next_lsn
        self.fsyncs = 0
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        self._size = os.fstat(self._fd).st_size
        self._append_lock = threading.Lock()
        self._cond = threading.Condition()
        self._written_lsn = self._synced_lsn = next_lsn - 1
        self._syncing = False
        self._failure: str | None = None
        self._stop = threading.Event()
        self._flusher: threading.Thread | None = None
        if policy == "batch":
            self._flusher = threading.Thread(
                target=self._flush_loop, args=(batch_fsync_ms / 1000.0,), name="sutra-wal-flush", daemon=True
            )
            self._flusher.start()

    @property
    def size(self) -> int:
        return self._size

    def append(self, lsn: int, payload: bytes) -> None:
        """Write one frame (not yet durable). On a failed write the file is cut back to where it was."""
        frame = encode_frame(payload)
        with self._append_lock:
            self._raise_if_failed()
            if lsn != self.next_lsn:
                raise StorageError(f"WAL append out of order: got LSN {lsn}, expected {self.next_lsn}")
            try:
                view = memoryview(frame)
                while view:
                    view = view[os.write(self._fd, view) :]
            except OSError as exc:
                self._undo_partial_write(exc)
                raise StorageError(
                    f"could not write to {self.path}: {exc}; free disk space and retry"
                ) from exc
            self._size += len(frame)
            self.next_lsn = lsn + 1
        with self._cond:
            self._written_lsn = lsn

    def wait_durable(self, lsn: int) -> None:
        """Return once frame `lsn` is durable as the policy defines it ("batch" and "off" do not wait)."""
        if self.policy == "always":
            self._sync_to(lsn)
        else:
            self._raise_if_failed()

    def sync(self) -> None:
        """Make everything appended so far durable, whatever the policy."""
        with self._cond:
            target = self._written_lsn
        self._sync_to(target)

    def truncate(self) -> None:
        """Drop every frame (after a checkpoint made them redundant); LSNs keep counting up."""
        with self._append_lock:
            self._raise_if_failed()
            os.ftruncate(self._fd, FILE_HEADER.size)
            self._size = FILE_HEADER.size
            try:
                os.fsync(self._fd)
            except OSError as exc:  # as in _sync_to: after a failed fsync nothing later can be trusted
                self._failure = f"fsync of {self.path} failed: {exc}"
                raise
            with self._cond:
                # the snapshot that made this truncation safe is itself durable, so everything written is too
                self._synced_lsn = self._written_lsn
                self._cond.notify_all()

    def close(self) -> None:
        if self._fd < 0:
            return
        self._stop.set()
        if self._flusher is not None:
            self._flusher.join()
        try:
            if self._failure is None:
                self.sync()
        finally:
            with self._cond:
                while self._syncing:  # never close the descriptor under a leader's fsync
                    self._cond.wait()
            os.close(self._fd)
            self._fd = -1

    # -- group commit --

    def _sync_to(self, lsn: int) -> None:
        with self._cond:
            while self._synced_lsn < lsn:
                self._raise_if_failed()
                if self._syncing:  # follower: the leader's fsync may cover us
                    self._cond.wait()
                    continue
                self._syncing, target = True, self._written_lsn
                self._cond.release()
                error = None
                try:
                    _fsync(self._fd)
                except OSError as exc:
                    error = exc
                finally:
                    self._cond.acquire()
                    self._syncing = False
                    self._cond.notify_all()
                if error is not None:
                    # After a failed fsync the kernel may drop the dirty pages; a retry could "succeed"
                    # without the data (the 2018 PostgreSQL fsync lesson), so this writer is finished.
                    self._failure = f"fsync of {self.path} failed: {error}"
                    self._raise_if_failed()
                self.fsyncs += 1
                self._synced_lsn = max(self._synced_lsn, target)
            self._raise_if_failed()

    def _flush_loop(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                self.sync()
            except StorageError:
                return  # recorded in _failure; the next apply reports it

    def _raise_if_failed(self) -> None:
        if self._failure is not None:
            raise StorageError(f"{self._failure}. Close the store and reopen it to recover from the WAL.")

    def _undo_partial_write(self, exc: OSError) -> None:
        try:
            os.ftruncate(self._fd, self._size)
        except OSError:
            self._failure = f"a write to {self.path} failed ({exc}) and could not be undone"
