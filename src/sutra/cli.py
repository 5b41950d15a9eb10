"""The `sutra` command: a thin Typer + Rich layer over the Python API (`sutra.engine.Sutra`).

Every command takes `--data DIR` (default: `Settings().data_dir`). A `SutraError` becomes one red line on
stderr and exit code 2 for bad input (InputError, ConfigError, NotFoundError) or 1 for anything else
(a locked or corrupt store, a missing model); `sutra --debug ...` shows the traceback instead. Arguments are
checked (UTF-8, ISO-8601 `--time`) before a space is opened; the read-only commands (`ask`, `stats`,
`forget`, `audit`) refuse a `--data` folder that is not a space yet instead of creating one.
"""

from __future__ import annotations

import json
import shlex
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from sutra.answer import Answer
from sutra.config import Settings
from sutra.errors import ConfigError, InputError, NotFoundError, SutraError
from sutra.readers import (
    check_time,
    check_utf8,
    documents_from_text,
    read_located,
    select_files,
    shown,
    validate_files,
)

if TYPE_CHECKING:
    from sutra.engine import Sutra

app = typer.Typer(
    name="sutra",
    help="Sutra: learn plain text, answer with reasoning paths, confidence and an honest 'I don't know'.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# soft_wrap: messages stay one line however narrow the terminal (scripts and tests grep for them)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)
_state = {"debug": False}

DataOption = Annotated[
    Path | None, typer.Option("--data", help="Data directory of the space (default: Settings().data_dir).")
]


@app.callback()
def main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks, not short messages.")] = False,
) -> None:
    _state["debug"] = debug


@contextmanager
def _handled() -> Iterator[None]:
    """Turn library errors into one clean message and an exit code; bugs still raise."""
    try:
        yield
    except SutraError as exc:
        if _state["debug"]:
            raise
        err.print(f"[bold red]error:[/bold red] {escape(_printable(str(exc)))}")
        raise typer.Exit(2 if isinstance(exc, InputError | ConfigError | NotFoundError) else 1) from None
    except KeyboardInterrupt:
        err.print("[red]interrupted[/red]")
        raise typer.Exit(130) from None


def _printable(message: str) -> str:
    """Text that can always be written out: bytes that were not UTF-8 (surrogate escapes) as `\\udcXX`."""
    return message.encode("utf-8", "backslashreplace").decode("utf-8")


def _data_dir(data: Path | None) -> Path:
    return data if data is not None else Settings().data_dir


@contextmanager
def _engine(data: Path | None, *, existing: bool = False) -> Iterator[Sutra]:
    """Open the space at `data`; with `existing` (read-only commands) refuse a folder that is not a space yet,
    rather than creating an empty one and answering from it."""
    settings = Settings()
    directory = data if data is not None else settings.data_dir
    if existing:
        from sutra.store.manifest import MANIFEST_NAME

        if not (directory / MANIFEST_NAME).is_file():
            raise NotFoundError(
                f"no Sutra space at {shown(directory)}; learn or ingest something first, or check --data"
            )
    from sutra.engine import Sutra  # imported late: `sutra --help` should not load spaCy and onnxruntime

    with Sutra(directory, settings=settings) as engine:
        yield engine


# ---- commands ----


