"""Turn files and folders into `Document`s, streaming, one format per reader.

Formats (chosen by extension):
- `.txt`, `.md`: each paragraph (blank-line separated) is a document with id `<file>:<offset>`, the character
  offset of its first character, so an id points back at the exact place in the file. In Markdown a heading
  is not a document; it becomes the `title` of the paragraphs under it, and fenced code blocks are skipped
  (they are not statements to learn).
- `.csv`: one document per row; the `text` column when there is one, otherwise the row's cells joined as
  `column: value; ...`. Optional `id`, `time` and `title` columns are used; the default id is `<file>:<row>`.
- `.jsonl`: the shared corpus format, one object per line: `id`, `text`, optional `time`, `title`, `meta`.

Every problem is an `InputError` naming the file (and line) and saying what to fix. Folders are walked in
sorted order (determinism) and files with other extensions in them are skipped; a file named explicitly
with an unknown extension is an error.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from sutra.errors import InputError
from sutra.model import Document

SUFFIXES: tuple[str, ...] = (".txt", ".md", ".csv", ".jsonl")

_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$")


def collect_files(paths: Iterable[str | Path]) -> list[Path]:
    """Expand folders (recursively, sorted, hidden entries skipped) into the files Sutra can read."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = [
                p
                for p in sorted(path.rglob("*"))
                if p.is_file()
                and p.suffix.lower() in SUFFIXES
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            ]
            if not found:
                raise InputError(f"{path}: folder has no {', '.join(SUFFIXES)} files to ingest")
            files.extend(found)
        elif path.is_file():
            if path.suffix.lower() not in SUFFIXES:
                raise InputError(
                    f"{path}: unknown format {path.suffix or '(no extension)'!r}; "
                    f"supported: {', '.join(SUFFIXES)}"
                )
            files.append(path)
        elif path.exists():
            raise InputError(f"{path}: not a regular file or folder")
        else:
            raise InputError(f"{path}: no such file or folder")
    return files


def read_paths(paths: Iterable[str | Path]) -> Iterator[Document]:
    """Documents of every file under `paths`, in order."""
    for file in collect_files(paths):
        yield from read_file(file)


def read_file(path: Path) -> Iterator[Document]:
    """Documents of one file; raises `InputError` for unreadable, empty or malformed input."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(f"{path}: unknown format {suffix!r}; supported: {', '.join(SUFFIXES)}")
    yield from documents_from_text(_read_text(path), name=_source_name(path), suffix=suffix)


def documents_from_text(text: str, *, name: str, suffix: str) -> Iterator[Document]:
    """Documents of `text` read as a file of format `suffix`; ids and errors use `name` as the file name."""
    if not text.strip():
        raise InputError(f"{name}: file is empty; give it some text to learn")
    if suffix == ".jsonl":
        docs: Iterator[Document] = _jsonl_documents(name, text)
    elif suffix == ".csv":
        docs = _csv_documents(name, text)
    elif suffix in (".md", ".txt"):
        docs = _paragraph_documents(name, text, markdown=suffix == ".md")
    else:
        raise InputError(f"{name}: unknown format {suffix!r}; supported: {', '.join(SUFFIXES)}")
    yielded = False
    for doc in docs:
        yielded = True
        yield doc
    if not yielded:
        raise InputError(f"{name}: no text found to learn (only headings, code or empty rows)")


def _read_text(path: Path) -> str:
    try:
        # utf-8-sig: accept (and drop) a byte-order mark, which spreadsheet exports often add
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start}); convert it to UTF-8 first") from exc
    except OSError as exc:
        raise InputError(f"{path}: cannot read file: {exc.strerror or exc}") from exc


def _source_name(path: Path) -> str:
    # POSIX form so ids are the same on every platform and stable for `forget`
    return path.as_posix()


def _paragraph_documents(name: str, text: str, *, markdown: bool) -> Iterator[Document]:
    for offset, title, body in _paragraphs(text, markdown=markdown):
        yield Document(id=f"{name}:{offset}", text=body, title=title)


def _paragraphs(text: str, *, markdown: bool) -> Iterator[tuple[int, str | None, str]]:
    """(offset of first character, current heading, paragraph joined to one line) per paragraph.

    Line-based rather than a split on blank lines so that Markdown headings and code fences, which need not
    be surrounded by blank lines, are recognised wherever they stand.
    """
    offset = 0
    start: int | None = None
    lines: list[str] = []
    title: str | None = None
    in_fence = False
    for line in [*text.splitlines(keepends=True), ""]:  # the sentinel flushes the last paragraph
        here = offset
        offset += len(line)
        stripped = line.strip()
        fence = markdown and stripped.startswith(("```", "~~~"))
        heading = _HEADING.match(stripped) if markdown and not in_fence else None
        if not stripped or fence or heading or in_fence:
            if lines and start is not None:
                yield start, title, " ".join(lines)
            lines, start = [], None
            if fence:
                in_fence = not in_fence
            elif heading:
                title = heading.group(1) or None
            continue
        if start is None:
            start = here + len(line) - len(line.lstrip())
        lines.append(stripped)


def _csv_documents(name: str, text: str) -> Iterator[Document]:
    reader = csv.DictReader(text.splitlines())
    fields = [f.strip() for f in reader.fieldnames or []]
    if not any(fields):
        raise InputError(f"{name}: CSV has no header row; the first row must name the columns")
    lower = {f.lower(): f for f in reader.fieldnames or []}
    try:
        for row_number, row in enumerate(reader, start=1):
            if None in row:
                raise InputError(f"{name}:{reader.line_num}: row has more cells than the header has columns")
            if "text" in lower:
                body = (row.get(lower["text"]) or "").strip()
            else:
                body = "; ".join(f"{k.strip()}: {v.strip()}" for k, v in row.items() if k and v and v.strip())
            if not body:
                continue
            doc_id = (row.get(lower["id"]) or "").strip() if "id" in lower else ""
            yield Document(
                id=doc_id or f"{name}:{row_number}",
                text=body,
                time=_optional_cell(row, lower, "time"),
                title=_optional_cell(row, lower, "title"),
            )
    except csv.Error as exc:
        raise InputError(f"{name}:{reader.line_num}: malformed CSV: {exc}") from exc


def _optional_cell(row: dict[str, Any], lower: dict[str, str], column: str) -> str | None:
    if column not in lower:
        return None
    value = (row.get(lower[column]) or "").strip()
    return value or None


def _jsonl_documents(name: str, text: str) -> Iterator[Document]:
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        yield document_from_json(line, where=f"{name}:{line_number}", default_id=f"{name}:{line_number}")


def document_from_json(line: str, *, where: str, default_id: str | None = None) -> Document:
    """Parse one corpus line (`id`, `text`, optional `time`, `title`, `meta`) with errors naming `where`."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})") from exc
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
