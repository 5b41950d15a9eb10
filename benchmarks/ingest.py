"""Ingest throughput on the WorldTree corpus versus the raw embedder, and `ask` latency on that store.

Run: .venv/bin/python benchmarks/ingest.py [--limit N] [--fsync always|batch|off]

Both figures come from the same process on the same texts, so the ratio is meaningful on a noisy machine:
ingest includes parsing, extraction, embedding and durable commits, so it can only approach the embedder.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from sutra.config import Settings
from sutra.embedding import get_embedder
from sutra.engine import Sutra
from sutra.model import Document

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def load_rows(path: Path, limit: int | None) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                rows.append(json.loads(line))
            if limit and len(rows) >= limit:
                break
    return rows


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--limit", type=int, default=None, help="corpus rows to ingest (default: all)")
    ap.add_argument("--fsync", default="always", choices=["always", "batch", "off"])
    ap.add_argument("--questions", type=int, default=200)
    ap.add_argument(
        "--batch", type=int, default=256, help="documents per learn batch (one durable write each)"
    )
    args = ap.parse_args()

    rows = load_rows(DATA / "worldtree" / "corpus.jsonl", args.limit)
    texts = [r["text"] for r in rows]
    embedder = get_embedder(Settings())
    embedder.embed(texts[:64])  # warm-up: first session run allocates

    t0 = time.perf_counter()
    embedder.embed(texts)
    raw = len(texts) / (time.perf_counter() - t0)

    with tempfile.TemporaryDirectory() as tmp, Sutra(tmp, embedder=embedder, fsync=args.fsync) as space:
        t0 = time.perf_counter()
        space.learn_documents((Document(id=r["id"], text=r["text"]) for r in rows), batch_size=args.batch)
        ingest = len(rows) / (time.perf_counter() - t0)

        questions = [
            q["meta"]["hypothesis"] for q in load_rows(DATA / "entailmentbank" / "questions.jsonl", None)
        ]
        questions = (questions * 4)[: args.questions]
        latencies = []
        for q in questions:
            t0 = time.perf_counter()
            space.ask(q)
            latencies.append((time.perf_counter() - t0) * 1000)
        stats = space.stats()

    print(f"corpus rows            {len(rows)}")
    print(f"raw embedder           {raw:8.1f} texts/s")
    print(f"ingest (fsync={args.fsync:6s}) {ingest:8.1f} docs/s")
    print(f"ratio ingest/embedder  {ingest / raw:8.2f}   (goal >= 0.6)")
    p50, p99 = statistics.median(latencies), percentile(latencies, 0.99)
    print(f"ask latency            p50 {p50:.1f} ms   p99 {p99:.1f} ms   over {len(latencies)} questions")
    print(f"store                  {stats.get('concepts')} concepts, {stats.get('associations')} edges")


if __name__ == "__main__":
    main()
