"""A portable JSONL dump of a whole store: `export_store` writes it, `import_dump` makes a new space of it.

Format (one JSON object per line, UTF-8)::

    {"format": "sutra-dump", "version": 1, "dim", "vector_dtype", "vectors": bool, "lsn", "seq",
     "concepts": n, "associations": n, "sources": n}
    {"record": "concept", ...every field, "seq", "last_seq", "vector": base64 of float32 little-endian | null}
    {"record": "association", ...every field, "seq", "last_seq", "closed_seq", "history"}
    {"record": "source", "id", "concepts": n, "associations": n}     what cites each source id

Records keep the store's own order numbers (`seq`, history), so an import is the same store, not a re-learn
of it: every concept and association compares equal and searches give the same results. The source lines
are a readable index of provenance; the importer checks them against the records. Vectors are optional
(`vectors=False` writes null): such a dump restores everything but vector search.

The export is read from a frozen view of the store (`LocalStore.frozen`), so it is one consistent state
even while writers go on, and it is written to a temporary file renamed into place. The import checks every
line before writing anything (a bad line is an `InputError` naming `file:line`), writes the snapshot and
manifest into a temporary directory next to the target, opens it once to verify it (`check()`), and only
then renames it into place: the target is either the whole imported space or untouched.
"""

from __future__ import annotations

import base64
import binascii
import os
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from sutra.errors import InputError, IntegrityError, StorageError
from sutra.model import Association, Concept, PutAssociation, PutConcept
from sutra.store import manifest as manifest_file
from sutra.store import wal
from sutra.store.base import Store
from sutra.store.batch import encode_batch
from sutra.store.codec import (
    VECTOR_DTYPE,
    CodecError,
    association_from_dict,
    association_to_dict,
    concept_from_dict,
    concept_to_dict,
)
from sutra.store.fsutil import atomic_writer, fsync_dir
from sutra.store.layout import WAL_NAME
from sutra.store.snapshot import SNAPSHOT_NAME, write_snapshot
from sutra.store.vectors import storage as vector_storage

DUMP_FORMAT = "sutra-dump"
DUMP_VERSION = 1


@dataclass(slots=True)
class DumpReport:
    path: str
    concepts: int
    associations: int
    sources: int
    vectors: int
    dim: int | None
    lsn: int


def export_store(store: Store, target: Path, *, vectors: bool = True) -> DumpReport:
    """Write the whole store to `target` (replaced atomically) as a JSONL dump."""
    lsn, seq, dim, dtype, concepts, associations = _records(store)
    sources = _source_counts(concepts, associations)
    header = {
        "format": DUMP_FORMAT,
        "version": DUMP_VERSION,
        "dim": dim,
        "vector_dtype": dtype,
        "vectors": vectors,
        "lsn": lsn,
        "seq": seq,
        "concepts": len(concepts),
        "associations": len(associations),
        "sources": len(sources),
    }
    with_vectors = 0
    try:
        with atomic_writer(target) as f:
            f.write(_line(header))
            for c in concepts:
                record = concept_to_dict(replace(c, vector=None), with_seq=True)
                if vectors and c.vector is not None:
                    as_float32 = np.ascontiguousarray(vector_storage.decode(c.vector), dtype=VECTOR_DTYPE)
                    record["vector"] = base64.b64encode(as_float32.tobytes()).decode("ascii")
                    with_vectors += 1
                f.write(_line({"record": "concept", **record}, c.id))
            for a in associations:
                f.write(_line({"record": "association", **association_to_dict(a, with_seq=True)}, a.id))
            for source_id, (n_concepts, n_associations) in sources.items():
                line = {"record": "source", "id": source_id, "concepts": n_concepts}
                f.write(_line({**line, "associations": n_associations}))
    except OSError as exc:
        raise StorageError(f"could not write the dump {target} ({exc}); nothing was written there") from exc
    return DumpReport(str(target), len(concepts), len(associations), len(sources), with_vectors, dim, lsn)


