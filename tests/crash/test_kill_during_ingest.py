"""Durability: SIGKILL a process while it ingests, many times; every acknowledged document survives whole.

"Whole" means the statement, its entities and every association extracted from it: a batch is one WAL
frame, so it is all there or not at all. The store's own integrity check runs after every reopen.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from sutra.embedding.base import Embedder
from sutra.engine import Sutra
from sutra.model import ConceptKind

KILLS = 20
CHILD = Path(__file__).with_name("ingest_child.py")


def _run_and_kill(data_dir: Path, corpus: Path, start: int, rng: random.Random) -> list[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen(
        [sys.executable, str(CHILD), str(data_dir), str(corpus), str(start)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline().strip()
    if first != "ready":
        proc.kill()
        raise AssertionError(f"child failed to start: {first!r} {proc.stderr.read() if proc.stderr else ''}")
    first_ack = proc.stdout.readline().strip()  # at least one acknowledged write per run
    time.sleep(rng.uniform(0.0, 1.0))
    proc.send_signal(signal.SIGKILL)
    out, _ = proc.communicate(timeout=30)
    return [first_ack, *(line.strip() for line in out.splitlines() if line.strip())]


def test_acknowledged_documents_survive_sigkill(
    tmp_path: Path, shared_data: Path, embedder: Embedder
) -> None:
    rng = random.Random(20261203)
    corpus = shared_data / "babi" / "corpus.jsonl"
    data_dir = tmp_path / "kb"
    acknowledged: list[str] = []
    for kill in range(KILLS):
        acknowledged += _run_and_kill(data_dir, corpus, start=kill * 40, rng=rng)
        with Sutra(data_dir, embedder=embedder) as space:
            store = space.store
            assert store.check() == []
            for doc_id in acknowledged:
                cited = store.by_source(doc_id)
                statements = [
                    c
                    for c in (store.get_concept(i) for i in cited)
                    if c is not None and c.kind in (ConceptKind.STATEMENT, ConceptKind.RULE)
                ]
                assert statements, f"acknowledged document {doc_id} lost after kill {kill}"
                for st in statements:
                    # nothing half-applied: each statement's mention edges and entities arrived with it
                    mentions = store.neighbors(st.id, "out", relations=["mentions"])
                    assert mentions, f"statement of {doc_id} has no edges after kill {kill}"
                    assert all(store.get_concept(e.target) is not None for e in mentions)
    assert len(acknowledged) >= KILLS  # the child made progress before being killed
