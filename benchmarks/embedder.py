"""Raw embedder throughput and latency, the yardstick later benchmarks compare against.

    python benchmarks/embedder.py [--limit 2000] [--json OUT]

Reads real sentences from the shared WorldTree corpus and reports, for the int8 and fp32 models:
sentences/s when embedding in batches of 32, and single-query latency (p50/p99) for one sentence per call.
Other benchmarks import `measure_embedder` to put their own numbers next to these.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sutra.config import Settings
from sutra.embedding import get_embedder
from sutra.embedding.base import Embedder

CORPUS = Path(__file__).resolve().parents[1].parent / "shared/data/worldtree/corpus.jsonl"


def read_sentences(path: Path = CORPUS, limit: int = 2000) -> list[str]:
    """The first `limit` non-empty texts of a JSONL corpus (deterministic, so runs compare)."""
    texts: list[str] = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip() and (text := json.loads(line).get("text", "").strip()):
                texts.append(text)
                if len(texts) >= limit:
                    break
    return texts


def _percentile(sorted_values: Sequence[float], q: float) -> float:
    index = min(len(sorted_values) - 1, round(q * (len(sorted_values) - 1)))
    return sorted_values[index]


def measure_embedder(
    embedder: Embedder, texts: Sequence[str], *, batch_size: int = 32, queries: int = 300
) -> dict[str, Any]:
    """Throughput at `batch_size` over all `texts`, and per-call latency of `queries` single texts.

    The embedder's own batching applies inside each call; callers pass one batch per call here, as the
    learning pipeline does. A warm-up call runs first so session start-up is not counted."""
    embedder.embed(list(texts[:batch_size]))
    started = time.perf_counter()
    for start in range(0, len(texts), batch_size):
        embedder.embed(list(texts[start : start + batch_size]))
    batch_seconds = time.perf_counter() - started

    latencies: list[float] = []
    for text in texts[:queries]:
        t0 = time.perf_counter()
        embedder.embed_one(text)
        latencies.append((time.perf_counter() - t0) * 1000.0)
    latencies.sort()
    return {
        "texts": len(texts),
        "batch_size": batch_size,
        "sentences_per_s": round(len(texts) / batch_seconds, 1),
        "single_ms_p50": round(_percentile(latencies, 0.50), 2),
        "single_ms_p99": round(_percentile(latencies, 0.99), 2),
        "single_ms_mean": round(statistics.fmean(latencies), 2),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=2000, help="sentences to embed (default 2000)")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)

    texts = read_sentences(limit=args.limit)
    settings = Settings()
    results: dict[str, Any] = {"corpus": str(CORPUS.name), "cpus": os.cpu_count()}
    for variant in ("int8", "fp32"):
        embedder = get_embedder(settings, variant=variant)  # type: ignore[arg-type]
        results[variant] = measure_embedder(embedder, texts, batch_size=settings.embed_batch_size)
        r = results[variant]
        print(
            f"{variant}: {r['sentences_per_s']:>7.1f} sentences/s at batch {r['batch_size']}   "
            f"single query p50 {r['single_ms_p50']:.2f} ms  p99 {r['single_ms_p99']:.2f} ms"
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
