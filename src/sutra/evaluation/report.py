"""Turn an `EvalRun` into the JSON report and the terminal summary.

JSON shape (top-level keys): `set` (folder name), `questions` (the number of questions scored), `metrics`
(means over the questions each metric applies to, plus learning totals), `breakdown` (`{"task"|"category":
{group: metrics}}`, empty when the set has neither), `latency_ms` (`p50`, `p99`, `mean`, `max` of `ask`),
`command`, `config`, and `records` (one object per question, file order).

A corpus-only set (mode `ingest`) keeps the same top-level keys: `questions` is 0, `metrics` holds the
learning counts (`documents`, `statements`, `entities` (distinct), `associations` (facts and clause links
extracted), `learn_seconds`, `docs_per_s`, `seconds`) and the store's size (`store_concepts`,
`store_associations` (every edge, mentions included), `store_vectors`), `breakdown` is `{}`, every
`latency_ms` field is null (nothing was asked) and `records` is `[]`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from rich.console import Console
from rich.table import Table

from sutra.evaluation.runner import EvalRun, IngestResult
from sutra.evaluation.scoring import aggregate, group_summary

# Shown in the terminal table in this order when present; everything is in the JSON.
HEADLINE = (
    "accuracy",
    "label_accuracy",
    "label_macro_f1",
    "exact_match",
    "f1",
    "list_accuracy",
    "support_precision",
    "support_recall",
    "support_f1",
    "support_all_correct",
    "answered",
    "group_mean_accuracy",
    "groups_passed",
)


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (no interpolation: the value some question actually took)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def breakdown_key(run: EvalRun) -> str | None:
    for key in ("task", "category"):
        if any(q.meta.get(key) is not None for q in run.dataset.questions):
            return key
    return None


def build_report(run: EvalRun, command: str | None = None) -> dict[str, Any]:
    if run.ingest is not None:
        return _ingest_report(run, run.ingest, command)
    questions = run.dataset.questions
    labels = [q.label for q in questions]
    metrics = aggregate(run.scores, labels)
    breakdown: dict[str, dict[str, dict[str, float]]] = {}
    key = breakdown_key(run)
    if key is not None:
        groups: dict[str, list[int]] = {}
        for index, record in enumerate(run.records):
            groups.setdefault(record.group or "-", []).append(index)
        per_group = {
            group: {
                "questions": float(len(indexes)),
                **aggregate([run.scores[i] for i in indexes], [labels[i] for i in indexes]),
            }
            for group, indexes in sorted(groups.items(), key=lambda kv: _natural(kv[0]))
        }
        breakdown[key] = _rounded_groups(per_group)
        metrics.update(group_summary({g: m["accuracy"] for g, m in per_group.items()}))
    metrics.update(
        {
            "errors": float(sum(r.error is not None for r in run.records)),
            "spaces": float(run.spaces),
            "documents_learned": float(run.documents_learned),
            "learn_seconds": run.learn_seconds,
            "seconds": run.seconds,
        }
    )
    latencies = [r.latency_ms for r in run.records]
    return {
        "set": run.dataset.name,
        "questions": len(run.records),
        "metrics": {k: round(v, 4) for k, v in metrics.items()},
        "breakdown": breakdown,
        "latency_ms": {
            "p50": round(percentile(latencies, 50), 3),
            "p99": round(percentile(latencies, 99), 3),
            "mean": round(sum(latencies) / len(latencies), 3) if latencies else 0.0,
            "max": round(max(latencies, default=0.0), 3),
        },
        "command": command,
        "config": {**run.config, "corpus_files": [str(p) for p in run.dataset.corpus_files]},
        "records": [asdict(r) for r in run.records],
    }


def _ingest_report(run: EvalRun, ingest: IngestResult, command: str | None) -> dict[str, Any]:
    metrics = {
        "documents": float(ingest.documents),
        "statements": float(ingest.statements),
        "entities": float(ingest.entities),
        "associations": float(ingest.associations),
        "learn_seconds": ingest.learn_seconds,
        "docs_per_s": ingest.documents / ingest.learn_seconds if ingest.learn_seconds > 0 else 0.0,
        "seconds": run.seconds,
        "store_concepts": float(ingest.store.get("concepts") or 0),
        "store_associations": float(ingest.store.get("associations") or 0),
        "store_vectors": float(ingest.store.get("vectors") or 0),
    }
    return {
        "set": run.dataset.name,
        "questions": 0,
        "metrics": {k: round(v, 4) for k, v in metrics.items()},
        "breakdown": {},
        "latency_ms": {"p50": None, "p99": None, "mean": None, "max": None},
        "command": command,
        "config": {
            **run.config,
            "vector_index": ingest.store.get("vector_index"),
            "corpus_files": [str(p) for p in run.dataset.corpus_files],
        },
        "records": [],
    }


def _rounded_groups(groups: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    return {g: {k: round(v, 4) for k, v in m.items()} for g, m in groups.items()}


def _natural(text: str) -> tuple[int, int | str]:
    # "2" sorts before "10": bAbI task numbers read naturally
    return (0, int(text)) if text.isdigit() else (1, text)


def print_report(report: dict[str, Any], console: Console) -> None:
    metrics = report["metrics"]
    if report["config"].get("context") == "ingest":
        _print_ingest(report, console)
        return
    title = f"sutra eval · {report['set']} · {report['questions']} questions"
    table = Table(title=title, title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name in HEADLINE:
        if name in metrics:
            value = metrics[name]
            if name == "groups_passed":
                table.add_row(name, f"{value:.0f}/{metrics.get('groups', 0):.0f}")
            else:
                table.add_row(name, f"{value:.3f}")
    lat = report["latency_ms"]
    table.add_row("ask latency p50 / p99", f"{lat['p50']:.1f} / {lat['p99']:.1f} ms")
    table.add_row("learned", f"{metrics['documents_learned']:.0f} docs in {metrics['learn_seconds']:.1f} s")
    if metrics.get("errors"):
        table.add_row("[red]errors[/red]", f"{metrics['errors']:.0f}")
    console.print(table)
    for key, groups in report["breakdown"].items():
        sub = Table(title=f"by {key}", title_justify="left")
        sub.add_column(key)
        sub.add_column("n", justify="right")
        sub.add_column("accuracy", justify="right")
        extra = [m for m in ("support_recall", "f1") if any(m in g for g in groups.values())]
        for name in extra:
            sub.add_column(name, justify="right")
        for group, values in groups.items():
            cells = [f"{values[name]:.3f}" if name in values else "-" for name in extra]
            sub.add_row(group, f"{values['questions']:.0f}", f"{values['accuracy']:.3f}", *cells)
        console.print(sub)


def _print_ingest(report: dict[str, Any], console: Console) -> None:
    metrics = report["metrics"]
    title = f"sutra eval · {report['set']} · ingest only (corpus, no questions)"
    table = Table(title=title, title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_row("documents", f"{metrics['documents']:,.0f}")
    table.add_row("statements", f"{metrics['statements']:,.0f}")
    table.add_row("entities", f"{metrics['entities']:,.0f}")
    table.add_row("associations", f"{metrics['associations']:,.0f}")
    table.add_row("learned in", f"{metrics['learn_seconds']:.1f} s ({metrics['docs_per_s']:.1f} docs/s)")
    table.add_row("store concepts", f"{metrics['store_concepts']:,.0f}")
    table.add_row("store associations", f"{metrics['store_associations']:,.0f}")
    index = report["config"].get("vector_index")
    table.add_row("store vectors", f"{metrics['store_vectors']:,.0f}" + (f" ({index})" if index else ""))
    console.print(table)
