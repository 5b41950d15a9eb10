"""Entity names and aliases -> entity concept ids, for `find_entities`.

Names are compared after lower-casing (Unicode case folding) and collapsing runs of whitespace, so
"New  York" and "new york" meet. Only concepts of kind ENTITY are indexed, by their text and every alias.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sutra.model import Concept, ConceptKind


def normalize_name(name: str) -> str:
    return " ".join(name.casefold().split())


def entity_names(c: Concept | None) -> set[str]:
    if c is None or c.kind != ConceptKind.ENTITY:
        return set()
    return {n for n in (normalize_name(x) for x in [c.text, *c.aliases]) if n}


def _not_entity(c: Concept | None) -> bool:
    return c is None or c.kind != ConceptKind.ENTITY


class EntityIndex:
    def __init__(self) -> None:
        self._ids: dict[str, dict[str, None]] = {}  # normalized name -> concept ids

    def update(self, old: Concept | None, new: Concept | None) -> None:
        """Reflect one concept changing from `old` to `new` (same id; either may be None)."""
        current = new if new is not None else old
        if current is None or (_not_entity(old) and _not_entity(new)):  # most writes: nothing to index
            return
        before, after = entity_names(old), entity_names(new)
        for name in before - after:
            ids = self._ids[name]
            del ids[current.id]
            if not ids:
                del self._ids[name]
        for name in after - before:
            self._ids.setdefault(name, {})[current.id] = None

    def find(self, name: str) -> list[str]:
        return list(self._ids.get(normalize_name(name), ()))

    def snapshot(self) -> dict[str, frozenset[str]]:
        return {name: frozenset(ids) for name, ids in self._ids.items()}

    def saved(self) -> dict[str, list[str]]:
        """The index as plain maps and lists, for a snapshot (`from_saved` takes it back)."""
        return {name: list(ids) for name, ids in self._ids.items()}

    @classmethod
    def from_saved(cls, saved: dict[str, Any]) -> EntityIndex:
        index = cls()
        index._ids = {name: dict.fromkeys(ids) for name, ids in saved.items()}
        return index

    @classmethod
    def build(cls, concepts: Iterable[Concept]) -> EntityIndex:
        index = cls()
        for c in concepts:
            index.update(None, c)
        return index
