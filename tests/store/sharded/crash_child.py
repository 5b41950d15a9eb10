"""Child process for the sharded crash tests (not collected by pytest).

    PYTHONPATH=<repo root> python tests/store/sharded/crash_child.py DIR ROUND MODE [STEP NTH]

Opens the sharded space at DIR (fsync="always", small checkpoint and coordinator-log thresholds so both
happen between kills), then applies batch after batch and prints each batch's number once `apply`
returned. With STEP and NTH it kills itself with SIGKILL the NTH time the two-phase commit reaches STEP
(see `sutra.store.twophase.STEPS`); without them the parent kills it at a random moment. On stderr it
first says how opening settled the transactions the previous kill left in doubt ("settled commit commit").

MODE "grow" batches add records; "forget" batches also forget the previous batch's source in the same
batch, so an atomicity failure shows as both or neither of two neighbouring batches being present.
"""

from __future__ import annotations

import os
import signal
import sys

from tests.store.builders import edge, entity, statement, unit

from sutra.model import ForgetSource, Mutation, PutAssociation, PutConcept
from sutra.store import sharded, twophase
from sutra.store.sharded import ShardedStore
from sutra.store.shardplan import shard_of

SHARDS = 4


def source(round_no: int, i: int) -> str:
    return f"batch-{round_no}-{i}"


def records(round_no: int, i: int) -> list[Mutation]:
    """The puts of batch `i`: concepts in at least two shards, edges between them, a shared hub."""
    src = source(round_no, i)
    people, homes, j = [], set(), 0
    while len(homes) < 2 or len(people) < 2:
        person = entity(f"Writer {round_no}-{i}-{j}", src)
        people.append(person)
        homes.add(shard_of(person.id, SHARDS))
        j += 1
    note = statement(f"Batch {i} of round {round_no} was written.", src, vector=unit(8, round_no * 1000 + i))
    hub = entity(f"Hub {round_no}", src)
    out: list[Mutation] = [PutConcept(c) for c in (*people, note, hub)]
    for person in people:
        out.append(PutAssociation(edge(person, "wrote", note, src, statements=(note.id,))))
        out.append(PutAssociation(edge(person, "member_of", hub, src)))
    return out


def batch(round_no: int, i: int, mode: str) -> list[Mutation]:
    forget: list[Mutation] = [ForgetSource(source(round_no, i - 1))] if mode == "forget" and i > 0 else []
    return records(round_no, i) + forget


def main() -> None:
    directory, round_no, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if len(sys.argv) > 4:
        step, nth = sys.argv[4], int(sys.argv[5])
        seen = 0

        def hook(name: str) -> None:
            nonlocal seen
            if name == step:
                seen += 1
                if seen == nth:
                    os.kill(os.getpid(), signal.SIGKILL)

        twophase.set_crash_hook(hook)
    sharded.COORDINATOR_LOG_BYTES = 2048  # trim the decisions often, as a long run would
    store = ShardedStore(directory, shards=SHARDS, fsync="always", checkpoint_wal_bytes=16 * 1024)
    # how the previous round's kill was settled: the parent checks it against the step it died at
    sys.stderr.write("settled " + " ".join(sorted(store.resolved.values())) + "\n")
    sys.stderr.flush()
    i = 0
    while True:
        store.apply(batch(round_no, i, mode))
        sys.stdout.write(f"{i}\n")
        sys.stdout.flush()
        i += 1


if __name__ == "__main__":
    main()
