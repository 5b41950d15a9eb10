"""A small incremental BM25 index over the texts of statement and rule concepts.

Own code rather than a library such as `bm25s`: those build a static matrix and re-index the whole corpus
to add one document, while the store adds and removes documents one at a time. The index is not persisted:
rebuilding it from the snapshot's texts on open is cheap (see the store benchmark) and cannot drift.

Scoring is Okapi BM25 with k1=1.2, b=0.75 and the non-negative idf `ln(1 + (N - df + 0.5) / (df + 0.5))`.
Each document's score is summed over the query terms in query order, so results are reproducible exactly;
ties are broken by id.
"""

from __future__ import annotations

import heapq
import math
import re
from collections.abc import Iterable

from sutra.model import Concept, ConceptKind

INDEXED_KINDS = frozenset({ConceptKind.STATEMENT, ConceptKind.RULE})

# Function words that carry no topic. Negations ("no", "not") stay searchable: they change meaning.
_STOP_TEXT = """
a an and are as at be been being but by can could did do does for from had has have he her hers him
his i if in into is it its me my of on or our she so such than that the their them then there these
they this those to too us was we were what when where which while who whom why will with would you
your
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())

_WORD = re.compile(r"[^\W_]+")


def tokenize(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.casefold()) if w not in STOP_WORDS]


class KeywordIndex:
    def __init__(self, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self._postings: dict[str, dict[str, int]] = {}  # term -> document id -> term frequency
        self._lengths: dict[str, int] = {}  # document id -> number of terms
        self._terms: dict[str, tuple[str, ...]] = {}  # document id -> its distinct terms (for removal)
        self._total = 0

    def __len__(self) -> int:
        return len(self._lengths)

    def __contains__(self, doc_id: str) -> bool:
        return doc_id in self._lengths

    def add(self, doc_id: str, text: str) -> None:
        if doc_id in self._lengths:
            self.remove(doc_id)
        words = tokenize(text)
        counts: dict[str, int] = {}
        for word in words:  # a plain dict: Counter costs more than the rest of this method
            counts[word] = counts.get(word, 0) + 1
        self._lengths[doc_id] = len(words)
        self._terms[doc_id] = tuple(counts)
        self._total += len(words)
        postings = self._postings
        for term, n in counts.items():
            posting = postings.get(term)
            if posting is None:
                postings[term] = {doc_id: n}
            else:
                posting[doc_id] = n

    def remove(self, doc_id: str) -> None:
        length = self._lengths.pop(doc_id, None)
        if length is None:
            return
        self._total -= length
        for term in self._terms.pop(doc_id):
            posting = self._postings[term]
            del posting[doc_id]
            if not posting:
                del self._postings[term]

    def search(self, query: str, k: int = 10) -> list[tuple[str, float]]:
        """The top `k` documents by BM25. Exact, but a common term's postings are only walked while a
        document outside the candidates found so far could still reach the top `k` (MaxScore: a term adds
        less than idf * (k1 + 1) to any score). A million-document store answers in milliseconds instead
        of walking every posting of words like "fact", and no query walks its postings more than twice."""
        n_docs = len(self._lengths)
        if k <= 0 or not n_docs:
            return []
        terms = [t for t in dict.fromkeys(tokenize(query)) if t in self._postings]  # distinct, query order
        idf = {
            t: math.log(1.0 + (n_docs - len(self._postings[t]) + 0.5) / (len(self._postings[t]) + 0.5))
            for t in terms
        }
        rarest_first = sorted(terms, key=lambda t: len(self._postings[t]))
        # bound[i]: the most that terms i.. of rarest_first can add to a document that has none of 0..i-1
        bound = [0.0] * (len(terms) + 1)
        for i in range(len(terms) - 1, -1, -1):
            bound[i] = bound[i + 1] + idf[rarest_first[i]] * (self.k1 + 1.0)
        avg_len = (self._total / n_docs) or 1.0
        # 1. walk postings rarest first, for partial sums, until no outside document can reach the top k
        partial: dict[str, float] = {}
        walked = len(rarest_first)
        for i, term in enumerate(rarest_first):
            # checked after 1, 2, 4, 8 ... terms: walking a little further than needed is still exact,
            # and a thousand-word query must not sort its candidates a thousand times. (With a hair of
            # margin, so that rounding in the partial sums cannot matter.)
            due = i & (i - 1) == 0 and len(partial) >= k
            if due and heapq.nlargest(k, partial.values())[-1] > bound[i] * (1 + 1e-9):
                walked = i
                break
            weight = idf[term]
            for doc_id, count in self._postings[term].items():
                partial[doc_id] = partial.get(doc_id, 0.0) + self._term_score(weight, count, doc_id, avg_len)
        # 2. the candidates' exact scores, summed in query order as a full scan sums them; a term that was
        #    not walked is read from its cheaper side (its postings, or a lookup per candidate)
        skipped = set(rarest_first[walked:])
        scores: dict[str, float] = {}
        for term in terms:
            posting = self._postings[term]
            if term not in skipped:
                pairs: Iterable[tuple[str, int | None]] = posting.items()
            elif len(partial) < len(posting):
                pairs = ((d, posting.get(d)) for d in partial)
            else:
                pairs = ((d, tf) for d, tf in posting.items() if d in partial)
            for doc_id, tf in pairs:
                if tf:
                    scores[doc_id] = scores.get(doc_id, 0.0) + self._term_score(
                        idf[term], tf, doc_id, avg_len
                    )
        return heapq.nsmallest(k, scores.items(), key=lambda item: (-item[1], item[0]))

    def _term_score(self, idf: float, tf: int, doc_id: str, avg_len: float) -> float:
        norm = self.k1 * (1.0 - self.b + self.b * self._lengths[doc_id] / avg_len)
        return idf * tf * (self.k1 + 1.0) / (tf + norm)

    # ---- keeping in step with the graph ----

    def concept_put(self, old: Concept | None, new: Concept) -> None:
        if new.kind in INDEXED_KINDS and (old is None or old.text != new.text or new.id not in self):
            self.add(new.id, new.text)

    def concept_removed(self, old: Concept) -> None:
        self.remove(old.id)

    def state(self) -> tuple[dict[str, dict[str, int]], dict[str, int], int]:
        """Everything the index holds, for comparison with a rebuilt one in `check`."""
        return self._postings, self._lengths, self._total

    @classmethod
    def build(cls, concepts: list[Concept]) -> KeywordIndex:
        index = cls()
        for c in concepts:
            if c.kind in INDEXED_KINDS:
                index.add(c.id, c.text)
        return index
