"""The embedder interface: text in, unit-length float32 vectors out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np


class Embedder(ABC):
    """Maps texts to L2-normalised vectors, so a dot product is a cosine similarity.

    Backends live one per module (`onnx_embedder.py` today, an HTTP client later) and are created through
    `sutra.embedding.get_embedder`.
    """

    name: str
    """The model's name, e.g. ``sentence-transformers/all-MiniLM-L6-v2``; stored with vectors so an index
    built with one model is never queried with another."""
    dim: int
    """Length of every vector."""
    max_tokens: int
    """The model's window in tokens (special tokens included); longer text is chunked, never truncated."""

    @abstractmethod
    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for `texts`: float32, shape ``(len(texts), dim)``, unit length, row i for texts[i].

        Raises InputError for an empty or blank text."""

    def embed_one(self, text: str) -> np.ndarray:
        """The vector of a single text, shape ``(dim,)``."""
        return self.embed([text])[0]
