"""Turn files and folders into `Document`s, streaming, one format per reader.

Formats (chosen by extension):
- `.txt`, `.md`: each paragraph (blank-line separated) is a document with id `<file>:<offset>`, the character
  offset of its first character, so an id points back at the exact place in the file. In Markdown a heading
  is not a document; it becomes the `title` of the paragraphs under it, and fenced code blocks are skipped
  (they are not statements to learn).
- `.csv`: one document per row; the `text` column when there is one, otherwise the row's cells joined as
  `column: value; ...`. Optional `id`, `time` and `title` columns are used; the default id is `<file>:<row>`.
  Records are split by the csv module itself (quoted cells may hold line breaks or any other character);
  an unterminated quote is an error naming the line it opened on.
- `.jsonl`: the shared corpus format, one object per `\\n`-terminated line: `id`, `text`, optional `time`,
  `title`, `meta` (other Unicode line separators, such as U+2028, are ordinary characters inside a line).

Every problem is an `InputError` naming the file (and line) and saying what to fix. Folders are walked in
sorted order (determinism) and files with other extensions in them are skipped; a file named explicitly
with an unknown extension is an error. `select_files` also leaves out Sutra's own data: anything inside the
data directory being written to and any folder that is a Sutra space (`manifest.json` + `wal.log`).

`validate_files` is the first pass of `sutra ingest`: it reads everything and applies every check the engine
would apply while learning (plus unique ids and readable times), so that a bad document stops the ingest
before anything is learned.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dateutil.parser import isoparse

from sutra.errors import InputError
from sutra.model import Document

SUFFIXES: tuple[str, ...] = (".txt", ".md", ".csv", ".jsonl")
SPACE_MARKERS: tuple[str, ...] = ("manifest.json", "wal.log")  # a folder holding both is a Sutra space
TIME_EXAMPLE = "e.g. 2024-05-01 or 2024-05-01T14:30:00"

_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$")


@dataclass(slots=True)
class Selection:
    """The files to read, and what was left out on purpose (path, reason)."""

    files: list[Path] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)


def shown(path: str | os.PathLike[str]) -> str:
    """A path as text that can always be printed: as is, or `repr` when its name is not valid UTF-8."""
    text = os.fsdecode(path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return repr(text)
    return text


def check_utf8(value: str, what: str) -> None:
    """Refuse text holding surrogate escapes (bytes that were not UTF-8), naming `what` it is."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        char = ord(value[exc.start])
        detail = f"byte 0x{char - 0xDC00:02x}" if 0xDC80 <= char <= 0xDCFF else f"code point U+{char:04X}"
        raise InputError(
            f"{what} is not valid UTF-8 ({detail} at character {exc.start}); pass it as UTF-8 text"
        ) from None


def check_time(value: str, what: str) -> None:
    """Refuse a time that is not an ISO-8601 date or datetime (what the engine can anchor events to)."""
    try:
        isoparse(value.strip())
    except (ValueError, OverflowError):
        raise InputError(f"{what} {value!r} is not an ISO-8601 date or datetime; {TIME_EXAMPLE}") from None


def is_space(folder: Path) -> bool:
    return all((folder / name).is_file() for name in SPACE_MARKERS)


