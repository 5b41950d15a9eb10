"""Copying spaces: `sutra export` (portable JSONL dump), `sutra import` (a new space from a dump) and
`sutra backup` (a consistent copy of a space's directory, taken while it may be in use)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from sutra.cli_common import DataOption, _data_dir, _handled, out
from sutra.config import Settings
from sutra.errors import NotFoundError
from sutra.readers import shown

if TYPE_CHECKING:
    from sutra.store.base import Store


def register(app: typer.Typer) -> None:
    app.command("export")(export)
    app.command("import")(import_)
    app.command("backup")(backup)


@contextmanager
def _existing_store(data: Path | None) -> Iterator[Store]:
    """The space's store alone (no language or embedding model is loaded to copy it)."""
    from sutra.store import open_store
    from sutra.store.manifest import MANIFEST_NAME

    directory, settings = _data_dir(data), Settings()
    if not settings.storage_url and not (directory / MANIFEST_NAME).is_file():  # (remote: the server's)
        raise NotFoundError(f"no Sutra space at {shown(directory)}; check --data")
    with open_store(directory, settings) as store:
        yield store


def export(
    file: Annotated[Path, typer.Argument(help="Where to write the dump (JSONL); replaced if it exists.")],
    vectors: Annotated[
        bool, typer.Option("--vectors/--no-vectors", help="Include the sentence vectors (base64 float32).")
    ] = True,
    data: DataOption = None,
) -> None:
    """Write the whole space as a portable JSONL dump: a header, then concepts, associations, sources."""
    from sutra.store.dump import export_store

    with _handled(), _existing_store(data) as store:
        report = export_store(store, file, vectors=vectors)
    out.print(
        f"exported {report.concepts} concepts, {report.associations} associations, {report.sources} sources "
        f"and {report.vectors} vectors to {escape(shown(file))}"
    )


def import_(
    file: Annotated[Path, typer.Argument(help="A dump written by `sutra export`.")],
    data: DataOption = None,
) -> None:
    """Create a space from a dump, equal to the one exported. --data must be a new or empty directory;
    SUTRA_SHARDS=N makes it a space of N shards."""
    from sutra.store.dump import import_dump

    with _handled():
        directory = _data_dir(data)
        shards = Settings().shards
        report = import_dump(file, directory, shards=shards)
    out.print(
        f"imported {report.concepts} concepts, {report.associations} associations and {report.vectors} "
        f"vectors into {escape(shown(directory))}" + (f" ({shards} shards)" if shards > 1 else "")
    )


def backup(
    destination: Annotated[Path, typer.Argument(help="A new or empty directory for the copy.")],
    data: DataOption = None,
) -> None:
    """Copy the space to DESTINATION, consistently, even while another thread of this process writes to it.
    Open the copy with --data DESTINATION."""
    from sutra.store.backup import backup_store

    with _handled(), _existing_store(data) as store:
        report = backup_store(store, destination)
    out.print(
        f"backed up {report.concepts} concepts and {report.associations} associations (LSN {report.lsn}, "
        f"{report.bytes / 1e6:.1f} MB) to {escape(shown(destination))}"
    )
