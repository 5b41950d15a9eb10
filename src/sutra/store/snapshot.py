"""Snapshots: the whole graph as of one LSN, written atomically, so the WAL before it can be dropped.

Layout (format 4)::

    b"SUTRASNP" | u32 format version
    body: sections, one after another, then a msgpack footer and its u32 length
    u32 crc32(body) | u64 body length | b"SUTRAEND"

The footer holds lsn, seq, record counts, the vector file entry, the record field names and where each
section lies in the body. Sections:

- `concept_rows` / `association_rows`: every record as a packed positional row (field names in the footer,
  see `codec.CONCEPT_ROW`), in `seq` order; `*_offsets`: where each row starts (little-endian u64, one more
  than there are rows); `*_ids`: the ids in the same order.
- columns, one byte per row: a concept's kind and semantic type, an association's type and whether it is
  current (the values each byte stands for are in the footer), so filters and counts need no decoding.
- `index_<name>_*`: each of the graph's own indexes (adjacency by type, records by source, statement
  citations) as keyed rows too (ids, offsets, one packed entry per key), so an entry is decoded when used;
  `entities`: the entity-name index, `concept_vector_rows`: each concept's row in the vector file (i32,
  -1 for none; a concept row's vector field is then True).

Opening memory-maps the file and decodes only ids, offsets, columns and indexes: records stay packed until
first read (`records.RecordTable`), which is what lets a million-concept store open in seconds. The indexes
are rebuilt from the records by the writer (a fresh `Graph.load`), so they are exactly what loading every
record would build, and `Store.check()` compares them with the records.

The vectors are not in this file but in `snapshot.<lsn>.npy` beside it, one row per concept with a vector
(a concept row holds its row number in the vector field), in the space's vector dtype. Opening memory-maps
that file (`np.load(mmap_mode="r")`), so a cold start neither decodes nor copies the vectors; the footer's
"vectors" entry gives its name, rows, dtype and crc32, checked on load. The .npy is written and renamed
into place before snapshot.bin, which is the commit point; older .npy files are removed after it.

Formats 1 to 3 (a header map then records as maps or rows, decoded whole on open) are still read.

The trailer makes a truncated or damaged snapshot detectable (`CorruptionError`); a newer format version is a
`ConfigError` that says to upgrade. Replacing the file is atomic (temp file, fsync, rename, directory fsync):
after a crash there is either the old snapshot or the new one, never half of one. Recovery replays only WAL
frames with an LSN above the snapshot's, so a crash between the rename and the WAL truncation is harmless.
A record whose checksum matches but whose fields are ill-typed (a hand edit) is a `CorruptionError` when it
is first read.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import re
import struct
import zlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import msgpack
import numpy as np

from sutra.errors import ConfigError, CorruptionError
from sutra.model import Association, AssociationType, Concept, ConceptKind, SemanticType
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
    unpack,
    vector_from_bytes,
    vector_to_bytes,
)
from sutra.store.entity_index import EntityIndex
from sutra.store.fsutil import TMP_SUFFIX, atomic_writer, fsync_dir
from sutra.store.graph import Graph
from sutra.store.records import RecordTable, RowSource
from sutra.store.vectors.storage import DEFAULT_VECTOR_DTYPE, encode_rows, numpy_dtype

SNAPSHOT_NAME = "snapshot.bin"
SNAPSHOT_VERSION = 4
VECTOR_FILE = re.compile(r"snapshot\.\d+\.npy")  # exactly the names `write_snapshot` gives vector files
_ROWS_PER_CHUNK = 8192
MAGIC, END = b"SUTRASNP", b"SUTRAEND"
HEADER = struct.Struct("<8sI")
TRAILER = struct.Struct("<IQ8s")
FOOTER_LENGTH = struct.Struct("<I")
_OFFSET = np.dtype("<u8")
_VECTOR_ROW = np.dtype("<i4")  # per concept row: its row in the vector file, -1 for none
# The graph's own indexes, saved as keyed rows (`Graph.saved_indexes`).
INDEXES = ("out", "in", "concepts_by_source", "associations_by_source", "cited_by", "supported_by")
# The one-byte columns: (table, field) -> the values their bytes stand for, in this order.
COLUMNS: dict[tuple[str, str], list[Any]] = {
    ("concept", "kind"): list(ConceptKind),
    ("concept", "semantic_type"): list(SemanticType),
    ("association", "type"): list(AssociationType),
    ("association", "current"): [False, True],
}


@dataclass(slots=True)
class Snapshot:
    """A read snapshot. Format 4 also carries the graph's indexes, the entity index, the vector ids and
    the memory-mapped vector rows, and its tables decode records on first read; older formats are decoded
    whole (then `indexes`, `entities`, `vector_ids` and `vectors` are None)."""

    lsn: int = 0
    seq: int = 0
    concept_table: RecordTable = field(default_factory=RecordTable)
    association_table: RecordTable = field(default_factory=RecordTable)
    indexes: dict[str, Any] | None = None
    entities: dict[str, Any] | None = None
    vector_ids: tuple[str, ...] | None = None
    vectors: np.ndarray | None = None  # the vector file's rows, memory-mapped, in `vector_ids` order
    dim: int | None = None

    @property
    def concepts(self) -> list[Concept]:
        return list(self.concept_table.values())

    @property
    def associations(self) -> list[Association]:
        return list(self.association_table.values())


def write_snapshot(
    path: Path,
    *,
    lsn: int,
    seq: int,
    concepts: Iterable[Concept],
    associations: Iterable[Association],
    vector_dtype: str = DEFAULT_VECTOR_DTYPE,
) -> int:
    """`write_graph_snapshot` of these records (an import, a test): their indexes are built here first,
    by the code that builds them when records are loaded."""
    graph = Graph()
    graph.load(concepts, associations, seq)
    entities = EntityIndex.build(graph.concepts.values()).saved()
    return write_graph_snapshot(
        path, lsn=lsn, seq=seq, graph=graph, entities=entities, vector_dtype=vector_dtype
    )


def write_graph_snapshot(
    path: Path,
    *,
    lsn: int,
    seq: int,
    graph: Graph,
    entities: dict[str, list[str]],
    vector_dtype: str = DEFAULT_VECTOR_DTYPE,
) -> int:
    """Atomically replace the snapshot at `path` (and its vector file) with `graph`; return its size.

    `graph` may be a store's live graph while nothing writes to it (a checkpoint holds writers back;
    readers may decode records meanwhile, which changes nothing saved). Records and index entries not
    decoded since the store opened are copied as they were packed, their vectors from the old vector file."""
    concepts, associations = graph.concepts.entries(), graph.associations.entries()
    old_concepts, old_associations = graph.concepts.source, graph.associations.source
    vectors = [old_concepts.vector(v) if type(v) is int else v.vector for _, v in concepts]  # type: ignore[union-attr]
    # A store holds one dimension; a vector of another (only ever hand-built) stays inline as float32 bytes.
    dim = next((v.size for v in vectors if v is not None), None)
    in_file = np.array([v is not None and v.size == dim for v in vectors], dtype=bool)
    vector_rows = np.full(len(concepts), -1, dtype=_VECTOR_ROW)
    vector_rows[in_file] = np.arange(int(in_file.sum()), dtype=_VECTOR_ROW)
    kept = [v for v, keep in zip(vectors, in_file.tolist(), strict=True) if keep]
    vector_file = _write_vectors(path.parent, lsn, kept, vector_dtype) if kept else None
    del vectors, kept

    def concept_rows() -> Iterator[bytes]:
        for (_, c), filed in zip(concepts, in_file.tolist(), strict=True):
            if type(c) is int:
                yield old_concepts.packed(c)  # type: ignore[union-attr]
            else:
                yield pack(concept_to_row(c, True if filed else vector_to_bytes(c.vector)))

    def association_rows() -> Iterator[bytes]:
        for _, a in associations:
            yield old_associations.packed(a) if type(a) is int else pack(association_to_row(a))  # type: ignore[union-attr]

    with atomic_writer(path) as f:
        f.write(HEADER.pack(MAGIC, SNAPSHOT_VERSION))
        body = _Body(f)
        body.rows("concept", concept_rows())
        body.rows("association", association_rows())
        body.section("concept_ids", pack([key for key, _ in concepts]))
        body.section("association_ids", pack([key for key, _ in associations]))
        for (table, name), values in COLUMNS.items():
            entries, old = (
                (concepts, old_concepts) if table == "concept" else (associations, old_associations)
            )
            code = {v: i for i, v in enumerate(values)}
            old_codes = old.columns[name][0] if old is not None else None
            body.section(
                f"{table}_{name}",
                bytes(old_codes[r] if type(r) is int else code[getattr(r, name)] for _, r in entries),  # type: ignore[index]
            )
        for name, index in graph.packed_indexes().items():  # keyed rows too: read per key when needed
            keys, packed = zip(*index, strict=True) if index else ((), ())
            body.rows(f"index_{name}", packed)
            body.section(f"index_{name}_ids", pack(list(keys)))
        body.section("entities", pack(entities))
        body.section("concept_vector_rows", vector_rows.tobytes())
        footer = pack(
            {
                "lsn": lsn,
                "seq": seq,
                "concepts": len(concepts),
                "associations": len(associations),
                "vectors": vector_file,
                "concept_fields": list(CONCEPT_ROW),
                "association_fields": list(ASSOCIATION_ROW),
                "columns": _column_values(),
                "sections": body.sections,
            }
        )
        body.write(footer)
        body.write(FOOTER_LENGTH.pack(len(footer)))
        f.write(TRAILER.pack(body.crc, body.length, END))
    keep = vector_file["file"] if vector_file else None
    for old_file in path.parent.iterdir():
        if VECTOR_FILE.fullmatch(old_file.name) and old_file.name != keep:
            with contextlib.suppress(FileNotFoundError):
                old_file.unlink()  # a reader that memory-mapped it keeps its pages until it closes
    return HEADER.size + body.length + TRAILER.size


def _column_values() -> dict[str, tuple[str, ...]]:
    return {f"{table}_{name}": tuple(str(v) for v in values) for (table, name), values in COLUMNS.items()}


class _Body:
    """Writes the body's sections, keeping its crc32, its length and where each section lies."""

    def __init__(self, f: BinaryIO) -> None:
        self._f, self.crc, self.length = f, 0, 0
        self.sections: dict[str, list[int]] = {}

    def write(self, chunk: bytes) -> None:
        self._f.write(chunk)
        self.crc, self.length = zlib.crc32(chunk, self.crc), self.length + len(chunk)

    def section(self, name: str, data: bytes) -> None:
        self.sections[name] = [self.length, self.length + len(data)]
        self.write(data)

    def rows(self, table: str, packed_rows: Iterable[bytes]) -> None:
        """One section of packed rows and one of their offsets; rows are written a few hundred at a time."""
        start, offsets, chunk = self.length, [0], []
        size = 0
        for data in packed_rows:
            size += len(data)
            offsets.append(size)
            chunk.append(data)
            if len(chunk) >= 512:
                self.write(b"".join(chunk))
                chunk.clear()
        self.write(b"".join(chunk))
        self.sections[f"{table}_rows"] = [start, self.length]
        self.section(f"{table}_offsets", np.array(offsets, dtype=_OFFSET).tobytes())