def select_files(paths: Iterable[str | Path], *, data_dir: str | Path | None = None) -> Selection:
    """Expand folders (recursively, sorted, hidden entries skipped) into the files Sutra can read.

    Files inside `data_dir` or inside a Sutra space, files listed twice, and files of other formats found in
    a folder are left out and reported in `Selection.skipped` (a space's own files are not listed). A file
    name that is not valid UTF-8 is an error (ids are built from names).
    """
    data_root = Path(data_dir).resolve() if data_dir is not None else None
    selection = Selection()
    seen: set[Path] = set()
    space_cache: dict[Path, bool] = {}

    def excluded(file: Path, top: Path) -> str | None:
        resolved = file.resolve()
        if data_root is not None and resolved.is_relative_to(data_root):
            return "inside the data directory"
        inner = file.relative_to(top).parts
        for folder in (top.joinpath(*inner[:n]) for n in range(len(inner))):  # top and the folders below it
            if folder not in space_cache:
                space_cache[folder] = is_space(folder)
            if space_cache[folder]:
                return "inside a Sutra space"
        if resolved in seen:
            return "listed more than once"
        seen.add(resolved)
        return None

    def keep(file: Path, top: Path) -> None:
        reason = excluded(file, top)
        if reason is not None:
            selection.skipped.append((file, reason))
        else:
            check_utf8_name(file)
            selection.files.append(file)

    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            visible = [
                p
                for p in sorted(path.rglob("*"))
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
            ]
            found = [p for p in visible if p.suffix.lower() in SUFFIXES]
            if not found:
                raise InputError(f"{shown(path)}: folder has no {', '.join(SUFFIXES)} files to ingest")
            for file in visible:
                if file.suffix.lower() in SUFFIXES:
                    keep(file, path)
                elif excluded(file, path) is None:  # said in the summary (a space's own files are not)
                    why = f"{file.suffix or 'no extension'}: not a format Sutra reads"
                    selection.skipped.append((file, why))
        elif path.is_file():
            if path.suffix.lower() not in SUFFIXES:
                raise InputError(
                    f"{shown(path)}: unknown format {path.suffix or '(no extension)'!r}; "
                    f"supported: {', '.join(SUFFIXES)}"
                )
            keep(path, path.parent)
        elif path.exists():
            raise InputError(f"{shown(path)}: not a regular file or folder")
        else:
            raise InputError(f"{shown(path)}: no such file or folder")
    if not selection.files and selection.skipped:
        first, reason = selection.skipped[0]
        raise InputError(f"nothing to ingest: {shown(first)} is {reason}")
    return selection


def collect_files(paths: Iterable[str | Path]) -> list[Path]:
    """Expand folders (recursively, sorted, hidden entries skipped) into the files Sutra can read."""
    return select_files(paths).files


def check_utf8_name(path: Path) -> None:
    try:
        os.fsdecode(path).encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(
            f"{shown(path)}: the file name is not valid UTF-8; rename the file (source ids are built from "
            "file names)"
        ) from None


def read_paths(paths: Iterable[str | Path]) -> Iterator[Document]:
    """Documents of every file under `paths`, in order."""
    for file in collect_files(paths):
        yield from read_file(file)


def read_located(files: Iterable[Path]) -> Iterator[tuple[str, Document]]:
    """(`file:line`, document) for every document of `files` (already selected files, read in order)."""
    for file in files:
        name = _source_name(file)
        for line, doc in _located_file(file):
            yield f"{name}:{line}", doc


def validate_files(files: Iterable[Path]) -> int:
    """Read every document of `files` and check it as learning would; returns how many there are.

    Raises `InputError` naming `file:line` for an empty or over-long text, an empty or non-UTF-8 id, text
    that is not UTF-8, a time that is not ISO-8601, or an id used twice (naming both places).
    """
    from sutra.engine import MAX_TEXT_CHARS  # the engine's own limit (importing it loads the engine module)

    first_seen: dict[str, str] = {}
    count = 0
    for where, doc in read_located(files):
        check_document(doc, where, max_chars=MAX_TEXT_CHARS)
        if doc.id in first_seen:
            raise InputError(
                f"{where}: duplicate document id {doc.id!r} (also at {first_seen[doc.id]}); ids must be "
                "unique within one ingest"
            )
        first_seen[doc.id] = where
        count += 1
    return count


def check_document(doc: Document, where: str, *, max_chars: int) -> None:
    """The engine's per-document checks, with errors naming `where`."""
    from sutra import validation

    if not isinstance(doc.id, str) or not doc.id.strip():
        raise InputError(f"{where}: the document id is empty; give it a non-empty id")
    check_utf8(doc.id, f"{where}: the document id")
    validation.source_id(doc.id, f"{where}: the document id")  # the engine's rules for ids (length, one line)
    if not isinstance(doc.text, str) or not doc.text.strip():
        raise InputError(f"{where}: document {doc.id!r} has no text; give it some words to learn")
    if len(doc.text) > max_chars:
        raise InputError(
            f"{where}: document {doc.id!r} is {len(doc.text):,} characters, more than the {max_chars:,} "
            "Sutra learns as one document; split it into smaller documents"
        )
    check_utf8(doc.text, f"{where}: the text")
    if doc.title is not None:
        check_utf8(doc.title, f"{where}: the title")
    if doc.time is not None:
        check_utf8(doc.time, f"{where}: the time")
        check_time(doc.time, f"{where}: time")


