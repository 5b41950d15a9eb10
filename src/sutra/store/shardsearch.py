"""Searches over every shard, ranked as one store would rank them.

BM25 uses corpus statistics (document count, average length, each term's document frequency). Scoring each
shard with its own statistics would make scores incomparable (a term rare in one shard gets a high idf
there). Instead the statistics are summed over the shards first and every shard's postings are scored with
the global ones, in the same order and with the same formula as `KeywordIndex.search`, so a sharded space
returns exactly the scores a single store holding the same documents would. The shards are in one process,
so this costs one dictionary read per shard and query term.

Vector search asks each shard for its own best `k` and keeps the best `k` of those (ties by id, as
`vectors.base.rank` breaks them): the global top `k` is always among the shards' top `k`s.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence

from sutra.store.keyword import KeywordIndex, tokenize


def search_text(indexes: Sequence[KeywordIndex], query: str, k: int) -> list[tuple[str, float]]:
    states = [index.state() for index in indexes]
    n_docs = sum(len(lengths) for _, lengths, _ in states)
    if k <= 0 or not n_docs or not indexes:
        return []
    k1, b = indexes[0].k1, indexes[0].b
    avg_len = (sum(total for _, _, total in states) / n_docs) or 1.0
    scores: dict[str, float] = {}
    for term in dict.fromkeys(tokenize(query)):  # distinct, in query order
        postings = [(p[term], lengths) for p, lengths, _ in states if term in p]
        df = sum(len(posting) for posting, _ in postings)
        if not df:
            continue
        idf = math.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))
        for posting, lengths in postings:
            for doc_id, tf in posting.items():
                norm = k1 * (1.0 - b + b * lengths[doc_id] / avg_len)
                scores[doc_id] = scores.get(doc_id, 0.0) + idf * tf * (k1 + 1.0) / (tf + norm)
    return heapq.nsmallest(k, scores.items(), key=lambda item: (-item[1], item[0]))


def merge_ranked(results: Sequence[list[tuple[str, float]]], k: int) -> list[tuple[str, float]]:
    """The best `k` of several best-first (id, score) lists, ties broken by id."""
    return heapq.nsmallest(k, (hit for hits in results for hit in hits), key=lambda hit: (-hit[1], hit[0]))