def _write_vectors(directory: Path, lsn: int, vectors: list[np.ndarray], dtype: str) -> dict[str, Any]:
    """Write `vectors` as one .npy matrix, atomically; return its footer entry.

    Filled in chunks through a memory map, so a million vectors never need a second copy in memory."""
    name = f"snapshot.{lsn}.npy"
    target = directory / name
    tmp = target.with_name(name + TMP_SUFFIX)
    dim = vectors[0].size
    crc = 0
    try:
        matrix = np.lib.format.open_memmap(
            tmp, mode="w+", dtype=numpy_dtype(dtype), shape=(len(vectors), dim)
        )
        for start in range(0, len(vectors), _ROWS_PER_CHUNK):
            chunk = vectors[start : start + _ROWS_PER_CHUNK]
            block = np.stack(chunk)
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
    return {"file": name, "rows": len(vectors), "dim": dim, "dtype": dtype, "crc": crc}


def read_snapshot(path: Path) -> Snapshot | None:
    """The snapshot at `path`, None if there is none; `CorruptionError`/`ConfigError` if it cannot be used."""
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size < HEADER.size + TRAILER.size:
                raise _corrupt(path, "it is too short to be a Sutra snapshot")
            data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    except FileNotFoundError:
        return None
    if data[:8] != MAGIC:
        raise _corrupt(path, "it does not start with a Sutra snapshot header")
    _, version = HEADER.unpack_from(data)
    if version > SNAPSHOT_VERSION:
        raise ConfigError(
            f"{path} has snapshot format {version}, newer than this Sutra reads ({SNAPSHOT_VERSION}); "
            "upgrade Sutra to open this data directory."
        )
    crc, length, end = TRAILER.unpack_from(data, len(data) - TRAILER.size)
    body = memoryview(data)[HEADER.size : len(data) - TRAILER.size]
    if end != END or length != len(body):
        raise _corrupt(path, "it is truncated (the end marker or length is wrong)")
    checks = _Checksums()  # format 4 is checked on a thread while its sections are decoded
    checks.add(body, crc, "its checksum does not match")
    try:
        if version >= 4:
            return _open_sections(body, path, checks)
        checks.verify(path)
        return _decode(bytes(body), path)
    except CorruptionError:
        checks.verify(path)  # damaged bytes are reported as damage, not as the problem they caused
        raise
    except (CodecError, KeyError, TypeError, ValueError, StopIteration, IndexError, struct.error) as exc:
        checks.verify(path)
        raise _corrupt(path, f"its checksum matches but its content is invalid ({exc})") from exc