def read_file(path: Path) -> Iterator[Document]:
    """Documents of one file; raises `InputError` for unreadable, empty or malformed input."""
    for _, doc in _located_file(path):
        yield doc


def _located_file(path: Path) -> Iterator[tuple[int, Document]]:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(f"{shown(path)}: unknown format {suffix!r}; supported: {', '.join(SUFFIXES)}")
    # CSV keeps its line endings: the csv module splits records itself (quoted cells may hold newlines)
    text = _read_text(path, newline="" if suffix == ".csv" else None)
    yield from located_from_text(text, name=_source_name(path), suffix=suffix)


def documents_from_text(text: str, *, name: str, suffix: str) -> Iterator[Document]:
    """Documents of `text` read as a file of format `suffix`; ids and errors use `name` as the file name."""
    for _, doc in located_from_text(text, name=name, suffix=suffix):
        yield doc


def located_from_text(text: str, *, name: str, suffix: str) -> Iterator[tuple[int, Document]]:
    """(line the document starts on, document) for `text` read as a file of format `suffix`."""
    if not text.strip():
        raise InputError(f"{name}: file is empty; give it some text to learn")
    if suffix == ".jsonl":
        docs: Iterator[tuple[int, Document]] = _jsonl_documents(name, text)
    elif suffix == ".csv":
        docs = _csv_documents(name, text)
    elif suffix in (".md", ".txt"):
        docs = _paragraph_documents(name, text, markdown=suffix == ".md")
    else:
        raise InputError(f"{name}: unknown format {suffix!r}; supported: {', '.join(SUFFIXES)}")
    yielded = False
    for item in docs:
        yielded = True
        yield item
    if not yielded:
        raise InputError(f"{name}: no text found to learn (only headings, code or empty rows)")


def _read_text(path: Path, *, newline: str | None = None) -> str:
    try:
        # utf-8-sig: accept (and drop) a byte-order mark, which spreadsheet exports often add
        with path.open(encoding="utf-8-sig", newline=newline) as handle:
            return handle.read()
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{shown(path)}: not UTF-8 text (byte {exc.start}); convert it to UTF-8 first"
        ) from exc
    except OSError as exc:
        raise InputError(f"{shown(path)}: cannot read file: {exc.strerror or exc}") from exc


def _source_name(path: Path) -> str:
    # POSIX form so ids are the same on every platform and stable for `forget`
    return path.as_posix()


def _paragraph_documents(name: str, text: str, *, markdown: bool) -> Iterator[tuple[int, Document]]:
    for line, offset, title, body in _paragraphs(text, markdown=markdown):
        yield line, Document(id=f"{name}:{offset}", text=body, title=title)


def _paragraphs(text: str, *, markdown: bool) -> Iterator[tuple[int, int, str | None, str]]:
    """(line number, offset of first character, current heading, paragraph joined to one line) per paragraph.

    Line-based rather than a split on blank lines so that Markdown headings and code fences, which need not
    be surrounded by blank lines, are recognised wherever they stand.
    """
    offset = 0
    start: int | None = None
    start_line = 0
    lines: list[str] = []
    title: str | None = None
    in_fence = False
    line_number = 1  # counts "\n" only, as editors and `file:line` do
    for line in [*text.splitlines(keepends=True), ""]:  # the sentinel flushes the last paragraph
        here, here_line = offset, line_number
        offset += len(line)
        line_number += line.endswith("\n")
        stripped = line.strip()
        fence = markdown and stripped.startswith(("```", "~~~"))
        heading = _HEADING.match(stripped) if markdown and not in_fence else None
        if not stripped or fence or heading or in_fence:
            if lines and start is not None:
                yield start_line, start, title, " ".join(lines)
            lines, start = [], None
            if fence:
                in_fence = not in_fence
            elif heading:
                title = heading.group(1) or None
            continue
        if start is None:
            start = here + len(line) - len(line.lstrip())
            start_line = here_line
        lines.append(stripped)


