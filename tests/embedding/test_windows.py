"""Window placement for long texts: every token covered, neighbours overlap, all windows full-length."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sutra.embedding import windows


@given(length=st.integers(1, 3000), size=st.integers(2, 300), data=st.data())
def test_windows_cover_everything_and_overlap(length: int, size: int, data: st.DataObject) -> None:
    overlap = data.draw(st.integers(0, size - 1))
    ids = list(range(length))
    parts = windows.split(ids, size, overlap)
    assert sorted({t for part in parts for t in part}) == ids
    if length <= size:
        assert parts == [ids]
        return
    assert all(len(part) == size for part in parts)
    for left, right in itertools.pairwise(parts):
        shared = len(set(left) & set(right))
        assert shared >= overlap
        assert right[0] > left[0]  # progress, no duplicate windows


def test_exact_window_sizes() -> None:
    assert windows.window_starts(254, 254, 32) == [0]
    assert windows.window_starts(255, 254, 32) == [0, 1]
    assert windows.window_starts(600, 254, 32) == [0, 222, 346]


@pytest.mark.parametrize(("size", "overlap"), [(0, 0), (10, 10), (10, -1)])
def test_bad_window_parameters(size: int, overlap: int) -> None:
    with pytest.raises(ValueError):
        windows.window_starts(100, size, overlap)


def test_combine_is_the_renormalised_mean() -> None:
    vectors = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    combined = windows.combine(vectors)
    assert combined.dtype == np.float32
    np.testing.assert_allclose(combined, [2**-0.5, 2**-0.5], rtol=1e-6)
    single = np.array([[0.6, 0.8]], dtype=np.float32)
    np.testing.assert_array_equal(windows.combine(single), single[0])
