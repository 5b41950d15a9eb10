"""Storage benchmark against yardsticks run in the same process, on the same records and vectors:

1. durable write throughput, records/s, of our store (fsync "always") next to SQLite in WAL mode with
   synchronous=FULL: one record per commit, and batches of `--batch` records per commit;
2. vector search queries/s at recall@10 >= 0.95 of our store (`LocalStore.search_vector`, HNSW) next to faiss
   `IndexHNSWFlat` with the same M and efConstruction; each side uses the smallest efSearch that reaches the
   recall, both answer one query per call on one thread; the two then take turns over the query set
   (2 x rounds + 1 times each) and the median rates are compared.

    python benchmarks/storage.py [--records 50000] [--vectors 50000] [--out results.json]

Records are the store's own (entity + statement + association per fact, texts but no vectors, since SQLite
has no vector index to keep). SQLite stores each as a row with the same fields (JSON for lists and attrs)
and indexes associations by both ends, as our adjacency does; it has no keyword index, ours has BM25 over
statements, so the comparison favours SQLite. Ratios above 1 mean ours is faster.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path
from statistics import median

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
from sutra.store import LocalStore
from sutra.store.vectors import hnsw

RECALL_TARGET = 0.95
EF_SWEEP = (16, 24, 32, 48, 64, 96, 128, 192, 256)


# ---- records ----


def facts(n_records: int) -> list[Mutation]:
    out: list[Mutation] = []
    i = 0
    while len(out) < n_records:
        src = f"doc{i // 100}"
        person = Concept(
            id=content_id("e", f"p{i}"),
            text=f"Person {i}",
            kind=ConceptKind.ENTITY,
            semantic_type=SemanticType.ENTITY,
            sources=[src],
            aliases=[f"P{i}"],
        )
        s = Concept(
            id=content_id("s", str(i)),
            text=f"Person {i} lives in city {i % 97} and likes topic {i % 13}.",
            kind=ConceptKind.STATEMENT,
            semantic_type=SemanticType.DEFINITIONAL,
            sources=[src],
        )
        edge = Association(
            id=association_id(person.id, "stated_in", s.id, False),
            source=person.id,
            target=s.id,
            type=AssociationType.SEMANTIC,
            relation="stated_in",
            sources=[src],
            statements=[s.id],
        )
        out += [PutConcept(person), PutConcept(s), PutAssociation(edge)]
        i += 1
    return out[:n_records]


SCHEMA = """
CREATE TABLE concepts (id TEXT PRIMARY KEY, text TEXT, kind TEXT, semantic_type TEXT, sources TEXT,
                       aliases TEXT, attrs TEXT, confidence REAL, strength REAL, recorded_at REAL);
CREATE TABLE associations (id TEXT PRIMARY KEY, source TEXT, target TEXT, type TEXT, relation TEXT,
                           sources TEXT, statements TEXT, attrs TEXT, confidence REAL, strength REAL);
