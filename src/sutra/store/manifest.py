"""`manifest.json`: the parameters that shape a data directory, and the mark that makes a folder a space.

They live with the data, not in settings, because they cannot change once data exists: a store of 384-d
vectors cannot be opened as 768-d. The vector dimension is fixed by the first vector ever stored.

The manifest is written last when a space is created (after an empty `wal.log`), so its presence means the
space exists and its other files must be there too. `snapshot` turns true with the first checkpoint, so a
snapshot that disappears later is noticed instead of the space opening with its older history missing.

Every field is checked on load: a damaged value is a `CorruptionError` that names the file and the field,
never a TypeError deep inside the store.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sutra.errors import ConfigError, CorruptionError, StorageError
from sutra.store.fsutil import atomic_write
from sutra.store.vectors.storage import DEFAULT_VECTOR_DTYPE, VECTOR_DTYPES

MANIFEST_NAME = "manifest.json"
FORMAT_VERSION = 1
MAX_DIM = 1 << 16  # far above any embedding model; a larger number is damage, not a model
MAX_SHARDS = 256  # as Settings.shards allows


@dataclass(slots=True)
class Manifest:
    format: int = FORMAT_VERSION
    dim: int | None = None
    created: str = ""
    snapshot: bool = False  # a checkpoint has written snapshot.bin, so it must exist from now on
    shards: int = 1  # a sharded space's directory: how many shards (fixed at creation; store/sharded.py)
    shard: int | None = None  # a shard's own directory: its index in the sharded space above it
    # how vectors are held in memory and in snapshots (vectors/storage.py); fixed by the first vector stored
    vector_dtype: str = DEFAULT_VECTOR_DTYPE


def new_manifest() -> Manifest:
    return Manifest(created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))


def is_ours(directory: Path) -> bool:
    """Whether `manifest.json` looks like a Sutra manifest at all (a JSON object with a "format" field).

    Used to tell a foreign folder (another tool's manifest.json) from a Sutra space with a damaged manifest.
    """
    try:
        raw = json.loads((directory / MANIFEST_NAME).read_bytes())
    except (OSError, ValueError):
        return False
    return isinstance(raw, dict) and "format" in raw


def load(directory: Path) -> Manifest:
    path = directory / MANIFEST_NAME
    try:
        raw = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as exc:
        raise CorruptionError(f"{path} is unreadable ({exc}); restore it from a backup") from exc
    if not isinstance(raw, dict):
        raise _damaged(path, "it is not a JSON object")
    version = _field(raw, path, "format", int, required=True)
    if version < 1:
        raise _damaged(path, f'"format" is {version!r}, not a format version (1 or more)')
    if version > FORMAT_VERSION:
        raise ConfigError(
            f"{directory} uses data format {version}, newer than this Sutra's ({FORMAT_VERSION}); "
            "upgrade Sutra"
        )
    dim = _field(raw, path, "dim", int)
    if dim is not None and not 1 <= dim <= MAX_DIM:
        raise _damaged(path, f'"dim" is {dim!r}; it must be null or the vector size (1 to {MAX_DIM})')
    vector_dtype = _field(raw, path, "vector_dtype", str) or DEFAULT_VECTOR_DTYPE
    if vector_dtype not in VECTOR_DTYPES:
        raise _damaged(path, f'"vector_dtype" is {vector_dtype!r}, not one of {", ".join(VECTOR_DTYPES)}')
    shards = _field(raw, path, "shards", int)
    if shards is not None and not 1 <= shards <= MAX_SHARDS:
        raise _damaged(path, f'"shards" is {shards!r}; it must be the shard count (1 to {MAX_SHARDS})')
    shard = _field(raw, path, "shard", int)
    if shard is not None and not 0 <= shard < MAX_SHARDS:
        raise _damaged(path, f'"shard" is {shard!r}; it must be null or a shard index (0 to {MAX_SHARDS})')
    return Manifest(
        shards=shards or 1,
        shard=shard,
        format=version,
        dim=dim,
        created=_field(raw, path, "created", str) or "",
        snapshot=bool(_field(raw, path, "snapshot", bool)),
        vector_dtype=vector_dtype,
    )


def save(directory: Path, manifest: Manifest) -> None:
    path = directory / MANIFEST_NAME
    try:
        atomic_write(path, (json.dumps(asdict(manifest), indent=2) + "\n").encode())
    except OSError as exc:
        raise StorageError(
            f"could not write {path} ({exc}); it is unchanged. Free disk space or fix the directory's "
            "permissions, then retry."
        ) from exc


def check_dim(manifest: Manifest, dim: int, directory: Path) -> None:
    if manifest.dim is not None and manifest.dim != dim:
        raise ConfigError(
            f"{directory} stores {manifest.dim}-dimensional vectors, got a {dim}-dimensional one; use the "
            "embedding model this store was built with, or a new data directory"
        )


def _field(raw: dict[str, Any], path: Path, name: str, kind: type, *, required: bool = False) -> Any:
    value = raw.get(name)
    if value is None and not required:
        return None
    # bool is a subclass of int in Python, but `"dim": true` is damage, not a dimension of 1
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        want = {int: "an integer", str: "a string", bool: "true or false"}[kind]
        raise _damaged(path, f'"{name}" is {json.dumps(value)}, not {want}')
    return value


def _damaged(path: Path, why: str) -> CorruptionError:
    return CorruptionError(
        f'{path} is damaged: {why}. Correct the value in the file (for "dim", the size of the vectors '
        "this space stores) or restore the data directory from a backup."
    )
