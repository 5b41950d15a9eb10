"""Record tables: id -> concept or association, decoded from a snapshot's rows only when first read.
The graph's saved indexes use the same tables (key -> index entry).

Opening a large store used to turn every snapshot row into a Python object before the first query (two
million records at 1M concepts: most of a 12 s open). A `RecordTable` instead starts as `id -> row number`
over the snapshot's packed rows (`RowSource`, memory-mapped) and replaces a number by its record the first
time anything reads it. Writes store records directly, so a table holds a mix of both; order is still
`seq` order, since rows are written in that order and replacing a dict value keeps its place.

Small per-row columns (a concept's kind, an association's type...) stored beside the rows answer filters and
counts without decoding rows that do not match. Readers must hold the store's lock while a table caches a
decoded record; `entries()` + `materialize()` decode without caching, for work done outside the lock.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np


class RowSource:
    """Packed rows (`rows[offsets[i]:offsets[i + 1]]` is row i) and a function turning one into a record."""

    def __init__(
        self,
        rows: memoryview,
        offsets: np.ndarray,
        decode: Callable[[memoryview, str | None, int], Any],
        columns: dict[str, tuple[np.ndarray, list[Any]]],
    ) -> None:
        # columns: field name -> (one code per row, the value each code stands for)
        self._rows, self._decode, self.columns = rows, decode, columns
        self.vectors: tuple[np.ndarray, np.ndarray] | None = None  # (vector row per row, -1: none; matrix)
        self._offsets = offsets.tolist()  # Python ints: indexing a list is faster than a numpy array

    def record(self, i: int, key: str | None = None) -> Any:
        """Row i as a record; `decode` checks it (and that its id is `key`, when given)."""
        start, stop = self._offsets[i], self._offsets[i + 1]
        return self._decode(self._rows[start:stop], key, i)

    def vector(self, i: int) -> np.ndarray | None:
        """Row i's vector from the vector file, without decoding the row (None if it has none there)."""
        if self.vectors is None:
            return None
        rows, matrix = self.vectors
        return matrix[rows[i]] if rows[i] >= 0 else None

    def packed(self, i: int) -> bytes:
        return bytes(self._rows[self._offsets[i] : self._offsets[i + 1]])

    def value(self, field: str, i: int) -> Any:
        codes, values = self.columns[field]
        return values[codes[i]]


class RecordTable(dict):  # type: ignore[type-arg]
    """Records keyed by id, in `seq` order, whose values may still be row numbers of a `RowSource`:
    reading one through `get`, `[]`, `setdefault`, `values` or `items` decodes and keeps it. A dict
    subclass, so that membership, length, iteration over keys and writes run at dict speed (the write
    path uses them for every record)."""

    __slots__ = ("_source",)

    def __init__(self, source: RowSource | None = None, ids: Sequence[str] = ()) -> None:
        super().__init__(zip(ids, range(len(ids)), strict=True) if source is not None else ())
        self._source = source

    @property
    def source(self) -> RowSource | None:
        return self._source

    def entries(self) -> list[tuple[str, Any]]:
        """(key, record or row number) for every entry, in order: a copy, taken without decoding."""
        return list(dict.items(self))

    @classmethod
    def of(cls, records: Iterable[Any]) -> RecordTable:
        table = cls()
        dict.update(table, ((r.id, r) for r in records))
        return table

    def _decoded(self, key: str, row: int) -> Any:
        record = self._source.record(row, key)  # type: ignore[union-attr]
        dict.__setitem__(self, key, record)
        return record

    def get(self, key: str, default: Any = None) -> Any:
        value = dict.get(self, key)
        if value is None:
            return default
        return self._decoded(key, value) if type(value) is int else value

    def __getitem__(self, key: str) -> Any:
        value = dict.__getitem__(self, key)
        return self._decoded(key, value) if type(value) is int else value

    def setdefault(self, key: str, default: Any = None) -> Any:
        value = self.get(key)
        if value is None:
            dict.__setitem__(self, key, default)
            value = default
        return value

    def values(self) -> Iterator[Any]:  # type: ignore[override]
        """Every record in `seq` order, decoding (and keeping) the ones not read yet."""
        for _, value in self.items():
            yield value

    def items(self) -> Iterator[tuple[str, Any]]:  # type: ignore[override]
        """(key, record) pairs: the key as the table holds it, so `Graph.check` can compare it with the id."""
        for key, value in dict.items(self):
            yield key, self._decoded(key, value) if type(value) is int else value

    def materialize(self, entries: list[tuple[str, Any]]) -> Iterator[Any]:
        """The records of `entries` (taken by `entries()`), rows decoded without touching the table."""
        source = self._source
        for key, value in entries:
            yield source.record(value, key) if type(value) is int else value  # type: ignore[union-attr]

    def packed_items(self, encode: Callable[[Any], bytes]) -> Iterator[tuple[str, bytes]]:
        """(key, packed entry) pairs: rows never decoded as they were packed, the rest through `encode`.
        Decodes nothing and caches nothing, so a reader may decode entries meanwhile."""
        source = self._source
        for key, value in list(dict.items(self)):
            yield key, source.packed(value) if type(value) is int else encode(value)  # type: ignore[union-attr]

    def select(self, field: str, value: Any) -> Iterator[Any]:
        """The records whose `field` equals `value`, decoding only those (the field must be a column)."""
        column = self._source.columns.get(field) if self._source is not None else None
        for key, entry in dict.items(self):
            if type(entry) is int:
                codes, values = column  # type: ignore[misc]
                if values[codes[entry]] != value:
                    continue
                entry = self._decoded(key, entry)
            elif getattr(entry, field) != value:
                continue
            yield entry

    def tally(self, field: str) -> Counter[Any]:
        """How many records hold each value of `field`, from the column for rows not decoded yet."""
        counts: Counter[Any] = Counter()
        rows: list[int] = []
        for entry in dict.values(self):
            if type(entry) is int:
                rows.append(entry)
            else:
                counts[getattr(entry, field)] += 1
        if rows:
            codes, values = self._source.columns[field]  # type: ignore[union-attr]
            for code, n in enumerate(np.bincount(codes[rows], minlength=len(values)).tolist()):
                if n:
                    counts[values[code]] += n
        return counts

    def column_mismatches(self) -> list[str]:
        """Records whose column values differ from their fields (for `check`; decodes every record)."""
        if self._source is None:
            return []
        wrong = []
        for key, row in list(dict.items(self)):
            if type(row) is int:
                record = self._source.record(row, key)
                wrong += [f"{key}: its {field} column says {self._source.value(field, row)!r}, the record "
                          f"{getattr(record, field)!r}" for field in self._source.columns
                          if self._source.value(field, row) != getattr(record, field)]  # fmt: skip
        return wrong

    def sort_by_seq(self) -> None:
        """Restore `seq` order after a rollback re-inserted records at the end (decodes every record)."""
        ordered = sorted(self.items(), key=lambda kv: kv[1].seq)
        dict.clear(self)
        dict.update(self, ordered)

    def decoded(self) -> int:
        """How many records have been decoded or written since the table was opened (for tests and stats)."""
        return sum(type(v) is not int for v in dict.values(self))
