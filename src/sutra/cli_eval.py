"""`sutra eval`: score Sutra on an evaluation set in the shared format (see sutra.evaluation)."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from sutra.cli_common import _handled, _progress, err, out
from sutra.errors import InputError
from sutra.readers import shown


def register(app: typer.Typer) -> None:
    app.command(name="eval")(evaluate)


def evaluate(
    directory: Annotated[
        Path,
        typer.Argument(help="A set folder with corpus.jsonl and questions.jsonl, or a corpus.jsonl alone."),
    ],
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Only the first N questions.")] = None,
    per_task: Annotated[
        int | None, typer.Option("--per-task", min=1, help="First N questions of each task/category.")
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the full report here.")] = None,
    context: Annotated[
        str, typer.Option("--context", help="auto | corpus | question: what each question's space holds.")
    ] = "auto",
    query_field: Annotated[
        str | None, typer.Option("--query-field", help="Ask meta.FIELD (or a top-level field) instead.")
    ] = None,
    task: Annotated[
        list[str] | None, typer.Option("--task", help="Only questions of this meta.task/category.")
    ] = None,
    corpus: Annotated[
        list[Path] | None, typer.Option("--corpus", help="Extra corpus file or folder for referenced ids.")
    ] = None,
    data: Annotated[
        Path | None, typer.Option("--data", help="Where the temporary spaces go (default: system temp).")
    ] = None,
) -> None:
    """Score Sutra on an evaluation set (each question answered from its own context when it has one).

    A folder with only a corpus.jsonl is an ingest-only run: the whole corpus is learned once into a
    throwaway space and the learning throughput and store size are reported.
    """
    from sutra.evaluation.dataset import load_dataset
    from sutra.evaluation.report import build_report, print_report
    from sutra.evaluation.runner import Hooks, run_eval
    from sutra.evaluation.spaces import resolve_mode

    with _handled():
        # an unwritable --json path fails now, not after the whole evaluation has run
        created = _claim_report_path(json_out) if json_out is not None else False
        try:
            dataset = load_dataset(
                directory, extra_corpora=corpus or (), tasks=task or (), per_group=per_task, limit=limit
            )
            resolve_mode(context, dataset.questions)  # fail on a bad --context before loading any model
            if dataset.ingest_only:
                given = {
                    "--limit": limit is not None,
                    "--per-task": per_task is not None,
                    "--task": bool(task),
                    "--query-field": query_field is not None,
                    "--context": context != "auto",
                }
                ignored = [name for name, used in given.items() if used]
                if ignored:
                    err.print(
                        f"[dim]{escape(dataset.name)} has no questions.jsonl: ingest-only run, "
                        f"{escape(', '.join(ignored))} ignored[/dim]"
                    )
            with _progress() as progress:
                if dataset.ingest_only:
                    learned = progress.add_task(f"{dataset.name}: learning corpus", total=len(dataset.corpus))
                    hooks = Hooks(learned=lambda n: progress.advance(learned, n))
                else:
                    asked = progress.add_task(f"{dataset.name}: questions", total=len(dataset.questions))
                    learned = progress.add_task("documents learned", total=None)
                    hooks = Hooks(
                        learned=lambda n: progress.advance(learned, n),
                        asked=lambda n: progress.advance(asked, n),
                    )
                run = run_eval(dataset, context=context, query_field=query_field, work_dir=data, hooks=hooks)
            report = build_report(run, command=shlex.join(["sutra", *sys.argv[1:]]))
        except BaseException:
            if created and json_out is not None:
                json_out.unlink(missing_ok=True)  # leave no empty report behind
            raise
        print_report(report, out)
        if json_out is not None:
            _write_json(json_out, report)
            out.print(f"report written to {escape(shown(json_out))}")


def _claim_report_path(path: Path) -> bool:
    """Make sure the report can be written to `path` before the run; returns whether it was created."""
    if path.is_dir():
        raise InputError(f"--json {shown(path)}: is a folder; give a file name for the report")
    existed = path.exists()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise InputError(
            f"--json {shown(path)}: cannot write the report there: {exc.strerror or exc}"
        ) from exc
    return not existed


def _write_json(path: Path, report: dict[str, Any]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{shown(path)}: cannot write the report: {exc.strerror or exc}") from exc