class _Checksums:
    """crc32 checks run on a thread (zlib releases the GIL for large buffers) while the caller decodes;
    `verify` waits for them and raises the first mismatch."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="sutra-snapshot-crc")
        self._jobs: list[tuple[Future[int], int, str]] = []

    def add(self, data: Any, expected: int, why: str) -> None:
        self._jobs.append((self._pool.submit(zlib.crc32, data), expected, why))

    def verify(self, path: Path) -> None:
        self._pool.shutdown(wait=False)
        for job, expected, why in self._jobs:
            if job.result() != expected:
                raise _corrupt(path, why)


def _open_sections(body: memoryview, path: Path, checks: _Checksums) -> Snapshot:
    """A format-4 snapshot: ids, offsets, columns and indexes decoded; the rows left packed in the map."""
    (footer_length,) = FOOTER_LENGTH.unpack_from(body, len(body) - FOOTER_LENGTH.size)
    footer_start = len(body) - FOOTER_LENGTH.size - footer_length
    if footer_start < 0:
        raise CodecError("its footer is longer than the file")
    footer = _unpack(body[footer_start : len(body) - FOOTER_LENGTH.size])  # arrays come back as tuples
    if footer["concept_fields"] != CONCEPT_ROW or footer["association_fields"] != ASSOCIATION_ROW:
        raise CodecError("its rows were written with other record fields than this Sutra's")
    if footer["columns"] != _column_values():
        raise CodecError("its columns were written with other values than this Sutra's")

    def section(name: str) -> memoryview:
        start, stop = footer["sections"][name]
        if not 0 <= start <= stop <= footer_start:
            raise CodecError(f"its section {name} lies outside the body")
        return body[start:stop]

    vectors = _read_vectors(path, footer["vectors"], checks) if footer["vectors"] else None

    def keyed_rows(
        name: str, count: int | None, decode: Callable[[memoryview, str | None, int], Any]
    ) -> tuple[tuple[str, ...], RowSource]:
        """The rows of section `name` and the ids they are stored under (checked against each other)."""
        ids = _unpack(section(f"{name}_ids"))
        offsets = np.frombuffer(section(f"{name}_offsets"), dtype=_OFFSET)
        rows = section(f"{name}_rows")
        count = len(ids) if count is None else count
        if len(ids) != count or len(offsets) != count + 1 or (count and int(offsets[-1]) != len(rows)):
            raise CodecError(f"its {name} sections do not hold the {count} rows the footer gives")
        if count and (offsets[0] != 0 or np.any(np.diff(offsets.astype(np.int64)) <= 0)):
            raise CodecError(f"its {name} row offsets are not increasing")
        return ids, RowSource(rows, offsets, decode, {})

    # each concept row's row in the vector file (-1: none), in order: the vector file is in concept order
    vector_rows = np.frombuffer(section("concept_vector_rows"), dtype=_VECTOR_ROW)
    filed = np.flatnonzero(vector_rows >= 0)
    rows_in_file = 0 if vectors is None else len(vectors)
    if len(vector_rows) != footer["concepts"] or not np.array_equal(
        vector_rows[filed], np.arange(rows_in_file)
    ):
        raise CodecError("its concept vector rows do not match its vector file")
    tables = {}
    for table, count, decode in (
        ("concept", footer["concepts"], _row_decoder(path, _checked_concept(vector_rows, vectors))),
        ("association", footer["associations"], _row_decoder(path, lambda row, i: _checked_association(row))),
    ):
        ids, source = keyed_rows(table, count, decode)
        if table == "concept" and vectors is not None:
            source.vectors = (vector_rows, vectors)
        for (owner, name), values in COLUMNS.items():
            if owner == table:
                codes = np.frombuffer(section(f"{table}_{name}"), dtype=np.uint8)
                if len(codes) != count or (count and int(codes.max()) >= len(values)):
                    raise CodecError(f"its {table} {name} column does not fit its rows")
                source.columns[name] = (codes, values)
        tables[table] = RecordTable(source, ids)
    indexes = {}
    for name in INDEXES:
        ids, source = keyed_rows(f"index_{name}", None, _index_decoder(path, adjacency=name in ("out", "in")))
        indexes[name] = RecordTable(source, ids)
    concept_ids = list(tables["concept"])
    if (
        type(footer["lsn"]) is not int
        or type(footer["seq"]) is not int
        or min(footer["lsn"], footer["seq"]) < 0
    ):
        raise CodecError("its footer's lsn and seq are not counts")
    snap = Snapshot(
        lsn=footer["lsn"],
        seq=footer["seq"],
        concept_table=tables["concept"],
        association_table=tables["association"],
        indexes=indexes,
        entities=_unpack(section("entities")),
        vector_ids=tuple([concept_ids[i] for i in filed.tolist()]),
        vectors=vectors,
        dim=footer["vectors"]["dim"] if footer["vectors"] else None,
    )
    checks.verify(path)
    return snap


def _unpack(data: memoryview) -> Any:
    """Arrays as tuples: what is loaded from a snapshot is shared, never changed in place."""
    try:
        return msgpack.unpackb(data, raw=False, use_list=False, strict_map_key=False)
    except Exception as exc:  # checksummed bytes that still do not decode: msgpack raises several types
        raise CodecError(f"a section is not valid msgpack ({exc})") from exc


def _row_decoder(
    path: Path, build: Callable[[Any, int], Any]
) -> Callable[[memoryview, str | None, int], Any]:
    """Packed row i -> checked record (`build`), its id compared with the one it is stored under; any
    failure as the `CorruptionError` that names the file."""

    def decode(data: memoryview, key: str | None, i: int) -> Any:
        try:
            record = build(unpack(data), i)
            if key is not None and record.id != key:
                raise CodecError(f"the row stored under {key!r} holds {record.id!r}")
            return record
        except (CodecError, TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:
            why = f"its checksum matches but a record holds a value no store writes ({exc})"
            raise _corrupt(path, why) from exc

    return decode


def _index_decoder(path: Path, *, adjacency: bool) -> Callable[[memoryview, str | None, int], Any]:
    """One key's entry of a saved graph index: a tuple of ids, or (adjacency) a map of type -> ids."""

    def ids(value: Any) -> bool:
        return type(value) is tuple and all(type(i) is str for i in value)

    def decode(data: memoryview, key: str | None, i: int) -> Any:
        value = _unpack(data)
        if adjacency:
            good = type(value) is dict and all(t in _TYPES and ids(v) for t, v in value.items())
        else:
            good = ids(value)
        if not good:
            raise _corrupt(
                path, f"its checksum matches but its graph index entry for {key!r} is not one it writes"
            )
        return value

    return decode


