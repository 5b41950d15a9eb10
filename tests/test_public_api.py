"""The public API is what `sutra/__init__.py` exports: sorted, complete, importable."""

import sutra


def test_all_is_sorted_and_importable() -> None:
    assert sutra.__all__ == sorted(sutra.__all__)
    for name in sutra.__all__:
        assert getattr(sutra, name) is not None


def test_every_error_is_a_sutra_error() -> None:
    errors = [getattr(sutra, n) for n in sutra.__all__ if n.endswith("Error")]
    assert len(errors) >= 8
    assert all(issubclass(e, sutra.SutraError) for e in errors)
