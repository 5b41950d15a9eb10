"""Readers get copies of stored records that equal them field for field and share nothing mutable.

The copies are built from the fields by position (`codec.concept_fields`, `association_fields`, which the
snapshot rows use too), so a field added to the model must be added there; these tests fail when one is
missed or two are swapped."""

from __future__ import annotations

import dataclasses

import numpy as np

from sutra.model import Association, AssociationType, Concept, ConceptKind, SemanticType
from sutra.store.local import _copy_association, _copy_concept


def _distinct_values(cls: type, fixed: dict[str, object]) -> dict[str, object]:
    """A value for every field of `cls`, no two alike, so a swapped pair shows."""
    values: dict[str, object] = {}
    for i, f in enumerate(dataclasses.fields(cls)):
        if f.name in fixed:
            values[f.name] = fixed[f.name]
        elif f.type in ("float", "float | None"):
            values[f.name] = 0.5 + i
        elif f.type in ("int", "int | None"):
            values[f.name] = 100 + i
        elif f.type == "bool":
            values[f.name] = True
        elif f.type.startswith("list"):
            values[f.name] = [f"{f.name}-1", f"{f.name}-2"]
        elif f.type.startswith("dict"):
            values[f.name] = {"nested": [f.name], "n": i}
        else:
            values[f.name] = f"{f.name}-value"
    return values


def test_a_concept_copy_equals_it_in_every_field_and_shares_no_list_or_map() -> None:
    values = _distinct_values(
        Concept,
        {
            "kind": ConceptKind.EVENT,
            "semantic_type": SemanticType.TEMPORAL,
            "vector": np.arange(4, dtype=np.float32),
        },
    )
    original = Concept(**values)  # type: ignore[arg-type]
    copy = _copy_concept(original)
    for f in dataclasses.fields(Concept):
        mine, theirs = getattr(copy, f.name), getattr(original, f.name)
        if f.name == "vector":
            assert np.array_equal(mine, theirs)
        else:
            assert mine == theirs, f.name
        if isinstance(theirs, list | dict):
            assert mine is not theirs, f.name
    assert copy.attrs["nested"] is not original.attrs["nested"]


def test_an_association_copy_equals_it_in_every_field_and_shares_no_list_or_map() -> None:
    values = _distinct_values(
        Association, {"type": AssociationType.CAUSAL, "history": [[1, "s:a"], [2, "s:b"]]}
    )
    original = Association(**values)  # type: ignore[arg-type]
    copy = _copy_association(original)
    for f in dataclasses.fields(Association):
        assert getattr(copy, f.name) == getattr(original, f.name), f.name
    assert copy.history[0] is not original.history[0]
    assert copy.sources is not original.sources and copy.statements is not original.statements