CREATE INDEX associations_source ON associations (source, type);
CREATE INDEX associations_target ON associations (target, type);
"""


def sqlite_row(m: Mutation) -> tuple[str, tuple]:
    if isinstance(m, PutConcept):
        c = m.concept
        dumped = [json.dumps(x) for x in (c.sources, c.aliases, c.attrs)]
        row = (
            c.id,
            c.text,
            str(c.kind),
            str(c.semantic_type),
            *dumped,
            c.confidence,
            c.strength,
            time.time(),
        )
        return "INSERT OR REPLACE INTO concepts VALUES (?,?,?,?,?,?,?,?,?,?)", row
    a = m.association  # type: ignore[union-attr]
    dumped = [json.dumps(x) for x in (a.sources, a.statements, a.attrs)]
    row = (a.id, a.source, a.target, str(a.type), a.relation, *dumped, a.confidence, a.strength)
    return "INSERT OR REPLACE INTO associations VALUES (?,?,?,?,?,?,?,?,?,?)", row


def open_sqlite(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.executescript(SCHEMA)
    return db


def sqlite_writes(path: Path, records: list[Mutation], batch: int) -> float:
    db = open_sqlite(path)
    try:
        started = time.perf_counter()
        for start in range(0, len(records), batch):
            rows = [sqlite_row(m) for m in records[start : start + batch]]
            db.execute("BEGIN")
            for sql, row in rows:
                db.execute(sql, row)
            db.execute("COMMIT")
        return len(records) / (time.perf_counter() - started)
    finally:
        db.close()


def store_writes(path: Path, records: list[Mutation], batch: int) -> float:
    with LocalStore(path, fsync="always", checkpoint_wal_bytes=1 << 40) as store:
        started = time.perf_counter()
        for start in range(0, len(records), batch):
            store.apply(records[start : start + batch])
        rate = len(records) / (time.perf_counter() - started)
        if store.check():
            raise SystemExit("the store failed its integrity check after the write benchmark")
        return rate


def bench_writes(root: Path, n_single: int, n_batched: int, batch: int, rounds: int) -> dict:
    """Each side runs `rounds` times, the two taking turns so the shared machine's load falls on both;
    the median run of each side is reported."""
    out = {}
    for name, n, size in (("single_record_commits", n_single, 1), (f"batches_of_{batch}", n_batched, batch)):
        ours, theirs = [], []
        for r in range(rounds):
            # every side gets fresh copies: the store takes ownership of the records it applies
            ours.append(store_writes(root / f"ours-{size}-{r}", facts(n), size))
            theirs.append(sqlite_writes(root / f"sqlite-{size}-{r}.db", facts(n), size))
        ours_rate, theirs_rate = median(ours), median(theirs)
        out[name] = {
            "records": n,
            "rounds": rounds,
            "ours_records_per_s": round(ours_rate),
            "sqlite_records_per_s": round(theirs_rate),
            "ratio_ours_to_sqlite": round(ours_rate / theirs_rate, 2),
        }
    return out


# ---- vector search ----


def clustered(n: int, dim: int, seed: int) -> np.ndarray:
    """Unit vectors around 1,000 centres, closer to sentence embeddings than uniform noise."""
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(0).standard_normal((1000, dim)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    m = centres[rng.integers(0, 1000, n)] + rng.standard_normal((n, dim)).astype(np.float32) * 0.06
    return m / np.linalg.norm(m, axis=1, keepdims=True)


def exact_top10(base: np.ndarray, queries: np.ndarray) -> np.ndarray:
    out = []
    for start in range(0, len(queries), 256):
        sims = queries[start : start + 256] @ base.T
        out.append(np.argsort(-sims, axis=1)[:, :10])
    return np.vstack(out)


def recall(found: list[list[int]], truth: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(t.tolist())) / 10 for f, t in zip(found, truth, strict=True)]))


def sweep(search, queries: np.ndarray, truth: np.ndarray, set_ef) -> dict:
    """QPS at the smallest efSearch reaching the recall target, and the whole curve."""
    curve = []
    for ef in EF_SWEEP:
        set_ef(ef)
        search(queries[0])  # warm
        started = time.perf_counter()
        found = [search(q) for q in queries]
        qps = len(queries) / (time.perf_counter() - started)
        r = recall(found, truth)
        curve.append({"ef": ef, "recall_at_10": round(r, 4), "qps": round(qps)})
        if r >= RECALL_TARGET:
            return {"ef": ef, "recall_at_10": round(r, 4), "qps": round(qps), "curve": curve}
    return {"ef": None, "recall_at_10": curve[-1]["recall_at_10"], "qps": None, "curve": curve}


def bench_search(root: Path, n: int, dim: int, n_queries: int, rounds: int) -> dict:
    import faiss

    base, queries = clustered(n, dim, seed=1), clustered(n_queries, dim, seed=2)
    truth = exact_top10(base, queries)
    ids = [f"s:{i}" for i in range(n)]
    position = {cid: i for i, cid in enumerate(ids)}

    started = time.perf_counter()
    store = LocalStore(root / "vectors", fsync="off", vector_index="hnsw", checkpoint_wal_bytes=1 << 40)
    for start in range(0, n, 5000):
        store.apply(
            [
                PutConcept(
                    Concept(
                        id=ids[i],
                        text=f"vector {i}",
                        kind=ConceptKind.EVENT,
                        semantic_type=SemanticType.EVENT,
                        vector=base[i],
                    )
                )
                for i in range(start, min(n, start + 5000))
            ]
        )
    ours_build = time.perf_counter() - started
    index = store._indexes.vectors  # the benchmark turns the index's recall dial directly
    assert isinstance(index, hnsw.HnswIndex)

    def ours(q: np.ndarray) -> list[int]:
        return [position[cid] for cid, _ in store.search_vector(q, k=10)]

    def set_ours(ef: int) -> None:
        index.ef_search = ef

    faiss.omp_set_num_threads(2)  # build on both cores, as hnswlib does
    started = time.perf_counter()
    flat = faiss.IndexHNSWFlat(dim, hnsw.M, faiss.METRIC_INNER_PRODUCT)
    flat.hnsw.efConstruction = hnsw.EF_CONSTRUCTION
    flat.add(base)
    faiss_build = time.perf_counter() - started
    faiss.omp_set_num_threads(1)  # queries one at a time, like ours

    def theirs(q: np.ndarray) -> list[int]:
        return flat.search(q[np.newaxis, :], 10)[1][0].tolist()

    def set_theirs(ef: int) -> None:
        flat.hnsw.efSearch = max(ef, 20)  # the floor ours applies (2k candidates at least for k=10)

    try:
        result = {
            "vectors": n,
            "dim": dim,
            "queries": n_queries,
            "ours": {**sweep(ours, queries, truth, set_ours), "build_s": round(ours_build, 1)},
            "faiss_hnsw": {**sweep(theirs, queries, truth, set_theirs), "build_s": round(faiss_build, 1)},
        }
        if result["ours"]["ef"] and result["faiss_hnsw"]["ef"]:
            # each at its own efSearch, the two taking turns (the machine's load falls on both); medians
            set_ours(result["ours"]["ef"])
            set_theirs(result["faiss_hnsw"]["ef"])
            mine, other = [], []
            for _ in range(rounds):
                mine.append(qps_of(ours, queries))
                other.append(qps_of(theirs, queries))
            result["ours"]["qps"], result["faiss_hnsw"]["qps"] = round(median(mine)), round(median(other))
            result["rounds"] = rounds
            result["ratio_ours_to_faiss_qps"] = round(median(mine) / median(other), 2)
    finally:
        store.close()
    return result


def qps_of(search, queries: np.ndarray) -> float:
    started = time.perf_counter()
    for q in queries:
        search(q)
    return len(queries) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--single", type=int, default=2000, help="records written one per commit")
    parser.add_argument("--records", type=int, default=60_000, help="records written in batches")
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3, help="runs of each write test (median reported)")
    parser.add_argument("--vectors", type=int, default=50_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="sutra-storage-bench-"))
    try:
        results = {
            "writes": bench_writes(root, args.single, args.records, args.batch, args.rounds),
            "vector_search": bench_search(root, args.vectors, args.dim, args.queries, 2 * args.rounds + 1),
        }
    finally:
        shutil.rmtree(root, ignore_errors=True)
    text = json.dumps(results, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
