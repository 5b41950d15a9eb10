"""How a space holds its concept vectors: float32, float16 or int8, chosen when the space is created.

The WAL always carries float32 (what the caller gave, normalized); the store keeps each concept's vector in
the space's `vector_dtype` in memory and in the snapshot's vector file, and hands float32 back to readers.
The search indexes are fed decoded float32 rows (hnswlib only takes float32), so the saving is on the
vectors the graph holds and on disk: 2x for float16, 4x for int8.

int8 keeps only the direction, which is all cosine similarity needs: a vector is scaled so its largest
component is 127 and rounded; decoding divides by the norm. For 384-d sentence vectors that keeps the
cosine with the original above 0.999 (tests/store/test_store_vectors_compact.py measures it), float16 above
0.99999.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

VECTOR_DTYPES = ("float32", "float16", "int8")
DEFAULT_VECTOR_DTYPE = "float32"
_NUMPY = {"float32": np.dtype("<f4"), "float16": np.dtype("<f2"), "int8": np.dtype("i1")}


def numpy_dtype(name: str) -> np.dtype:
    return _NUMPY[name]


def encode(vector: np.ndarray, dtype: str) -> np.ndarray:
    """A normalized float32 vector in the compact form `dtype` (the same array for float32)."""
    if dtype == "float32":
        return vector
    if dtype == "float16":
        return vector.astype(np.float16)
    return encode_rows(vector[np.newaxis, :], dtype)[0]


def encode_rows(matrix: np.ndarray, dtype: str) -> np.ndarray:
    if dtype == "float32":
        return np.asarray(matrix, dtype=np.float32)
    if dtype == "float16":
        return np.asarray(matrix, dtype=np.float16)
    peak = np.abs(matrix).max(axis=1, keepdims=True)
    peak[peak == 0] = 1.0
    return np.rint(matrix / peak * 127.0).astype(np.int8)


def decode(vector: np.ndarray) -> np.ndarray:
    """Float32 whatever the stored form (a float32 vector comes back as it is: no copy). Normalized up to
    float16's rounding (a relative 1e-3 at most), which cosine search does not notice."""
    if vector.dtype == np.float32:
        return vector
    return decode_rows(vector[np.newaxis, :])[0]


def decode_rows(rows: np.ndarray | Sequence[np.ndarray]) -> np.ndarray:
    """A float32 matrix of (near-)unit rows from stored vectors (an array or a list of rows)."""
    matrix = np.asarray(rows if isinstance(rows, np.ndarray) else np.stack(rows))
    if matrix.dtype != np.int8:  # float16 widens exactly, so encode(decode(v)) gives v back
        return matrix.astype(np.float32, copy=False)
    out = matrix.astype(np.float32)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return out / norms