_TYPES = frozenset(t.value for t in AssociationType)


def _checked_concept(vector_rows: np.ndarray, vectors: np.ndarray | None) -> Callable[[Any, int], Concept]:
    """Row i -> its concept; a vector field of True means row `vector_rows[i]` of the vector file."""

    def build(row: Any, i: int) -> Concept:
        concept = concept_from_row(row)
        stored, filed = concept.vector, int(vector_rows[i])
        if stored is True and filed >= 0 and vectors is not None:
            concept.vector = vectors[filed]
        elif stored is True or filed >= 0:
            raise CodecError(f"concept {concept.id!r} and the vector rows disagree about its vector")
        else:
            concept.vector = vector_from_bytes(stored)  # a vector of another dimension, kept inline
        _check_types(concept, concept.aliases)
        return concept

    return build


def _checked_association(row: Any) -> Association:
    association = association_from_row(row)
    _check_types(association, association.statements)
    return association


def _check_types(record: Concept | Association, names: list[str]) -> None:
    """Rows are checked as they are decoded (not all at open): every field's type, as `apply` stores it."""
    strings = [record.id, *record.sources, *names]
    optional = [record.valid_from, record.valid_to]
    numbers = [record.confidence, record.strength, record.recorded_at]
    if isinstance(record, Concept):
        strings += [record.text, record.domain]
    else:
        strings += [record.source, record.target, record.relation]
        history = record.history
        if (
            type(record.negated) is not bool
            or type(history) is not list
            or type(record.closed_seq) not in _SEQ
        ):
            raise CodecError(f"record {record.id!r} holds an ill-typed negation, history or closing")
        if not all(type(h) is list and len(h) == 2 and type(h[0]) is int for h in history):
            raise CodecError(f"record {record.id!r} holds an ill-typed history entry")
    lists = type(record.sources) is list and type(names) is list
    if not lists or not all(type(s) is str for s in strings) or not all(type(s) in _TEXT for s in optional):
        raise CodecError(f"record {record.id!r} holds an id, text, time or name that is not a string")
    if not all(type(n) in _NUMBER for n in numbers) or type(record.attrs) is not dict:
        raise CodecError(f"record {record.id!r} holds an ill-typed number or attrs")
    if (
        type(record.seq) is not int
        or type(record.last_seq) is not int
        or not all(type(k) is str for k in record.attrs)
    ):
        raise CodecError(f"record {record.id!r} holds ill-typed attrs or sequence numbers")


