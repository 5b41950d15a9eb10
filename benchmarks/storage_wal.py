"""Storage engine benchmark: commit rates under fsync policies, group commit, reopen time.

    python benchmarks/storage_wal.py [--concepts 10000] [--dim 384] [--out results.json]

Numbers are for the machine it runs on; the store directory lives under the system temp dir.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from sutra.model import (
    Association,
    AssociationType,
    Concept,
    ConceptKind,
    PutAssociation,
    PutConcept,
    SemanticType,
    association_id,
    content_id,
)
from sutra.store import LocalStore
from sutra.store.keyword import KeywordIndex


def fact(i: int, dim: int, rng: np.random.Generator) -> list:
    person = Concept(
        id=content_id("e", f"p{i}"),
        text=f"Person {i}",
        kind=ConceptKind.ENTITY,
        semantic_type=SemanticType.ENTITY,
        sources=[f"doc{i // 100}"],
    )
    s = Concept(
        id=content_id("s", str(i)),
        text=f"Person {i} lives in city {i % 97} and likes topic {i % 13}.",
        kind=ConceptKind.STATEMENT,
        semantic_type=SemanticType.DEFINITIONAL,
        sources=[f"doc{i // 100}"],
        vector=rng.standard_normal(dim) if dim else None,
    )
    edge = Association(
        id=association_id(person.id, "stated_in", s.id, False),
        source=person.id,
        target=s.id,
        type=AssociationType.SEMANTIC,
        relation="stated_in",
        sources=[f"doc{i // 100}"],
        statements=[s.id],
    )
    return [PutConcept(person), PutConcept(s), PutAssociation(edge)]


def rate(n: int, seconds: float) -> float:
    return round(n / seconds, 1)


def bench_single(root: Path, policy: str, n: int) -> dict:
    rng = np.random.default_rng(0)
    with LocalStore(root / f"single-{policy}", fsync=policy) as store:
        t = time.perf_counter()
        for i in range(n):
            store.apply([fact(i, 0, rng)[0]])
        dt = time.perf_counter() - t
        return {"batches_per_s": rate(n, dt), "fsyncs": store.stats()["fsyncs"]}


def bench_batched(root: Path, n_facts: int, batch: int, dim: int) -> dict:
    rng = np.random.default_rng(0)
    batches = [
        [m for i in range(s, min(s + batch, n_facts)) for m in fact(i, dim, rng)]
        for s in range(0, n_facts, batch)
    ]
    with LocalStore(root / f"batched-{dim}", checkpoint_wal_bytes=1 << 40) as store:
        t = time.perf_counter()
        for b in batches:
            store.apply(b)
        dt = time.perf_counter() - t
        records = sum(len(b) for b in batches)
        return {
            "records_per_s": rate(records, dt),
            "records": records,
            "wal_mb": store.stats()["wal_bytes"] / 1e6,
        }


def bench_threads(root: Path, threads: int, per_thread: int) -> dict:
    rng = np.random.default_rng(0)
    with LocalStore(root / "threads", fsync="always") as store:
        start = threading.Barrier(threads + 1)

        def work(t: int) -> None:
            start.wait()
            for i in range(per_thread):
                store.apply([fact(t * per_thread + i, 0, rng)[0]])

        pool = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
        for th in pool:
            th.start()
        start.wait()
        t0 = time.perf_counter()
        for th in pool:
            th.join()
        dt = time.perf_counter() - t0
        n = threads * per_thread
        return {
            "threads": threads,
            "batches_per_s": rate(n, dt),
            "batches": n,
            "fsyncs": store.stats()["fsyncs"],
        }


def bench_reopen(root: Path, n_facts: int, dim: int) -> dict:
    path = root / "reopen"
    rng = np.random.default_rng(0)
    with LocalStore(path, checkpoint_wal_bytes=1 << 40) as store:
        for s in range(0, n_facts, 500):
            store.apply([m for i in range(s, min(s + 500, n_facts)) for m in fact(i, dim, rng)])
        counts = (store.stats()["concepts"], store.stats()["associations"])
        concepts = store.concepts()
    out = {"concepts": counts[0], "associations": counts[1], "dim": dim}
    t = time.perf_counter()
    with LocalStore(path) as store:
        out["open_from_wal_s"] = round(time.perf_counter() - t, 3)
        t = time.perf_counter()
        store.checkpoint()
        out["checkpoint_s"] = round(time.perf_counter() - t, 3)
        out["snapshot_mb"] = round((path / "snapshot.bin").stat().st_size / 1e6, 2)
    t = time.perf_counter()
    with LocalStore(path) as store:
        out["open_from_snapshot_s"] = round(time.perf_counter() - t, 3)
        out["vector_index_loaded"] = store.recovery.vector_index_loaded
        out["vector_backend"] = store.stats()["vector_index"]
    for f in path.glob("vectors.*"):
        f.unlink()
    t = time.perf_counter()
    with LocalStore(path):
        out["open_from_snapshot_rebuilding_vectors_s"] = round(time.perf_counter() - t, 3)
    t = time.perf_counter()
    KeywordIndex.build(concepts)
    out["keyword_rebuild_s"] = round(time.perf_counter() - t, 3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concepts", type=int, default=10_000, help="facts for the reopen benchmark")
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="sutra-bench-"))
    try:
        results = {
            "single_commit_always": bench_single(root, "always", 2000),
            "single_commit_batch": bench_single(root, "batch", 2000),
            "single_commit_off": bench_single(root, "off", 2000),
            "group_commit_8_threads": bench_threads(root, 8, 250),
            "batched_1000_facts_no_vectors": bench_batched(root, 20_000, 1000, 0),
            "batched_1000_facts_384d": bench_batched(root, 20_000, 1000, args.dim),
            "reopen": bench_reopen(root, args.concepts // 2, args.dim),
        }
    finally:
        shutil.rmtree(root, ignore_errors=True)
    text = json.dumps(results, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
