"""Splitting a token sequence that exceeds the model's window into overlapping windows.

Why chunk rather than truncate: a truncated text embeds only its beginning, so a fact stated late in a long
passage would be invisible to vector search. Each window is embedded as its own sequence and the text's vector
is the re-normalised mean of its window vectors (see `combine`).

Window placement: windows start every `size - overlap` tokens, and the last one is pulled back to end exactly
at the final token. Every window is therefore full-length, and an unweighted mean does not over-weight a short
tail window (a 10-token remainder would otherwise count as much as 254 tokens of text).
"""

from __future__ import annotations

import numpy as np


def window_starts(length: int, size: int, overlap: int) -> list[int]:
    """Start offsets of windows of `size` tokens covering `length` tokens with at least `overlap` shared."""
    if size < 1 or not 0 <= overlap < size:
        raise ValueError(f"need size ≥ 1 and 0 ≤ overlap < size, got size={size}, overlap={overlap}")
    if length <= size:
        return [0]
    step = size - overlap
    starts = list(range(0, length - size, step))
    starts.append(length - size)
    return starts


def split(ids: list[int], size: int, overlap: int) -> list[list[int]]:
    """The windows of `ids` (content tokens, no special tokens)."""
    return [ids[start : start + size] for start in window_starts(len(ids), size, overlap)]


def combine(vectors: np.ndarray) -> np.ndarray:
    """One unit vector from the unit vectors of a text's windows: their mean, re-normalised.

    Rejected alternative: max-pooling over windows keeps outlier dimensions of one chunk and drifts away from
    the model's training distribution; the mean stays a convex combination of real sentence embeddings."""
    if len(vectors) == 1:
        return vectors[0]
    mean = vectors.mean(axis=0)
    return (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32)
