"""Checks on what callers hand the engine: types, lengths, encodings and dates.

Every failure is an `InputError` naming the argument, what it must be, and what to do instead. This module
is light (no spaCy, no onnxruntime), so the CLI can import the limits from here before opening a space.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path

from dateutil import parser as dateparser

from sutra.errors import InputError
from sutra.model import Document

MAX_TEXT_CHARS = 1_000_000  # spaCy's `nlp.max_length`: the parser refuses longer texts
MAX_QUESTION_CHARS = 10_000
MAX_SOURCE_ID_CHARS = 1_000
TIME_EXAMPLE = "'2024-05-01' or '2024-05-01T09:30:00+02:00'"


def _kind(value: object) -> str:
    return type(value).__name__


def string(value: object, what: str) -> str:
    """`value` as a str that encodes as UTF-8 (Python keeps undecodable input bytes as lone surrogates)."""
    if not isinstance(value, str):
        raise InputError(f"{what} must be a string (str), got {_kind(value)}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InputError(
            f"{what} contains bytes that are not valid UTF-8 (at character {exc.start:,}); "
            "save or pass the input as UTF-8, or remove the invalid bytes"
        ) from None
    return value


def has_words(value: str) -> bool:
    """Whether `value` holds a letter, digit, punctuation mark or symbol: text made only of control,
    invisible (zero-width) or lone combining characters has nothing to read or embed."""
    # U+FFFD stands for bytes that could not be decoded: not a word either
    return any(unicodedata.category(ch)[0] in "LNPS" and ch != "\ufffd" for ch in value)


_NO_WORDS = "it holds only control, invisible or combining characters"


def text(value: object, what: str = "text") -> str:
    if not isinstance(value, str):
        raise InputError(f"{what} must be a string (str), got {_kind(value)}")
    if not value.strip():
        raise InputError(f"nothing to learn: the {what} is empty")
    if not has_words(value):
        raise InputError(f"the {what} has no words: {_NO_WORDS}")
    if len(value) > MAX_TEXT_CHARS:
        raise InputError(
            f"the {what} is {len(value):,} characters, above the limit of {MAX_TEXT_CHARS:,} per document; "
            "split it into smaller documents (for example one per paragraph, as `sutra ingest` does)"
        )
    return string(value, what)


def question(value: object) -> str:
    if not isinstance(value, str):
        raise InputError(f"the question must be a string (str), got {_kind(value)}")
    if not value.strip():
        raise InputError("the question is empty; ask something like 'Where is Mary?'")
    if not has_words(value):
        raise InputError(f"the question has no words: {_NO_WORDS}; ask something like 'Where is Mary?'")
    if len(value) > MAX_QUESTION_CHARS:
        raise InputError(
            f"the question is {len(value):,} characters, above the limit of {MAX_QUESTION_CHARS:,}; "
            "ask one short question (learn long texts with `learn` instead)"
        )
    return string(value, "the question")


def source_id(value: object, what: str = "source") -> str:
    """A source id: non-empty, at most `MAX_SOURCE_ID_CHARS`, one line without control characters."""
    value = string(value, what)
    if not value.strip():
        raise InputError(f"{what} is empty; give a non-empty source id such as 'notes.txt:3'")
    if len(value) > MAX_SOURCE_ID_CHARS:
        raise InputError(
            f"{what} is {len(value):,} characters; a source id may have at most {MAX_SOURCE_ID_CHARS:,} "
            "(use a short name such as a file name and line number)"
        )
    bad = next((ch for ch in value if unicodedata.category(ch) == "Cc" or ch in "\u2028\u2029"), None)
    if bad is not None:
        raise InputError(
            f"{what} {value[:80]!r} contains the control character {bad!r}; "
            "a source id must be one line of printable characters"
        )
    return value


def event_time(value: object, what: str = "time") -> str | None:
    """None, or an ISO-8601 date or date-time string (what the learner's time anchor parses)."""
    if value is None:
        return None
    hint = f"an ISO-8601 date or date-time string such as {TIME_EXAMPLE}, or left out"
    if not isinstance(value, str):
        raise InputError(f"{what} must be {hint}; got {_kind(value)}")
    string(value, what)
    try:
        dateparser.isoparse(value)
    except (ValueError, OverflowError):
        raise InputError(f"{what} {value[:80]!r} is not a valid date; give {hint}") from None
    return value


def document(doc: object, index: int) -> Document:
    if not isinstance(doc, Document):
        raise InputError(
            f"document {index} must be a sutra.Document, got {_kind(doc)}; "
            "build one with Document(id='source-1', text='...')"
        )
    source_id(doc.id, f"document {index}: id")
    label = f"document {doc.id!r}"
    if not isinstance(doc.text, str):
        raise InputError(f"{label}: text must be a string (str), got {_kind(doc.text)}")
    if not doc.text.strip():
        raise InputError(f"{label} has no text; give it some words to learn")
    text(doc.text, f"text of {label}")
    event_time(doc.time, f"{label}: time")
    if doc.title is not None:
        string(doc.title, f"{label}: title")
    if not isinstance(doc.meta, Mapping):
        raise InputError(f"{label}: meta must be a dict, got {_kind(doc.meta)}")
    return doc


def documents(docs: object) -> list[Document]:
    """All documents of one call, checked before any is learned (the iterable is read once)."""
    if isinstance(docs, str | bytes | Document | Mapping) or not isinstance(docs, Iterable):
        raise InputError(
            f"documents must be a list (or other iterable) of sutra.Document, got {_kind(docs)}; "
            "to learn one text, call learn(text, source=...)"
        )
    checked = list(docs)
    for index, doc in enumerate(checked):
        document(doc, index)
    return checked


def data_dir(value: object) -> Path | None:
    if value is None:
        return None
    if not isinstance(value, str | os.PathLike):
        raise InputError(f"data_dir must be a path (str or pathlib.Path) or None, got {_kind(value)}")
    if isinstance(value, str) and not value.strip():
        raise InputError("data_dir is empty; give the directory of the space, such as './kb'")
    return Path(value)


def audit_id(value: object) -> str:
    if not isinstance(value, str):
        raise InputError(
            f"the audit id must be a string (str) such as 'q:0123456789abcdef', got {_kind(value)}"
        )
    if not value.strip():
        raise InputError("the audit id is empty; audit ids are printed with each answer")
    return string(value, "the audit id")
