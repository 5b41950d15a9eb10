"""Audit records: one per question, appended to the data directory and retrievable by id.

`audit.jsonl` holds one JSON object per line. A record is acknowledged only once it is written whole (and,
unless the space runs with `fsync="off"`, fsynced). A crash can leave a torn last line; the next append
starts on a fresh line, so one torn record never hides the records after it, and `get` skips lines that
are not valid JSON or not valid UTF-8.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import orjson

from sutra.answer import Answer
from sutra.errors import NotFoundError, StorageError
from sutra.model import content_id

AUDIT_FILE = "audit.jsonl"
_RECORD_START = b'{"audit_id":'  # how every record begins, old and new (used to recover glued lines)


class AuditLog:
    """Append-only JSON lines; an id derives from the question, the time and a counter, so it is unique."""

    def __init__(self, directory: Path, *, fsync: bool = True) -> None:
        self.path = directory / AUDIT_FILE
        self.fsync = fsync
        self._lock = threading.Lock()
        self._count = 0
        # group commit: records written, and how many of them an fsync is known to have covered
        self._sync_lock = threading.Lock()
        self._written = self._synced = 0

    def record(self, answer: Answer, elapsed_ms: float) -> str:
        """Append the answer's record and set `answer.audit_id`; raises OSError if it could not be written
        (then `answer.audit_id` is left unset)."""
        with self._lock:
            self._count += 1
            audit_id = content_id("q", answer.question, repr(time.time()), str(self._count))
            fields = answer.to_dict()
            fields["audit_id"] = audit_id  # the answer's own field is still empty: it is set once written
            entry: dict[str, Any] = {
                "audit_id": audit_id,
                "at": time.time(),
                "elapsed_ms": round(elapsed_ms, 3),
                **fields,
            }
            line = orjson.dumps(entry, default=str, option=orjson.OPT_NON_STR_KEYS) + b"\n"
            self._append(line)
            self._written += 1
            ticket = self._written
        if self.fsync:
            self._sync(ticket)
        answer.audit_id = audit_id
        return audit_id

    def _sync(self, ticket: int) -> None:
        """Make records up to `ticket` durable. Outside the write lock, so answers given at the same time
        share one fsync: a thread whose record an fsync begun after it was written already covered
        returns at once."""
        with self._sync_lock:
            if self._synced >= ticket:
                return
            with self._lock:
                upto = self._written  # every one of these is written (flushed to the OS) already
            fd = os.open(self.path, os.O_RDONLY)  # fsync makes the file durable, whichever descriptor asks
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            self._synced = upto

    def _append(self, line: bytes) -> None:
        created = not self.path.exists()
        with self.path.open("a+b") as fh:
            if fh.seek(0, os.SEEK_END) > 0:
                fh.seek(-1, os.SEEK_END)
                if fh.read(1) != b"\n":
                    line = b"\n" + line  # a torn last line (crash mid-write): start this record afresh
            fh.write(line)
            fh.flush()
        if created and self.fsync:
            _fsync_directory(self.path.parent)

    def get(self, audit_id: str) -> dict[str, Any]:
        needle = audit_id.encode("utf-8", errors="replace")
        try:
            with self.path.open("rb") as fh:
                for raw in fh:
                    if needle in raw:
                        for entry in _records(raw):
                            if entry.get("audit_id") == audit_id:
                                return entry
        except FileNotFoundError:
            pass  # nothing asked yet
        except OSError as exc:
            raise StorageError(f"the audit log cannot be read ({exc.strerror or exc})") from None
        # the message names no file: the server passes it to callers who must not learn its paths
        raise NotFoundError(f"no audit record {audit_id!r} here; audit ids are printed with each answer")


def _records(raw: bytes) -> list[dict[str, Any]]:
    """The records on one line: normally one; none for a torn or garbled line; several when a record was
    glued onto a torn line by an older version that did not start appends on a fresh line."""
    text = raw.decode("utf-8", errors="replace")
    try:
        entry = json.loads(text)
        return [entry] if isinstance(entry, dict) else []
    except json.JSONDecodeError:
        pass
    decoder = json.JSONDecoder()
    found: list[dict[str, Any]] = []
    start = text.find(_RECORD_START.decode())
    while start >= 0:
        try:
            entry, _ = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            entry = None
        if isinstance(entry, dict):
            found.append(entry)
        start = text.find(_RECORD_START.decode(), start + 1)
    return found


def _fsync_directory(directory: Path) -> None:
    """Make a newly created file's directory entry durable (best effort where directories can't be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
