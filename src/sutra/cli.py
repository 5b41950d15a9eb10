"""The `sutra` command: a thin Typer + Rich layer over the Python API (`sutra.engine.Sutra`).

Every command takes `--data DIR` (default: `Settings().data_dir`). A `SutraError` becomes one red line on
stderr and exit code 2 for bad input (InputError, ConfigError, NotFoundError) or 1 for anything else
(a locked or corrupt store, a missing model); `sutra --debug ...` shows the traceback instead. Arguments are
checked (UTF-8, ISO-8601 `--time`) before a space is opened; the read-only commands (`ask`, `stats`,
`forget`, `audit`) refuse a `--data` folder that is not a space yet instead of creating one.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from sutra import cli_dump, cli_eval, cli_inspect, cli_server, cli_storage
from sutra.answer import Answer
from sutra.cli_common import DataOption, _data_dir, _engine, _handled, _printable, _progress, _state, err, out
from sutra.errors import InputError
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


@app.callback()
def main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks, not short messages.")] = False,
) -> None:
    _state["debug"] = debug


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
            before = _record_count(engine)
            cited = engine.forget(source_id)  # NotFoundError when nothing cites the source
            removed = before - _record_count(engine)
    kept = cited - removed
    note = f", {kept} kept (other sources support them)" if kept > 0 else ""
    out.print(f"forgot {escape(source_id)}: {cited} item(s) cited it, {removed} removed{note}")


def _record_count(engine: Sutra) -> int:
    stats = engine.stats()
    return int(stats["concepts"]) + int(stats["associations"])


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


def _flatten(values: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in values.items():
        if isinstance(value, dict):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


# The evaluation and inspection commands live in their own modules.
cli_eval.register(app)
cli_inspect.register(app)
cli_dump.register(app)
cli_server.register(app)
cli_storage.register(app)


if __name__ == "__main__":
    app()