@app.command()
def learn(
    text: Annotated[str, typer.Argument(help="The text to learn.")],
    source: Annotated[str | None, typer.Option("--source", help="Source id to cite for this text.")] = None,
    time: Annotated[str | None, typer.Option("--time", help="When the text was true (ISO-8601).")] = None,
    data: DataOption = None,
) -> None:
    """Learn one piece of text."""
    with _handled():
        check_utf8(text, "TEXT")
        if not text.strip():
            raise InputError("nothing to learn: TEXT is empty; pass the text in quotes")
        if source is not None:
            check_utf8(source, "--source")
            if not source.strip():
                raise InputError("--source is empty; give the id to cite, or leave --source out")
        if time is not None:
            check_utf8(time, "--time")
            check_time(time, "--time")
        from sutra.engine import MAX_TEXT_CHARS

        if len(text) > MAX_TEXT_CHARS:  # the engine's limit, checked before the space is opened or created
            raise InputError(
                f"TEXT is {len(text):,} characters, more than the {MAX_TEXT_CHARS:,} Sutra learns as one "
                "document; split it, or put it in a file for `sutra ingest`"
            )
        with _engine(data) as engine:
            report = engine.learn(text, source=source, time=time)
        out.print(_learn_summary(report))
        _note_if_nothing_learned(report)


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (.txt, .md, .csv, .jsonl).")],
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Documents per batch.")] = 64,
    data: DataOption = None,
) -> None:
    """Learn files and folders; every paragraph, row or line becomes a document with its own source id.

    Files inside the data directory, or inside any folder that is a Sutra space, are skipped.
    """
    with _handled():
        total: int | None = None
        committed = 0

        def advance(n: int) -> None:
            nonlocal committed
            committed += n  # called by the engine once a batch is committed
            progress.advance(task, n)

        try:
            selection = select_files(paths, data_dir=_data_dir(data))
            # A full read first applies every check learning would (a bad line 9,000 fails before anything
            # is learned) and gives the progress bar its total.
            total = validate_files(selection.files)
            with _engine(data) as engine, _progress() as progress:
                task = progress.add_task("learning", total=total)
                documents = (doc for _, doc in read_located(selection.files))
                report = engine.learn_documents(documents, batch_size=batch_size, progress=advance)
        except KeyboardInterrupt:
            if total is None or not committed:
                err.print("[red]interrupted[/red]: nothing was learned")
            else:
                err.print(
                    f"[red]interrupted[/red]: {committed:,} of {_count(total, 'document')} were learned and "
                    f"committed before the interrupt; the other {total - committed:,} were not learned"
                )
            raise typer.Exit(130) from None
        out.print(f"{_count(len(selection.files), 'file')}: " + _learn_summary(report))
        if selection.skipped:
            listed = ", ".join(f"{shown(path)} ({reason})" for path, reason in selection.skipped[:5])
            more = len(selection.skipped) - 5
            tail = f" and {more:,} more" if more > 0 else ""
            out.print(f"skipped {_count(len(selection.skipped), 'file')}: {escape(listed)}{tail}")
        _note_if_nothing_learned(report)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, in plain English.")],
    explain: Annotated[bool, typer.Option("--explain", help="Show every reasoning step.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole answer as JSON.")] = False,
    resolve: Annotated[
        str, typer.Option("--resolve", help="Side a contradiction takes: recent, confidence or sources.")
    ] = "recent",
    data: DataOption = None,
) -> None:
    """Answer a question from what was learned, or say "I don't know" and why."""
    with _handled():
        check_utf8(question, "QUESTION")
        if not question.strip():
            raise InputError("nothing to ask: QUESTION is empty")
        with _engine(data, existing=True) as engine:
            answer = engine.ask(question, resolve=resolve)
        if as_json:
            typer.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        else:
            print_answer(answer, explain=explain)


@app.command()
def stats(data: DataOption = None) -> None:
    """Counts and sizes of the space."""
    with _handled(), _engine(data, existing=True) as engine:
        values = engine.stats()
    table = Table(show_header=False, box=None)
    for key, value in _flatten(values):
        table.add_row(key, f"{value:.3f}" if isinstance(value, float) else escape(_printable(str(value))))
    out.print(table)


@app.command()
def forget(
    source_id: Annotated[str, typer.Argument(help="The source id to remove (as cited in answers).")],
    data: DataOption = None,
) -> None:
    """Remove a source and everything derived only from it."""
    with _handled():
        check_utf8(source_id, "SOURCE")
        if not source_id.strip():
            raise InputError("nothing to forget: SOURCE is empty; give a source id as cited in answers")
        with _engine(data, existing=True) as engine:
            removed = engine.forget(source_id)  # NotFoundError when nothing cites the source
    out.print(f"forgot {escape(source_id)}: {removed} item(s) removed")


@app.command()
def audit(
    audit_id: Annotated[str, typer.Argument(help="The audit id printed with an answer.")],
    data: DataOption = None,
) -> None:
    """Show the stored record of how an answer was reached."""
    with _handled():
        check_utf8(audit_id, "AUDIT_ID")
        with _engine(data, existing=True) as engine:
            record = engine.audit(audit_id)
    typer.echo(json.dumps(record, ensure_ascii=False, indent=2, default=str))


@app.command(name="eval")
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


@app.command()
def demo(
    data: Annotated[
        Path | None, typer.Option("--data", help="Keep the demo space here (default: a throwaway folder).")
    ] = None,
) -> None:
    """Learn the bundled operations handbook, then answer its questions with explanations."""
    with _handled():
        folder = resources.files("sutra") / "demo"
        handbook = (folder / "handbook.md").read_text(encoding="utf-8")
        questions = [
            line.strip()
            for line in (folder / "questions.txt").read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.lstrip().startswith("#")
        ]
        docs = list(documents_from_text(handbook, name="handbook.md", suffix=".md"))
        with (
            tempfile.TemporaryDirectory(prefix="sutra-demo-") as scratch,
            _engine(data if data is not None else Path(scratch)) as engine,
        ):
            out.rule("[bold]Learning handbook.md")
            out.print(_learn_summary(engine.learn_documents(docs)))
            for question in questions:
                out.rule(f"[bold]{escape(question)}")
                print_answer(engine.ask(question), explain=True)


# ---- output helpers ----


MAX_CONFLICTS_SHOWN = 5


@app.command()
def timeline(
    subject: Annotated[str, typer.Argument(help="A name, as learned (e.g. 'Mary', 'the ledger database').")],
    data: DataOption = None,
) -> None:
    """Everything stated about a subject, oldest first, and whether it still holds."""
    with _handled():
        check_utf8(subject, "SUBJECT")
        with _engine(data, existing=True) as engine:
            entries = engine.timeline(subject)
    for entry in entries:
        mark = "" if entry["current"] else "  [dim](no longer holds)[/dim]"
        relation = ("not " if entry["negated"] else "") + entry["relation"]
        sources = ", ".join(entry["sources"])
        out.print(
            f"{escape(relation)} {escape(entry['value'])}{mark}  "
            f"“{escape(entry['statement'])}” \\[{escape(sources)}]"
        )


