"""End to end: the real engine answers real questions through `sutra eval`."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from sutra.cli import app
from sutra.embedding.base import Embedder
from sutra.evaluation.dataset import load_dataset
from sutra.evaluation.report import build_report, percentile
from sutra.evaluation.runner import run_eval

TOP_LEVEL = {"set", "questions", "metrics", "breakdown", "latency_ms"}


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile([3.0], 99) == 3.0
    assert percentile([], 50) == 0.0


def test_babi_smoke_through_the_cli(shared_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "eval-babi.json"
    result = CliRunner().invoke(app, ["eval", str(shared_data / "babi"), "--limit", "30", "--json", str(out)])
    assert result.exit_code == 0, result.stderr
    assert "accuracy" in result.stdout
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report.keys() >= TOP_LEVEL
    assert report["set"] == "babi"
    assert report["questions"] == 30
    assert len(report["records"]) == 30
    assert set(report["breakdown"]["task"]) == {"1"}
    assert report["latency_ms"]["p99"] >= report["latency_ms"]["p50"] > 0
    metrics = report["metrics"]
    assert 0.0 <= metrics["accuracy"] <= 1.0
    assert metrics["errors"] == 0
    # 30 task-1 questions are the first 6 stories: one space each, every statement learned once
    assert metrics["spaces"] == 6
    assert metrics["documents_learned"] == 60


def test_labels_and_support_metrics(shared_data: Path, embedder: Embedder) -> None:
    proofwriter = load_dataset(shared_data / "proofwriter", limit=4)
    report = build_report(run_eval(proofwriter, embedder=embedder))
    assert "label_accuracy" in report["metrics"] and "label_macro_f1" in report["metrics"]
    assert report["breakdown"] == {}

    entailment = load_dataset(shared_data / "entailmentbank", limit=2)
    run = run_eval(entailment, query_field="hypothesis", embedder=embedder)
    report = build_report(run)
    assert report["config"]["query_field"] == "hypothesis"
    assert {"support_precision", "support_recall", "support_f1", "f1"} <= report["metrics"].keys()
    assert [r["query"] for r in report["records"]] == [q.meta["hypothesis"] for q in entailment.questions]


def test_corpus_only_folder_is_an_ingest_only_run(tmp_path: Path) -> None:
    folder = tmp_path / "facts"
    folder.mkdir()
    rows = [
        {"id": "f1", "text": "A star produces light and heat."},
        {"id": "f2", "text": "The sun is a star."},
        {"id": "f3", "text": "Plants need sunlight to grow."},
    ]
    (folder / "corpus.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "eval-facts.json"
    spaces = tmp_path / "spaces"
    result = CliRunner().invoke(
        app, ["eval", str(folder), "--json", str(out), "--limit", "5", "--data", str(spaces)]
    )
    assert result.exit_code == 0, result.stderr
    assert "ingest only" in result.stdout
    assert "docs/s" in result.stdout
    assert "--limit ignored" in result.stderr
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report.keys() >= TOP_LEVEL | {"command", "config", "records"}
    assert report["set"] == "facts"
    assert report["questions"] == 0
    assert report["breakdown"] == {}
    assert report["records"] == []
    assert set(report["latency_ms"].values()) == {None}
    assert report["command"].startswith("sutra ")
    assert report["config"]["context"] == "ingest"
    assert report["config"]["fsync"] == "off"
    metrics = report["metrics"]
    assert metrics["documents"] == 3
    assert metrics["statements"] >= 3
    assert metrics["entities"] > 0 and metrics["associations"] > 0
    assert metrics["learn_seconds"] > 0 and metrics["docs_per_s"] > 0
    assert metrics["store_concepts"] > 0 and metrics["store_associations"] > 0
    assert list(spaces.iterdir()) == []  # the throwaway space is removed
