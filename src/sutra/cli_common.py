"""What every `sutra` command shares: consoles, the error boundary, opening a space, progress bars."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from sutra.config import Settings
from sutra.errors import ConfigError, InputError, NotFoundError, SutraError
from sutra.readers import shown

if TYPE_CHECKING:
    from sutra.engine import Sutra

# soft_wrap: messages stay one line however narrow the terminal (scripts and tests grep for them)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)
_state = {"debug": False}

DataOption = Annotated[
    Path | None, typer.Option("--data", help="Data directory of the space (default: Settings().data_dir).")
]


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
    # with a storage server the concepts live there, and the folder holds only this engine's audit log
    if existing and not settings.storage_url:
        from sutra.store.manifest import MANIFEST_NAME

        if not (directory / MANIFEST_NAME).is_file():
            raise NotFoundError(
                f"no Sutra space at {shown(directory)}; learn or ingest something first, or check --data"
            )
    from sutra.engine import Sutra  # imported late: `sutra --help` should not load spaCy and onnxruntime

    with Sutra(directory, settings=settings) as engine:
        yield engine


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
