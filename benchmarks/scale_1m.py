"""Scale benchmark: build a store of N synthetic concepts with 384-d vectors, reopen it, query it.

    python benchmarks/scale_1m.py [--n 1000000] [--dtype float16] [--out results.json] [--keep DIR]

Each synthetic "fact" is a statement concept (text + a vector drawn around one of 1,000 topic centres) linked
to one of 1,000 topic entities, so the store has a graph, a keyword index and a vector index to load.
Reported: build time (durable batches of `--batch` concepts, then one checkpoint), snapshot and vector file
sizes, reopen time (snapshot + memory-mapped vectors + saved HNSW index), resident memory per concept after
reopening (anonymous and file-backed separately), and query latency p50/p99 for vector search, keyword
search and neighbour lookups. Runs in a temporary directory unless --keep names one; a --keep folder that
already holds a space is reopened and queried without building again. The keyword index is built on the
first keyword search after opening; that first search is timed on its own.
"""

from __future__ import annotations

import argparse
import gc
import json
import shutil
import tempfile
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
)
from sutra.store import LocalStore

TOPICS = 1000
WORDS = ("alpha", "beta", "gamma", "delta", "river", "stone", "cloud", "engine", "signal", "garden", "market")


def rss() -> dict[str, float]:
    """Resident memory of this process in MB: anonymous (heap) and file-backed (memory-mapped files)."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile"):
            fields[key] = int(value.split()[0]) / 1024
    return fields


def centres(dim: int) -> np.ndarray:
    c = np.random.default_rng(0).standard_normal((TOPICS, dim)).astype(np.float32)
    return c / np.linalg.norm(c, axis=1, keepdims=True)


def topic_entities() -> list[Concept]:
    return [
        Concept(
            id=f"e:topic{t}",
            text=f"topic {t}",
            kind=ConceptKind.ENTITY,
            semantic_type=SemanticType.ENTITY,
            sources=["synthetic"],
        )
        for t in range(TOPICS)
    ]


def batch(start: int, stop: int, dim: int, rng: np.random.Generator, middle: np.ndarray) -> list:
    topics = rng.integers(0, TOPICS, stop - start)
    noise = rng.standard_normal((stop - start, dim)).astype(np.float32) * 0.06
    vectors = middle[topics] + noise
    out: list = []
    for j, i in enumerate(range(start, stop)):
        t = int(topics[j])
        words = " ".join(WORDS[(i >> k) % len(WORDS)] for k in (0, 3, 6, 9))
        s = Concept(
            id=f"s:{i}",
            text=f"Fact {i} says {words} about topic {t}.",
            kind=ConceptKind.STATEMENT,
            semantic_type=SemanticType.DEFINITIONAL,
            sources=[f"doc{i // 100}"],
            vector=vectors[j],
        )
        edge = Association(
            id=association_id(f"e:topic{t}", "mentioned_in", s.id, False),
            source=f"e:topic{t}",
            target=s.id,
            type=AssociationType.SEMANTIC,
            relation="mentioned_in",
            sources=[f"doc{i // 100}"],
            statements=[s.id],
        )
        out += [PutConcept(s), PutAssociation(edge)]
    return out


def percentiles(samples: list[float]) -> dict[str, float]:
    ms = np.array(samples) * 1000
    return {f"p{p}_ms": round(float(np.percentile(ms, p)), 3) for p in (50, 99)}


def build(path: Path, n: int, dim: int, dtype: str, size: int) -> dict:
    rng = np.random.default_rng(1)
    middle = centres(dim)
    started = time.perf_counter()
    # One checkpoint at the end: with the default 64 MB threshold a build this size would write ~25
    # growing snapshots, which measures the checkpoint policy rather than the store.
    with LocalStore(path, vector_dtype=dtype, checkpoint_wal_bytes=1 << 40) as store:
        store.apply([PutConcept(e) for e in topic_entities()])
        last_report = time.perf_counter()
        for start in range(0, n, size):
            store.apply(batch(start, min(n, start + size), dim, rng, middle))
            if time.perf_counter() - last_report > 30:
                last_report = time.perf_counter()
                print(f"  built {min(n, start + size):,} in {last_report - started:.0f} s", flush=True)
        applied = time.perf_counter() - started
        t = time.perf_counter()
        store.checkpoint()
        checkpoint_s = time.perf_counter() - t
        concepts = store.stats()["concepts"]
    files = {p.name: p.stat().st_size for p in path.iterdir() if p.is_file()}
    return {
        "concepts": concepts,
        "build_s": round(applied, 1),
        "build_concepts_per_s": round(n / applied),
        "checkpoint_s": round(checkpoint_s, 1),
        "disk_mb": {name: round(size / 1e6, 1) for name, size in sorted(files.items())},
    }


def reopen_and_query(path: Path, dim: int, queries: int) -> dict:
    gc.collect()
    before = rss()
    t = time.perf_counter()
    store = LocalStore(path)
    reopen_s = time.perf_counter() - t
    gc.collect()
    after = rss()
    n = store.stats()["concepts"]
    out = {
        "reopen_s": round(reopen_s, 2),
        "vector_index_loaded": store.recovery.vector_index_loaded,
        "memory_per_concept_bytes": {
            key: round((after.get(key, 0) - before.get(key, 0)) * 1024 * 1024 / n)
            for key in ("VmRSS", "RssAnon", "RssFile")
        },
        "rss_after_reopen_mb": {key: round(value) for key, value in after.items()},
    }
    rng = np.random.default_rng(99)
    middle = centres(dim)
    noise = rng.standard_normal((queries, dim)).astype(np.float32) * 0.06
    qs = middle[rng.integers(0, TOPICS, queries)] + noise
    timings: dict[str, list[float]] = {"search_vector_k10": [], "neighbors": [], "search_text_k10": []}
    for i, q in enumerate(qs):
        t = time.perf_counter()
        store.search_vector(q, k=10)
        timings["search_vector_k10"].append(time.perf_counter() - t)
        t = time.perf_counter()
        store.neighbors(f"e:topic{i % TOPICS}", "out")
        timings["neighbors"].append(time.perf_counter() - t)
    t = time.perf_counter()
    store.search_text("fact 1 topic 1", k=10)
    out["first_keyword_search_s"] = round(time.perf_counter() - t, 2)
    # a few: BM25 in pure Python scans whole postings, and every synthetic text shares its common words
    for i in range(min(queries, 50)):
        t = time.perf_counter()
        store.search_text(f"fact {i * 7919 % TOPICS} {WORDS[i % len(WORDS)]}", k=10)
        timings["search_text_k10"].append(time.perf_counter() - t)
    out["latency"] = {name: percentiles(samples) for name, samples in timings.items()}
    store.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="synthetic statement concepts")
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--dtype", default="float16", choices=["float32", "float16", "int8"])
    parser.add_argument("--batch", type=int, default=5000, help="concepts per durable batch")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--keep", type=Path, help="build here (and keep it) instead of a temporary folder")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="sutra-scale-"))
    path = root / "space" if args.keep is None else args.keep
    try:
        results = {"n": args.n, "dim": args.dim, "vector_dtype": args.dtype}
        if not (path / "manifest.json").is_file():
            results["build"] = build(path, args.n, args.dim, args.dtype, args.batch)
            print(json.dumps(results["build"]), flush=True)
        results["reopen"] = reopen_and_query(path, args.dim, args.queries)
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    text = json.dumps(results, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
