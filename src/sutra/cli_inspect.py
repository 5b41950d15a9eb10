"""Inspection commands: what the space says over time, by kind, and where it contradicts itself."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from sutra.cli_common import DataOption, _engine, _handled, _printable, out
from sutra.readers import check_utf8


def register(app: typer.Typer) -> None:
    for command in (timeline, find, contradictions):
        app.command()(command)


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


def find(
    semantic_type: Annotated[
        str | None, typer.Option("--type", help="entity, event, rule, … (sutra stats counts each)")
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
