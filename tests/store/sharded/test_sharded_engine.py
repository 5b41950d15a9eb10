"""The engine over four shards answers exactly as over one store, with no change above the Store interface.

(The whole engine suite also runs over shards: `SUTRA_TEST_BACKEND=sharded`; this keeps one comparison in
the default run.)
"""

from __future__ import annotations

from pathlib import Path

from sutra.config import Settings
from sutra.embedding.base import Embedder
from sutra.engine import Sutra
from sutra.model import Document
from sutra.store import LocalStore, ShardedStore

DOCS = [
    Document("h1", "If the disk is full then the database stops."),
    Document("h2", "If the database stops then the API gateway returns errors."),
    Document("h4", "Priya Nair owns the ledger database. The ledger database is located in Frankfurt."),
    Document("m1", "Mary moved to the bathroom. Mary picked up the football."),
    Document("m2", "Mary went to the kitchen. Daniel went to the garden."),
]
QUESTIONS = [
    "Where is the ledger database located?",
    "What happens if the disk is full?",
    "Who owns the ledger database?",
    "Where is the football?",
    "Where was Mary before the kitchen?",
    "Is the database located in Frankfurt?",
]


def answers(space: Sutra) -> list[tuple]:
    out = []
    for q in QUESTIONS:
        a = space.ask(q)
        out.append((q, a.text, a.known, round(a.confidence, 9), a.sources, [len(p.steps) for p in a.paths]))
    return out


def test_sharded_engine_answers_like_a_single_store(tmp_path: Path, embedder: Embedder) -> None:
    spaces = {
        "single": Sutra(tmp_path / "single", embedder=embedder, fsync="off"),
        "sharded": Sutra(tmp_path / "sharded", settings=Settings(shards=4), embedder=embedder, fsync="off"),
    }
    try:
        assert isinstance(spaces["single"].store, LocalStore)
        assert isinstance(spaces["sharded"].store, ShardedStore)
        for space in spaces.values():
            space.learn_documents(DOCS)
        assert answers(spaces["sharded"]) == answers(spaces["single"])
        assert spaces["sharded"].timeline("Mary") == spaces["single"].timeline("Mary")
        for space in spaces.values():
            space.forget("h4")
        assert answers(spaces["sharded"]) == answers(spaces["single"])
        single, sharded = spaces["single"].stats(), spaces["sharded"].stats()
        for key in ("concepts", "associations", "current_associations", "statements", "rules"):
            assert sharded[key] == single[key], key
        assert spaces["sharded"].store.check() == []
    finally:
        for space in spaces.values():
            space.close()
