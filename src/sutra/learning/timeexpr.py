"""Dates and relative time expressions in a sentence, resolved against the document's own time.

Absolute dates ("2024-03-02", "March 2, 2024") become ISO-8601 event times. Relative expressions
("yesterday", "this morning", "then", "afterwards") are kept with an ordering hint so later reasoning can
order facts that carry no date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from dateutil import parser as dateparser

# Relative day parts in the order they happen; "yesterday" precedes "this morning".
RELATIVE_ORDER = {
    "yesterday": -1.0,
    "last night": -0.5,
    "this morning": 0.1,
    "this afternoon": 0.2,
    "this evening": 0.3,
    "tonight": 0.35,
    "today": 0.0,
    "tomorrow": 1.0,
}
SEQUENCE_WORDS = {"then", "afterwards", "afterward", "later", "next", "subsequently", "finally"}


@dataclass(slots=True)
class TimeInfo:
    expression: str | None = None
    iso: str | None = None  # absolute event time when one could be resolved
    relative: float | None = None  # day offset for relative expressions (yesterday = -1)
    sequence: bool = False  # "then", "afterwards": happens after the previous statement


MONTHS = re.compile(r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\b", re.IGNORECASE)
NUMERIC_DATE = re.compile(r"\b(\d{4}|\d{1,2}[/.-]\d{1,2})\b")


def _looks_like_date(text: str) -> bool:
    """A year, a month name with a number, or d/m: a bare "20" ("CE sym 20") is a count, not a day."""
    has_digit = any(ch.isdigit() for ch in text)
    return has_digit and bool(MONTHS.search(text) or NUMERIC_DATE.search(text))


def _parse_date(text: str, anchor: datetime | None) -> str | None:
    try:
        default = anchor or datetime(2000, 1, 1)
        parsed = dateparser.parse(text, default=default.replace(hour=0, minute=0, second=0, microsecond=0))
    except (ValueError, OverflowError):
        return None
    return parsed.isoformat()


def _anchor(doc_time: str | None) -> datetime | None:
    if not doc_time:
        return None
    try:
        return dateparser.isoparse(doc_time)
    except ValueError:
        return None


def time_of(sent: Any, doc_time: str | None) -> TimeInfo:
    """The time a sentence talks about: a date in it, a relative phrase, or the document's time."""
    lower = sent.text.lower()
    anchor = _anchor(doc_time)
    info = TimeInfo(iso=anchor.isoformat() if anchor else None)
    for phrase, offset in RELATIVE_ORDER.items():
        if phrase in lower:
            info.expression, info.relative = phrase, offset
            if anchor:
                info.iso = (anchor + timedelta(days=round(offset))).date().isoformat()
            break
    if any(t.lower_ in SEQUENCE_WORDS for t in sent):
        info.sequence = True
        info.expression = info.expression or next(t.lower_ for t in sent if t.lower_ in SEQUENCE_WORDS)
    for ent in sent.ents:
        if ent.label_ == "DATE" and _looks_like_date(ent.text):
            iso = _parse_date(ent.text, anchor)
            if iso:
                info.expression, info.iso = ent.text, iso
                break
    return info