def import_dump(source: Path, directory: Path, *, shards: int = 1) -> DumpReport:
    """Build a new space at `directory` (absent or empty) holding exactly the dump's records, in one
    directory or (`shards` > 1) split over that many shards as a sharded space places them."""
    if not 1 <= shards <= manifest_file.MAX_SHARDS:
        raise InputError(f"shards must be between 1 and {manifest_file.MAX_SHARDS}, got {shards}")
    _require_empty(directory)
    header, concepts, associations, cited = _read(source)
    found = _source_counts(concepts, associations)
    if found != cited:
        wrong = sorted(set(found.items()) ^ set(cited.items()))
        raise InputError(
            f"{source}: the source lines do not match the records ({len(wrong)} differ, e.g. {wrong[0]}); "
            "the dump was edited or damaged, export it again"
        )
    dim, dtype = header["dim"], header["vector_dtype"]
    dims = {c.vector.size for c in concepts if c.vector is not None}
    if dims - {dim}:
        raise InputError(f"{source}: vectors of size {sorted(dims)} in a dump whose header says dim {dim}")
    if dtype != "float32":  # held compactly, as the space it was exported from did
        concepts = [
            c if c.vector is None else replace(c, vector=vector_storage.encode(c.vector, dtype))
            for c in concepts
        ]
    staging = directory.with_name(f".{directory.name}.importing-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        staging.mkdir(parents=True)
        if shards == 1:
            _write_space(staging, header, concepts, associations)
        else:
            _write_sharded_space(staging, header, concepts, associations, shards)
        _verify(staging)
        if directory.exists():
            directory.rmdir()  # empty (checked above); rename cannot replace a directory everywhere
        os.replace(staging, directory)
        fsync_dir(directory.parent)
    except OSError as exc:
        raise StorageError(f"could not create the space {directory} ({exc}); it is unchanged") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    with_vectors = sum(c.vector is not None for c in concepts)
    return DumpReport(
        str(directory), len(concepts), len(associations), len(cited), with_vectors, dim, header["lsn"]
    )


# ---- exporting ----


def _records(store: Store) -> tuple[int, int, int | None, str, list[Concept], list[Association]]:
    frozen = getattr(store, "frozen", None)
    if frozen is not None:  # a local store: one consistent view, taken in a moment
        view = frozen()
        return view.lsn, view.seq, view.dim, view.vector_dtype, view.concepts, view.associations
    # any other Store: read through the interface (consistent only if nothing writes meanwhile)
    stats = store.stats()
    concepts = store.concepts()
    associations = sorted((a for c in concepts for a in store.neighbors(c.id, "out")), key=lambda a: a.seq)
    dim = stats.get("dim")
    return int(stats.get("lsn", 0)), int(stats.get("seq", 0)), dim, "float32", concepts, associations


def _source_counts(concepts: list[Concept], associations: list[Association]) -> dict[str, tuple[int, int]]:
    by_concepts = Counter(s for c in concepts for s in c.sources)
    by_associations = Counter(s for a in associations for s in a.sources)
    ordered = dict.fromkeys([*by_concepts, *by_associations])
    return {s: (by_concepts[s], by_associations[s]) for s in ordered}


def _line(record: dict[str, Any], record_id: str | None = None) -> bytes:
    try:
        return orjson.dumps(record) + b"\n"
    except TypeError as exc:
        raise InputError(
            f"record {record_id or record.get('record')} holds a value JSON cannot carry ({exc}); "
            "attrs must be str/int/float/bool/None, lists and str-keyed dicts"
        ) from exc


# ---- importing ----


def _require_empty(directory: Path) -> None:
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise InputError(
            f"{directory} is not empty; import into a new or empty directory (an import never merges into, "
            "or overwrites, an existing space)"
        )


def _lines(source: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        f = source.open("rb")
    except OSError as exc:
        raise InputError(f"cannot read the dump {source} ({exc})") from exc
    with f:
        for number, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            try:
                record = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                raise InputError(f"{source}:{number}: not a JSON line ({exc})") from exc
            if not isinstance(record, dict):
                raise InputError(f"{source}:{number}: a dump line must be a JSON object")
            yield number, record


def _check_record(put: PutConcept | PutAssociation, where: str) -> None:
    """The checks `apply` makes on a record, and those on the fields only the store sets (seq, history):
    an edited dump must not build a space that `apply` could never have made."""
    try:
        encode_batch([put])
    except InputError as exc:
        raise InputError(f"{where}: {exc}") from None
    record = put.concept if isinstance(put, PutConcept) else put.association
    closed = getattr(record, "closed_seq", None)
    history = getattr(record, "history", [])
    if (
        not all(type(n) is int and n > 0 for n in (record.seq, record.last_seq))
        or not (closed is None or type(closed) is int)
        or not all(isinstance(h, list) and len(h) == 2 and type(h[0]) is int for h in history)
    ):
        raise InputError(f"{where}: seq, last_seq, closed_seq or history is not what a store writes")


def _read(
    source: Path,
) -> tuple[dict[str, Any], list[Concept], list[Association], dict[str, tuple[int, int]]]:
    lines = _lines(source)
    first = next(lines, None)
    if first is None:
        raise InputError(f"{source} is empty; it is not a Sutra dump")
    header = _header(source, first[1])
    concepts: dict[str, Concept] = {}
    associations: dict[str, Association] = {}
    cited: dict[str, tuple[int, int]] = {}
    for number, record in lines:
        where = f"{source}:{number}"
        kind = record.pop("record", None)
        try:
            if kind == "concept":
                c = concept_from_dict({**record, "vector": _vector(record.get("vector"))})
                _check_record(PutConcept(c), where)
                _add(concepts, c.id, c, where)
            elif kind == "association":
                a = association_from_dict(record)
                _check_record(PutAssociation(a), where)
                _add(associations, a.id, a, where)
            elif kind == "source":
                cited[_text(record.get("id"), where)] = (int(record["concepts"]), int(record["associations"]))
            else:
                raise InputError(f"{where}: unknown record {kind!r}; expected concept, association or source")
        except (CodecError, KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{where}: a malformed {kind} record ({exc})") from exc
    counts = {"concepts": len(concepts), "associations": len(associations), "sources": len(cited)}
    for name, n in counts.items():
        if header[name] != n:
            raise InputError(
                f"{source}: the header announces {header[name]} {name} but the file holds {n}; it is "
                "truncated or was edited"
            )
    ordered_concepts = sorted(concepts.values(), key=lambda c: c.seq)
    ordered_associations = sorted(associations.values(), key=lambda a: a.seq)
    return header, ordered_concepts, ordered_associations, cited


def _header(source: Path, record: dict[str, Any]) -> dict[str, Any]:
    if record.get("format") != DUMP_FORMAT:
        raise InputError(f'{source}:1: not a Sutra dump (the first line must say "format": "{DUMP_FORMAT}")')
    version = record.get("version")
    if not isinstance(version, int) or version < 1:
        raise InputError(f"{source}:1: the dump version {version!r} is not a format version")
    if version > DUMP_VERSION:
        raise InputError(f"{source} is dump format {version}, newer than this Sutra reads; upgrade Sutra")
    for name in ("lsn", "seq", "concepts", "associations", "sources"):
        if not isinstance(record.get(name), int) or record[name] < 0:
            raise InputError(f"{source}:1: the header's {name!r} must be a whole number")
    dim = record.get("dim")
    if dim is not None and (not isinstance(dim, int) or not 1 <= dim <= manifest_file.MAX_DIM):
        raise InputError(f"{source}:1: the header's dim {dim!r} is not a vector size")
    if record.get("vector_dtype") not in vector_storage.VECTOR_DTYPES:
        raise InputError(
            f"{source}:1: vector_dtype {record.get('vector_dtype')!r} is not one of "
            f"{', '.join(vector_storage.VECTOR_DTYPES)}"
        )
    return record


def _vector(encoded: Any) -> bytes | None:
    if encoded is None:
        return None
    if not isinstance(encoded, str):
        raise CodecError("a vector must be base64 text or null")
    try:
        return base64.b64decode(encoded, validate=True)
    except binascii.Error as exc:
        raise CodecError(f"a vector is not valid base64 ({exc})") from exc


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise InputError(f"{where}: a source id must be a non-empty string")
    return value


def _add(table: dict[str, Any], key: str, record: Any, where: str) -> None:
    if key in table:
        raise InputError(f"{where}: {key} appears twice in the dump")
    table[key] = record


def _write_sharded_space(
    directory: Path, header: dict[str, Any], concepts: list[Concept], assocs: list[Any], shards: int
) -> None:
    """A sharded space: each concept in the shard of its id, each association with its source concept
    (store/shardplan.py), every shard at the dump's seq; an empty coordinator log (nothing in doubt)."""
    from sutra.store.sharded import shard_dir
    from sutra.store.shardplan import shard_of

    placed: list[tuple[list[Concept], list[Any]]] = [([], []) for _ in range(shards)]
    for c in concepts:
        placed[shard_of(c.id, shards)][0].append(c)
    for a in assocs:
        placed[shard_of(a.source, shards)][1].append(a)
    for i, (mine, edges) in enumerate(placed):
        part = shard_dir(directory, i)
        part.mkdir()
        _write_space(part, {**header, "lsn": 0}, mine, edges, shard=i)
    wal.create(directory / WAL_NAME)
    manifest = replace(
        manifest_file.new_manifest(), dim=header["dim"], shards=shards, vector_dtype=header["vector_dtype"]
    )
    manifest_file.save(directory, manifest)


def _write_space(
    directory: Path,
    header: dict[str, Any],
    concepts: list[Concept],
    assocs: list[Any],
    *,
    shard: int | None = None,
) -> None:
    wal.create(directory / WAL_NAME)
    write_snapshot(
        directory / SNAPSHOT_NAME,
        lsn=header["lsn"],
        seq=header["seq"],
        concepts=concepts,
        associations=assocs,
        vector_dtype=header["vector_dtype"],
    )
    manifest = replace(
        manifest_file.new_manifest(),
        dim=header["dim"],
        snapshot=True,
        vector_dtype=header["vector_dtype"],
        shard=shard,
    )
    manifest_file.save(directory, manifest)


def _verify(directory: Path) -> None:
    from sutra.store.sharded import open_existing  # the store imports this package's modules; import late

    with open_existing(directory, fsync="always") as store:
        problems = store.check()
    if problems:
        raise IntegrityError(
            f"the imported records are not a consistent store ({len(problems)} problem(s), e.g. "
            f"{problems[0]}); nothing was imported"
        )
