"""Snapshots: the whole graph as of one LSN, written atomically, so the WAL before it can be dropped.

Layout::

    b"SUTRASNP" | u32 format version
    msgpack stream: {"lsn", "seq", "concepts": n, "associations": n}, n concept maps, n association maps
    u32 crc32(stream) | u64 stream length | b"SUTRAEND"

Records are written in `seq` order, which is the order the graph keeps them in, so loading needs no sort.
The trailer makes a truncated or damaged snapshot detectable (`CorruptionError`); a newer format version is a
`ConfigError` that says to upgrade. Replacing the file is atomic (temp file, fsync, rename, directory fsync):
after a crash there is either the old snapshot or the new one, never half of one. Recovery replays only WAL
frames with an LSN above the snapshot's, so a crash between the rename and the WAL truncation is harmless.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import msgpack

from sutra.errors import ConfigError, CorruptionError
from sutra.model import Association, Concept
from sutra.store.codec import (
    CodecError,
    association_from_dict,
    association_to_dict,
    concept_from_dict,
    concept_to_dict,
    pack,
)
from sutra.store.fsutil import atomic_writer

SNAPSHOT_NAME = "snapshot.bin"
SNAPSHOT_VERSION = 1
MAGIC, END = b"SUTRASNP", b"SUTRAEND"
HEADER = struct.Struct("<8sI")
TRAILER = struct.Struct("<IQ8s")
_WRITE_BUFFER = 1 << 20


@dataclass(slots=True)
class Snapshot:
    lsn: int = 0
    seq: int = 0
    concepts: list[Concept] = field(default_factory=list)
    associations: list[Association] = field(default_factory=list)


def write_snapshot(
    path: Path, *, lsn: int, seq: int, concepts: Iterable[Concept], associations: Iterable[Association]
) -> int:
    """Atomically replace the snapshot at `path`; return its size in bytes."""
    concepts, associations = list(concepts), list(associations)
    crc = length = 0
    with atomic_writer(path) as f:
        f.write(HEADER.pack(MAGIC, SNAPSHOT_VERSION))
        chunks: list[bytes] = []

        def emit(record: object) -> None:
            nonlocal crc, length
            chunk = pack(record)
            crc, length = zlib.crc32(chunk, crc), length + len(chunk)
            chunks.append(chunk)
            if len(chunks) >= 512:  # a few large writes instead of one per record
                f.write(b"".join(chunks))
                chunks.clear()

        emit({"lsn": lsn, "seq": seq, "concepts": len(concepts), "associations": len(associations)})
        for c in concepts:
            emit(concept_to_dict(c, with_seq=True))
        for a in associations:
            emit(association_to_dict(a, with_seq=True))
        f.write(b"".join(chunks))
        f.write(TRAILER.pack(crc, length, END))
    return HEADER.size + length + TRAILER.size


def read_snapshot(path: Path) -> Snapshot | None:
    """The snapshot at `path`, None if there is none; `CorruptionError`/`ConfigError` if it cannot be used."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    if len(data) < HEADER.size + TRAILER.size or data[:8] != MAGIC:
        raise _corrupt(path, "it does not start with a Sutra snapshot header")
    _, version = HEADER.unpack_from(data)
    if version > SNAPSHOT_VERSION:
        raise ConfigError(
            f"{path} has snapshot format {version}, newer than this Sutra reads ({SNAPSHOT_VERSION}); "
            "upgrade Sutra to open this data directory."
        )
    crc, length, end = TRAILER.unpack_from(data, len(data) - TRAILER.size)
    body = data[HEADER.size : len(data) - TRAILER.size]
    if end != END or length != len(body):
        raise _corrupt(path, "it is truncated (the end marker or length is wrong)")
    if zlib.crc32(body) != crc:
        raise _corrupt(path, "its checksum does not match")
    try:
        return _decode(body)
    except (CodecError, KeyError, TypeError, ValueError, StopIteration) as exc:
        raise _corrupt(path, f"its checksum matches but its content is invalid ({exc})") from exc


def _decode(body: bytes) -> Snapshot:
    records = msgpack.Unpacker(raw=False, strict_map_key=False, max_buffer_size=len(body) + 1)
    records.feed(body)
    header = next(records)
    snap = Snapshot(lsn=int(header["lsn"]), seq=int(header["seq"]))
    snap.concepts = [concept_from_dict(next(records)) for _ in range(header["concepts"])]
    snap.associations = [association_from_dict(next(records)) for _ in range(header["associations"])]
    return snap


def _corrupt(path: Path, why: str) -> CorruptionError:
    return CorruptionError(
        f"the snapshot {path} cannot be read: {why}. Restore the data directory from a backup; if its WAL "
        "still holds the full history (no checkpoint was ever taken), moving the snapshot away recovers it."
    )
