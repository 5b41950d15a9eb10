"""Child process for the SIGKILL durability test (not collected by pytest).

    PYTHONPATH=<repo root> python tests/store/crash_writer.py DATA_DIR ROUND CHECKPOINT_BYTES

Applies batch after batch with fsync="always" and prints each batch's id only after `apply` returned, so
every printed id is an acknowledged write that must survive the parent's SIGKILL.
"""

from __future__ import annotations

import sys

from tests.store.builders import edge, entity, statement, unit

from sutra.model import PutAssociation, PutConcept
from sutra.store import LocalStore


def batch(round_no: int, i: int) -> list:
    """Batch `i` of a round: two concepts of its own, two edges, and a reinforcement of the round's hub."""
    src = f"batch-{round_no}-{i}"
    writer = entity(f"Writer {round_no}-{i}", src)
    note = statement(
        f"Batch {i} of round {round_no} was written.", src, vector=unit(8, round_no * 100_000 + i)
    )
    hub = entity(f"Hub {round_no}", src)
    return [
        PutConcept(writer),
        PutConcept(note),
        PutConcept(hub),
        PutAssociation(edge(writer, "wrote", note, src, statements=(note.id,))),
        PutAssociation(edge(writer, "member_of", hub, src)),
    ]


def main() -> None:
    directory, round_no, checkpoint_bytes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    store = LocalStore(directory, fsync="always", checkpoint_wal_bytes=checkpoint_bytes)
    i = 0
    while True:
        store.apply(batch(round_no, i))
        sys.stdout.write(f"{i}\n")
        sys.stdout.flush()
        i += 1


if __name__ == "__main__":
    main()
