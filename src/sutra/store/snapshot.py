"""Snapshots: the whole graph as of one LSN, written atomically, so the WAL before it can be dropped.

Layout::

    b"SUTRASNP" | u32 format version
    msgpack stream: {"lsn", "seq", "concepts": n, "associations": n, "vectors", "layout": "rows",
                     "concept_fields": [...], "association_fields": [...]},
                    an array of n concept rows, an array of n association rows
    u32 crc32(stream) | u64 stream length | b"SUTRAEND"

Records are written in `seq` order, which is the order the graph keeps them in, so loading needs no sort.
Since format 3 each record is a positional row (field names in the header, see `codec.CONCEPT_ROW`), which
decodes several times faster than a map; format 2's maps (layout "arrays", or one object per record)
are still read.

Since format 2 the vectors are not inside the msgpack stream but in `snapshot.<lsn>.npy` beside it, one row
per concept with a vector (a concept row holds its row number in the vector field; a map named it "vrow"),
in the space's vector dtype. Opening memory-maps that file (`np.load(mmap_mode="r")`), so a cold start
neither decodes nor copies the vectors; the header's "vectors" entry gives its name, rows, dtype and crc32,
checked on load. The .npy is written and renamed into place before snapshot.bin, which is the commit point;
older .npy files are removed after it. Format 1 snapshots (vectors inline as float32 bytes) are still read.

The trailer makes a truncated or damaged snapshot detectable (`CorruptionError`); a newer format version is a
`ConfigError` that says to upgrade. Replacing the file is atomic (temp file, fsync, rename, directory fsync):
after a crash there is either the old snapshot or the new one, never half of one. Recovery replays only WAL
frames with an LSN above the snapshot's, so a crash between the rename and the WAL truncation is harmless.
"""

from __future__ import annotations

import contextlib
import os
import re
import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgpack
import numpy as np

from sutra.errors import ConfigError, CorruptionError
from sutra.model import Association, Concept
from sutra.store.codec import (
    ASSOCIATION_ROW,
    CONCEPT_ROW,
    CodecError,
    association_from_dict,
    association_from_row,
    association_to_row,
    concept_from_dict,
    concept_from_row,
    concept_to_row,
    pack,
    vector_from_bytes,
    vector_to_bytes,
)
from sutra.store.fsutil import TMP_SUFFIX, atomic_writer, fsync_dir
from sutra.store.vectors.storage import DEFAULT_VECTOR_DTYPE, encode_rows, numpy_dtype

SNAPSHOT_NAME = "snapshot.bin"
SNAPSHOT_VERSION = 3
VECTOR_FILE = re.compile(r"snapshot\.\d+\.npy")  # exactly the names `write_snapshot` gives vector files
_ROWS_PER_CHUNK = 8192
_ARRAY = msgpack.Packer()  # only for array headers, which carry no state
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
    path: Path,
    *,
    lsn: int,
    seq: int,
    concepts: Iterable[Concept],
    associations: Iterable[Association],
    vector_dtype: str = DEFAULT_VECTOR_DTYPE,
) -> int:
    """Atomically replace the snapshot at `path` (and its vector file); return its size in bytes.

    The records may be a frozen copy of a live graph: nothing here takes a lock or changes them."""
    concepts, associations = list(concepts), list(associations)
    # A store holds one dimension; a vector of another (only ever hand-built) stays inline as float32 bytes.
    dims = [c.vector.size for c in concepts if c.vector is not None]
    with_vectors = [c for c in concepts if c.vector is not None and c.vector.size == dims[0]]
    vectors = _write_vectors(path.parent, lsn, with_vectors, vector_dtype) if with_vectors else None
    rows = {id(c): row for row, c in enumerate(with_vectors)}
    crc = length = 0
    with atomic_writer(path) as f:
        f.write(HEADER.pack(MAGIC, SNAPSHOT_VERSION))
        chunks: list[bytes] = []

        def emit(record: object, *, packed: bytes | None = None) -> None:
            nonlocal crc, length
            chunk = pack(record) if packed is None else packed
            crc, length = zlib.crc32(chunk, crc), length + len(chunk)
            chunks.append(chunk)
            if len(chunks) >= 512:  # a few large writes instead of one per record
                f.write(b"".join(chunks))
                chunks.clear()

        emit(
            {
                "lsn": lsn,
                "seq": seq,
                "concepts": len(concepts),
                "associations": len(associations),
                "vectors": vectors,
                "layout": "rows",
                "concept_fields": list(CONCEPT_ROW),
                "association_fields": list(ASSOCIATION_ROW),
            }
        )
        emit(None, packed=_ARRAY.pack_array_header(len(concepts)))
        for c in concepts:
            row = rows.get(id(c))
            emit(concept_to_row(c, vector_to_bytes(c.vector) if row is None else row))
        emit(None, packed=_ARRAY.pack_array_header(len(associations)))
        for a in associations:
            emit(association_to_row(a))
        f.write(b"".join(chunks))
        f.write(TRAILER.pack(crc, length, END))
    keep = vectors["file"] if vectors else None
    for old in path.parent.iterdir():
        if VECTOR_FILE.fullmatch(old.name) and old.name != keep:
            with contextlib.suppress(FileNotFoundError):
                old.unlink()  # a reader that memory-mapped it keeps its pages until it closes
    return HEADER.size + length + TRAILER.size