@app.command()
def find(
    semantic_type: Annotated[
        str | None, typer.Option("--type", help="entity, event, rule, temporal, …")
    ] = None,
    domain: Annotated[str | None, typer.Option(help="Only this domain.")] = None,
    since: Annotated[str | None, typer.Option(help="Event time from (ISO-8601).")] = None,
    until: Annotated[str | None, typer.Option(help="Event time up to (ISO-8601).")] = None,
    role: Annotated[str | None, typer.Option("--role", help="Causal role: cause or effect.")] = None,
    min_confidence: Annotated[float, typer.Option(help="Lowest confidence.")] = 0.0,
    limit: Annotated[int, typer.Option(min=1, help="At most this many.")] = 50,
    data: DataOption = None,
) -> None:
    """Concepts by semantic filters: type, domain, event-time range, causal role, confidence."""
    with _handled(), _engine(data, existing=True) as engine:
        found = engine.find(
            limit=limit,
            semantic_type=semantic_type,
            domain=domain,
            since=since,
            until=until,
            causal_role=role,
            min_confidence=min_confidence,
        )
    for concept in found:
        when = f" [dim]{concept.valid_from[:10]}[/dim]" if concept.valid_from else ""
        out.print(
            f"{escape(concept.text)}  "
            f"[dim]({concept.semantic_type}, {', '.join(concept.sources[-1:])})[/dim]{when}"
        )
    if not found:
        out.print("nothing matches")


@app.command()
def contradictions(
    subject: Annotated[
        str | None, typer.Argument(help="Only this subject (a name); default: everything.")
    ] = None,
    data: DataOption = None,
) -> None:
    """List current facts that contradict each other, each side with its sources."""
    with _handled():
        if subject is not None:
            check_utf8(subject, "SUBJECT")
        with _engine(data, existing=True) as engine:
            found = engine.contradictions(subject)
    for conflict in found:
        out.print(escape(_printable(conflict.describe())))
    if not found:
        out.print("no contradictions among the current facts")


def print_answer(answer: Answer, *, explain: bool) -> None:
    if answer.known:
        out.print(f"[bold green]{escape(answer.text)}[/bold green]  (confidence {answer.confidence:.2f})")
        if answer.sources:
            out.print(f"sources: {escape(', '.join(answer.sources))}")
    else:
        out.print(f"[bold yellow]{escape(answer.text)}[/bold yellow]")
        if answer.reason:
            out.print(f"why: {escape(answer.reason)}")
    for conflict in answer.conflicts:
        out.print(f"[yellow]contradicted: {escape(conflict)}[/yellow]")
    if explain:
        _print_paths(answer)
    if answer.audit_id:
        out.print(f"[dim]audit id: {escape(answer.audit_id)}[/dim]")


def _print_paths(answer: Answer) -> None:
    for number, path in enumerate(answer.paths, start=1):
        out.print(f"[bold]path {number}[/bold] ({path.kind}, score {path.score:.2f}) → {escape(path.answer)}")
        for index, step in enumerate(path.steps, start=1):
            relation = f"not {step.relation}" if step.negated else step.relation
            stale = "" if step.current else " [dim](no longer current)[/dim]"
            out.print(
                f"  {index}. {escape(step.subject)} —{escape(relation)}→ {escape(step.object)}"
                f"  [dim]conf {step.confidence:.2f}[/dim]{stale}"
            )
            cited = escape(", ".join(step.sources))
            out.print(f"     [italic]“{escape(step.statement)}”[/italic]  \\[{cited}]")
    if answer.alternatives:
        shown = ", ".join(
            f"{a.answer} ({a.confidence:.2f}, {_count(a.support, 'path')})" for a in answer.alternatives
        )
        out.print(f"alternatives: {escape(shown)}")


def _count(n: int, noun: str, plural: str | None = None) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {plural or noun + 's'}"


def _note_if_nothing_learned(report: Any) -> None:
    for conflict in report.contradictions[:MAX_CONFLICTS_SHOWN]:
        err.print(f"[yellow]contradiction: {escape(_printable(conflict))}[/yellow]")
    hidden = len(report.contradictions) - MAX_CONFLICTS_SHOWN
    if hidden > 0:
        err.print(f"[yellow]… and {hidden} more (see `sutra contradictions`)[/yellow]")
    if report.documents and not report.statements:
        err.print(
            "[yellow]note: nothing learnable was found: no sentence gave a statement "
            "(Sutra learns plain-English sentences such as 'Mary went to the kitchen.')[/yellow]"
        )


def _learn_summary(report: Any) -> str:
    return (
        f"learned {_count(report.documents, 'document')}: {_count(report.statements, 'statement')}, "
        f"{_count(report.entities, 'entity', 'entities')}, "
        f"{_count(report.associations, 'association')} in {report.seconds:.2f} s"
    )


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )


def _flatten(values: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in values.items():
        if isinstance(value, dict):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


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


if __name__ == "__main__":
    app()
