"""Opening a space's data: what must exist, what the vectors' size must be, and replaying the WAL.

`LocalStore` owns the graph; this module owns the rules. The WAL is created with the space and never deleted,
so a missing one means lost batches (`require_wal`). Stored vectors that disagree with the manifest's
dimension mean the manifest is damaged, since every batch was checked against it before it was written
(`adopt_dim`). Replay applies WAL frames newer than the snapshot, refusing gaps and frames that cannot be
applied unless `repair=True`, which cuts the WAL there and keeps the cut bytes in a side file.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sutra.errors import CorruptionError, SutraError
from sutra.model import Concept, Mutation, PutConcept
from sutra.store import manifest as manifest_file
from sutra.store import wal
from sutra.store.fsutil import move_tail_aside

log = logging.getLogger("sutra.store")


@dataclass(slots=True)
class RecoveryReport:
    """What opening the store found and did."""

    snapshot_lsn: int = 0
    frames_replayed: int = 0
    torn_bytes: int = 0  # an interrupted write cut off the WAL's end
    repaired_bytes: int = 0  # repair=True dropped these bytes ...
    repaired_frames: int = 0  # ... holding this many batches (the damaged one and the intact ones after it)
    saved_tails: list[str] = field(default_factory=list)  # side files keeping whatever was cut off the WAL
    wal_recreated: bool = False  # repair=True replaced a missing wal.log with an empty one
    vector_index_loaded: bool = False
    seconds: float = 0.0


def require_wal(path: Path, *, repair: bool) -> bool:
    """Refuse a missing WAL, or with `repair` create an empty one; return whether it was created."""
    if os.path.lexists(path):
        return False
    if not repair:
        raise CorruptionError(
            f"{path} is missing, but {manifest_file.MANIFEST_NAME} shows this space exists: the batches "
            "written since the last checkpoint are gone. Restore the data directory from a backup, or "
            "reopen with repair=True to continue from the snapshot alone (or from nothing if there is none)."
        )
    log.warning("%s was missing; repair created an empty one (batches after the snapshot are lost)", path)
    wal.create(path)
    return True


def adopt_dim(
    manifest: manifest_file.Manifest, directory: Path, concepts: Iterable[Concept], where: str
) -> int | None:
    """The dimension to record when the manifest lost it (`"dim": null`); CorruptionError on a conflict."""
    return adopt_dims(manifest, directory, {c.vector.size for c in concepts if c.vector is not None}, where)


def adopt_dims(manifest: manifest_file.Manifest, directory: Path, dims: set[int], where: str) -> int | None:
    """`adopt_dim` given the dimensions the stored vectors have."""
    if not dims or dims == {manifest.dim}:
        return None
    if manifest.dim is None and len(dims) == 1:
        return dims.pop()
    raise CorruptionError(
        f"{directory / manifest_file.MANIFEST_NAME} says the vectors are {manifest.dim}-dimensional, but "
        f"{where} holds {'/'.join(map(str, sorted(dims)))}-dimensional ones: the manifest is damaged. Set "
        'its "dim" to the size of the stored vectors, or restore the data directory from a backup.'
    )


def put_concepts(mutations: list[Mutation]) -> list[Concept]:
    return [m.concept for m in mutations if isinstance(m, PutConcept)]


def replay(
    path: Path,
    report: RecoveryReport,
    *,
    repair: bool,
    check: Callable[[wal.Frame], None],
    apply: Callable[[wal.Frame], None],
) -> int:
    """Apply the WAL's frames newer than the snapshot; return the last LSN applied.

    `check` may raise to stop the open whatever `repair` says (the frame is fine, something else is damaged);
    a `SutraError` from `apply`, or a gap in the LSNs, is the frame's fault and `repair` may drop it.
    """
    recovered = wal.recover(path, repair=repair)
    report.torn_bytes = recovered.torn_bytes
    report.repaired_bytes, report.repaired_frames = recovered.repaired_bytes, recovered.repaired_frames
    if recovered.saved_to is not None:
        report.saved_tails.append(str(recovered.saved_to))
    last_lsn = report.snapshot_lsn
    for i, frame in enumerate(recovered.frames):
        if frame.lsn <= report.snapshot_lsn:
            continue  # already in the snapshot (a crash came between its rename and the WAL truncation)
        check(frame)
        try:
            if frame.lsn != last_lsn + 1:  # LSNs are dense: a gap means batches went missing
                raise CorruptionError(f"batches {last_lsn + 1}..{frame.lsn - 1} are missing before it")
            apply(frame)
        except SutraError as exc:
            why = f"{path}: the batch at offset {frame.offset} (LSN {frame.lsn}) cannot be replayed ({exc})"
            if not repair:
                raise CorruptionError(
                    f"{why}. Reopen with repair=True to drop it and everything after it (a copy is kept in a "
                    "side file), or restore the data directory from a backup."
                ) from exc
            size = path.stat().st_size
            saved = move_tail_aside(path, frame.offset, "dropped")
            report.saved_tails.append(str(saved))
            report.repaired_bytes += size - frame.offset
            report.repaired_frames += len(recovered.frames) - i
            log.warning(
                "%s; repair dropped %d byte(s) from there on, kept in %s", why, size - frame.offset, saved
            )
            break
        report.frames_replayed += 1
        last_lsn = frame.lsn
    return last_lsn