def _write_vectors(directory: Path, lsn: int, concepts: list[Concept], dtype: str) -> dict[str, Any]:
    """Write the vectors of `concepts` as one .npy matrix, atomically; return its header entry.

    Filled in chunks through a memory map, so a million vectors never need a second copy in memory."""
    name = f"snapshot.{lsn}.npy"
    target = directory / name
    tmp = target.with_name(name + TMP_SUFFIX)
    dim = concepts[0].vector.size  # type: ignore[union-attr]
    crc = 0
    try:
        matrix = np.lib.format.open_memmap(
            tmp, mode="w+", dtype=numpy_dtype(dtype), shape=(len(concepts), dim)
        )
        for start in range(0, len(concepts), _ROWS_PER_CHUNK):
            chunk = [c.vector for c in concepts[start : start + _ROWS_PER_CHUNK]]
            block = np.stack(chunk)  # type: ignore[arg-type]
            if block.dtype != matrix.dtype:  # held in another form (a float32 view): convert once here
                block = encode_rows(block.astype(np.float32), dtype)
            matrix[start : start + len(chunk)] = block
            crc = zlib.crc32(np.ascontiguousarray(block), crc)
        matrix.flush()
        del matrix
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    fsync_dir(directory)
    return {"file": name, "rows": len(concepts), "dim": dim, "dtype": dtype, "crc": crc}


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
        return _decode(body, path)
    except (CodecError, KeyError, TypeError, ValueError, StopIteration, IndexError) as exc:
        raise _corrupt(path, f"its checksum matches but its content is invalid ({exc})") from exc


def _decode(body: bytes, path: Path) -> Snapshot:
    records = msgpack.Unpacker(raw=False, strict_map_key=False, max_buffer_size=len(body) + 1)
    records.feed(body)
    header = next(records)
    snap = Snapshot(lsn=int(header["lsn"]), seq=int(header["seq"]))
    vectors = _read_vectors(path, header["vectors"]) if header.get("vectors") else None
    n_concepts, n_associations = header["concepts"], header["associations"]
    layout = header.get("layout")
    if layout in ("rows", "arrays"):  # two msgpack arrays, each decoded in one call into C
        concept_records, association_records = next(records), next(records)
        if len(concept_records) != n_concepts or len(association_records) != n_associations:
            raise CodecError("the record arrays do not hold the counts the header gives")
    else:  # one msgpack object per record (the first format-2 snapshots)
        concept_records = (next(records) for _ in range(n_concepts))
        association_records = (next(records) for _ in range(n_associations))
    if layout == "rows":
        if header.get("concept_fields") != list(CONCEPT_ROW) or header.get("association_fields") != list(
            ASSOCIATION_ROW
        ):
            raise CodecError("its rows were written with other record fields than this Sutra's")
        snap.concepts = [_with_vector(concept_from_row(row), vectors) for row in concept_records]
        snap.associations = [association_from_row(row) for row in association_records]
        return snap
    concepts = []
    for record in concept_records:
        concept = concept_from_dict(record)
        row = record.get("vrow")
        if row is not None:
            concept.vector = _vector_row(concept, row, vectors)
        concepts.append(concept)
    snap.concepts = concepts
    snap.associations = [association_from_dict(record) for record in association_records]
    return snap


def _with_vector(concept: Concept, vectors: np.ndarray | None) -> Concept:
    """Resolve a row's vector field: a row of the vector file, inline float32 bytes, or None."""
    stored = concept.vector
    if stored is not None:
        concept.vector = (
            _vector_row(concept, stored, vectors) if type(stored) is int else vector_from_bytes(stored)
        )
    return concept


def _vector_row(concept: Concept, row: Any, vectors: np.ndarray | None) -> np.ndarray:
    if vectors is None or not isinstance(row, int) or not 0 <= row < len(vectors):
        raise CodecError(f"concept {concept.id} names vector row {row}, which the vector file lacks")
    return vectors[row]


def _read_vectors(path: Path, entry: dict[str, Any]) -> np.ndarray:
    """The snapshot's vector matrix, memory-mapped read-only, after checking its shape, type and crc32."""
    name = entry["file"]
    if not isinstance(name, str) or not VECTOR_FILE.fullmatch(name):
        raise CodecError(f"the vector file name {name!r} is not one a snapshot writes")
    file = path.parent / name
    try:
        matrix = np.load(file, mmap_mode="r", allow_pickle=False)
    except FileNotFoundError:
        raise _corrupt(path, f"its vector file {file} is missing") from None
    except (OSError, ValueError) as exc:
        raise _corrupt(path, f"its vector file {file} cannot be read ({exc})") from exc
    if matrix.shape != (entry["rows"], entry["dim"]) or matrix.dtype != numpy_dtype(entry["dtype"]):
        raise _corrupt(
            path, f"its vector file {file} has shape {matrix.shape} {matrix.dtype}, not the recorded one"
        )
    if zlib.crc32(matrix) != entry["crc"]:
        raise _corrupt(path, f"the checksum of its vector file {file} does not match")
    return matrix.view(np.ndarray)  # same mapped pages; rows of a plain array are ~50x cheaper to slice


def _corrupt(path: Path, why: str) -> CorruptionError:
    return CorruptionError(
        f"the snapshot {path} cannot be read: {why}. Restore the data directory from a backup; if its WAL "
        "still holds the full history (no checkpoint was ever taken), moving the snapshot away recovers it."
    )