def _csv_records(name: str, text: str) -> Iterator[tuple[int, list[str]]]:
    """(line the record starts on, cells) per CSV record, blank lines included as empty records."""
    # strict: an unterminated quote (or text after a closing quote) is an error, not a cell that silently
    # swallows the rest of the file
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            end = reader.line_num
            if str(exc) == "unexpected end of data":
                raise InputError(
                    f"{name}:{start}: malformed CSV: a quoted cell that starts on this line is never closed "
                    "(unterminated quote)"
                ) from exc
            span = f" (the record runs to line {end})" if end > start else ""
            raise InputError(f"{name}:{start}: malformed CSV: {exc}{span}") from exc
        yield start, cells


def _csv_documents(name: str, text: str) -> Iterator[tuple[int, Document]]:
    records = _csv_records(name, text)
    header = next(records, (1, []))[1]
    fields = [f.strip() for f in header]
    if not any(fields):
        raise InputError(f"{name}: CSV has no header row; the first row must name the columns")
    lower = {f.lower(): f for f in header}
    row_number = 0
    for line, cells in records:
        if not cells:
            continue  # a blank line
        row_number += 1
        if len(cells) > len(header):
            raise InputError(f"{name}:{line}: row has more cells than the header has columns")
        row: dict[str, Any] = dict(zip(header, cells, strict=False))
        if "text" in lower:
            body = (row.get(lower["text"]) or "").strip()
        else:
            body = "; ".join(f"{k.strip()}: {v.strip()}" for k, v in row.items() if k and v and v.strip())
        if not body:
            continue
        doc_id = (row.get(lower["id"]) or "").strip() if "id" in lower else ""
        yield (
            line,
            Document(
                id=doc_id or f"{name}:{row_number}",
                text=body,
                time=_optional_cell(row, lower, "time"),
                title=_optional_cell(row, lower, "title"),
            ),
        )


def _optional_cell(row: dict[str, Any], lower: dict[str, str], column: str) -> str | None:
    if column not in lower:
        return None
    value = (row.get(lower[column]) or "").strip()
    return value or None


def _jsonl_documents(name: str, text: str) -> Iterator[tuple[int, Document]]:
    # "\n" only: str.splitlines() would also split at U+2028/2029, U+0085 and \x1c-\x1e, which JSON allows
    # raw inside strings
    for line_number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{name}:{line_number}"
        yield line_number, document_from_json(line, where=where, default_id=where)


def parse_json_line(line: str, *, where: str) -> Any:
    """`json.loads` with every failure (bad syntax, nesting too deep, huge numbers) as an `InputError`."""
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})") from exc
    except RecursionError:
        raise InputError(f"{where}: not valid JSON for Sutra (nested too deeply)") from None
    except ValueError as exc:
        raise InputError(f"{where}: not valid JSON ({exc})") from exc


def document_from_json(line: str, *, where: str, default_id: str | None = None) -> Document:
    """Parse one corpus line (`id`, `text`, optional `time`, `title`, `meta`) with errors naming `where`."""
    row = parse_json_line(line, where=where)
    if not isinstance(row, dict):
        raise InputError(f"{where}: expected a JSON object with a 'text' field, got {type(row).__name__}")
    text = row.get("text")
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"{where}: 'text' must be a non-empty string")
    doc_id = row.get("id", default_id)
    if not isinstance(doc_id, str) or not doc_id.strip():
        raise InputError(f"{where}: 'id' must be a non-empty string")
    for key in ("time", "title"):
        if row.get(key) is not None and not isinstance(row[key], str):
            raise InputError(f"{where}: {key!r} must be a string")
    meta = row.get("meta") or {}
    if not isinstance(meta, dict):
        raise InputError(f"{where}: 'meta' must be a JSON object")
    return Document(id=doc_id, text=text.strip(), time=row.get("time"), title=row.get("title"), meta=meta)