_SEQ = (int, type(None))
_TEXT = (str, type(None))
_NUMBER = (int, float)


def _decode(body: bytes, path: Path) -> Snapshot:
    """Formats 1 to 3: every record decoded now."""
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
        snap.concept_table = RecordTable.of(
            [_with_vector(concept_from_row(row), vectors) for row in concept_records]
        )
        snap.association_table = RecordTable.of([association_from_row(row) for row in association_records])
        return snap
    concepts = []
    for record in concept_records:
        concept = concept_from_dict(record)
        row = record.get("vrow")
        if row is not None:
            concept.vector = _vector_row(concept, row, vectors)
        concepts.append(concept)
    snap.concept_table = RecordTable.of(concepts)
    snap.association_table = RecordTable.of([association_from_dict(record) for record in association_records])
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


def _read_vectors(path: Path, entry: dict[str, Any], checks: _Checksums | None = None) -> np.ndarray:
    """The snapshot's vector matrix, memory-mapped read-only, after checking its shape and type; its crc32
    now, or by `checks` on their thread."""
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
    why = f"the checksum of its vector file {file} does not match"
    if checks is not None:
        checks.add(matrix, entry["crc"], why)
    elif zlib.crc32(matrix) != entry["crc"]:
        raise _corrupt(path, why)
    return matrix.view(np.ndarray)  # same mapped pages; rows of a plain array are ~50x cheaper to slice


def _corrupt(path: Path, why: str) -> CorruptionError:
    return CorruptionError(
        f"the snapshot {path} cannot be read: {why}. Restore the data directory from a backup; if its WAL "
        "still holds the full history (no checkpoint was ever taken), moving the snapshot away recovers it."
    )
