"""Sharded storage against a single store: write throughput and query cost, as ratios from one run.

    python benchmarks/storage_sharded.py [--facts 3000] [--shards 4] [--dim 384] [--json OUT]

Both stores get the same facts (a person, a statement with a vector, an edge person -> statement and an
edge person -> city: most facts span shards). Writes are timed three ways: big batches with fsync off
(the CPU cost of routing and two-phase commit), big batches with fsync="always", and one fact per batch
with fsync="always" (the latency case, where a cross-shard batch pays N + 1 fsyncs against 1). Queries are
timed per operation on the loaded stores (median of many calls), then reopening. The two stores take
turns throughout, so load from elsewhere on the machine falls on both alike. Every ratio is sharded /
single (throughput: single's time / sharded's) from this run, so it is about the design, not the machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from sutra.model import (
    Association,
    AssociationType,
    Concept,
    ConceptKind,
    Mutation,
    PutAssociation,
    PutConcept,
    SemanticType,
    association_id,
    content_id,
)
from sutra.store import LocalStore, ShardedStore
from sutra.store.base import Store


def fact(i: int, dim: int, rng: np.random.Generator) -> list[Mutation]:
    person = Concept(content_id("e", f"p{i}"), f"Person {i}", ConceptKind.ENTITY, SemanticType.ENTITY)
    city = Concept(content_id("e", f"c{i % 50}"), f"City {i % 50}", ConceptKind.ENTITY, SemanticType.ENTITY)
    text = f"Person {i} lives in city {i % 50} and likes topic {i % 13}."
    statement = Concept(
        content_id("s", text),
        text,
        ConceptKind.STATEMENT,
        SemanticType.DEFINITIONAL,
        sources=[f"doc{i}"],
        vector=rng.standard_normal(dim),
    )

    def edge(a: Concept, relation: str, b: Concept) -> Association:
        return Association(
            association_id(a.id, relation, b.id, False),
            a.id,
            b.id,
            AssociationType.SEMANTIC,
            relation,
            sources=[f"doc{i}"],
            statements=[statement.id],
        )

    return [
        PutConcept(person),
        PutConcept(city),
        PutConcept(statement),
        PutAssociation(edge(person, "stated_in", statement)),
        PutAssociation(edge(person, "lives_in", city)),
    ]


def open_pair(root: Path, name: str, shards: int, fsync: str) -> tuple[Store, Store]:
    single = LocalStore(root / f"{name}-single", fsync=fsync, checkpoint_wal_bytes=1 << 40)
    sharded = ShardedStore(root / f"{name}-sharded", shards=shards, fsync=fsync, checkpoint_wal_bytes=1 << 40)
    return single, sharded


def time_writes(stores: tuple[Store, Store], batches: list[list[Mutation]], rounds: int = 20) -> list[float]:
    """Seconds each store took for all batches. The stores take turns, a slice of the batches at a time,
    so that load from elsewhere on the machine falls on both alike."""
    spent = [0.0, 0.0]
    step = max(1, len(batches) // rounds)
    for start in range(0, len(batches), step):
        for k, store in enumerate(stores):
            started = time.perf_counter()
            for b in batches[start : start + step]:
                store.apply(b)
            spent[k] += time.perf_counter() - started
    return spent


def writes(root: Path, facts: list[list[Mutation]], shards: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    records = sum(len(f) for f in facts)
    cases = {
        "batch32_fsync_off": ("off", 32, len(facts)),
        "batch32_fsync_always": ("always", 32, len(facts)),
        "one_fact_fsync_always": ("always", 1, min(len(facts), 300)),
    }
    for name, (fsync, size, count) in cases.items():
        batches = [[m for f in facts[s : s + size] for m in f] for s in range(0, count, size)]
        n = sum(len(b) for b in batches)
        single, sharded = open_pair(root, name, shards, fsync)
        with single, sharded:
            t_single, t_sharded = time_writes((single, sharded), batches)
            out[name] = {
                "records_per_s_single": round(n / t_single),
                "records_per_s_sharded": round(n / t_sharded),
                "throughput_ratio": round(t_single / t_sharded, 3),
                "fsyncs_single": single.stats()["fsyncs"],
                "fsyncs_sharded": sharded.stats()["fsyncs"],
            }
    out["records"] = records
    return out


def median_us(calls: tuple[Callable[[int], Any], Callable[[int], Any]], n: int) -> tuple[float, float]:
    """Median microseconds per call of each, the two taking turns in blocks of 50 calls (not call by call:
    a numpy product leaves BLAS threads spinning for a moment, which would land on the other's call)."""
    samples: tuple[list[float], list[float]] = ([], [])
    for block in range(0, n, 50):
        for k, call in enumerate(calls):
            for i in range(block, min(block + 50, n)):
                started = time.perf_counter()
                call(i)
                samples[k].append(time.perf_counter() - started)
    return statistics.median(samples[0]) * 1e6, statistics.median(samples[1]) * 1e6


def queries(single: Store, sharded: Store, facts: list[list[Mutation]], dim: int) -> dict[str, Any]:
    rng = np.random.default_rng(1)
    people = [f[0].concept.id for f in facts]  # type: ignore[union-attr]
    cities = [f[1].concept.id for f in facts]  # type: ignore[union-attr]
    probes = [rng.standard_normal(dim) for _ in range(50)]
    ops: dict[str, Callable[[Store], Callable[[int], Any]]] = {
        "get_concept": lambda s: lambda i: s.get_concept(people[i % len(people)]),
        "neighbors_out": lambda s: lambda i: s.neighbors(people[i % len(people)], "out"),
        "neighbors_in": lambda s: lambda i: s.neighbors(cities[i % len(cities)], "in"),
        "find_entities": lambda s: lambda i: s.find_entities(f"Person {i % len(people)}"),
        "search_text": lambda s: lambda i: s.search_text(f"person lives city {i % 50} topic", k=10),
        "search_vector": lambda s: lambda i: s.search_vector(probes[i % len(probes)], k=10),
    }
    out = {}
    for name, make in ops.items():
        n = 300 if name.startswith("search") else 2000
        a, b = median_us((make(single), make(sharded)), n)
        out[name] = {"us_single": round(a, 1), "us_sharded": round(b, 1), "cost_ratio": round(b / a, 3)}
    out["vector_index"] = {"single": single.stats()["vector_index"]}
    out["vector_index"]["sharded"] = sharded.stats()["vector_index"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--facts", type=int, default=3000)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    facts = [fact(i, args.dim, rng) for i in range(args.facts)]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        report: dict[str, Any] = {"facts": args.facts, "shards": args.shards, "dim": args.dim}
        report["writes"] = writes(root, facts, args.shards)
        single, sharded = (
            LocalStore(root / "batch32_fsync_off-single"),
            ShardedStore(root / "batch32_fsync_off-sharded"),
        )
        with single, sharded:
            report["queries"] = queries(single, sharded, facts, args.dim)
        t0 = time.perf_counter()
        LocalStore(root / "batch32_fsync_off-single").close()
        t1 = time.perf_counter()
        ShardedStore(root / "batch32_fsync_off-sharded").close()
        t2 = time.perf_counter()
        report["reopen"] = {
            "s_single": round(t1 - t0, 3),
            "s_sharded": round(t2 - t1, 3),
            "cost_ratio": round((t2 - t1) / (t1 - t0), 3),
        }
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
