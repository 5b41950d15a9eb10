"""Random batches over a small vocabulary, and a full comparable view of a store (for equivalence tests).

The batches mix every mutation kind, with references that may or may not exist when they are applied, so
some batches fail; a sharded store must fail the same batches and end in the same state as a single one.
"""

from __future__ import annotations

import random
import zlib
from typing import Any

from tests.store.builders import edge, entity, statement, unit

from sutra.model import (
    AssociationType,
    CloseAssociation,
    Concept,
    DeleteAssociation,
    DeleteConcept,
    ForgetSource,
    Mutation,
    PutAssociation,
    PutConcept,
)
from sutra.store.base import Store
from sutra.store.codec import association_to_dict, concept_to_dict

NAMES = [f"Thing {i}" for i in range(14)]
WORDS = ["disk", "database", "server", "backup", "kitchen", "garden", "full", "open", "closed", "north"]
SOURCES = [f"src-{i}" for i in range(6)]
RELATIONS = ["is_a", "located_in", "causes", "owns"]
STAMP = 1_700_000_000.0  # fixed record times: both stores must store identical records


def concept(rng: random.Random) -> Concept:
    sources = rng.sample(SOURCES, rng.choice([0, 1, 1, 2]))
    if rng.random() < 0.6:
        return entity(rng.choice(NAMES), *sources, aliases=tuple(rng.sample(WORDS, 1)), recorded_at=STAMP)
    words = rng.sample(WORDS, 3)
    text = f"The {words[0]} is {words[1]} near the {words[2]}."
    vector = unit(8, zlib.crc32(text.encode()))
    return statement(text, *sources or ["src-0"], vector=vector, recorded_at=STAMP)


class Workload:
    """Random batches that mostly refer to records that exist (so most succeed), but not always."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.known: list[Concept] = []  # concepts put and not deleted by a DeleteConcept
        self.seen: list[Concept] = []  # every concept ever put
        self.statements: list[str] = []
        self.edges: list[str] = []

    def batch(self) -> list[Mutation]:
        return random_batch(self.rng, self)


def random_batch(rng: random.Random, w: Workload) -> list[Mutation]:
    known, statements = w.known, w.statements
    out: list[Mutation] = []
    for _ in range(rng.randint(1, 6)):
        roll = rng.random()
        if roll < 0.4 or len(known) < 2:
            c = concept(rng)
            known.append(c)
            w.seen.append(c)
            if c.kind != "entity":
                statements.append(c.id)
            out.append(PutConcept(c))
        elif roll < 0.75:
            a, b = rng.sample(known, 2)
            cited = tuple(rng.sample(statements, min(len(statements), rng.randint(0, 2))))
            sources = rng.sample(SOURCES, rng.randint(1, 2))
            kind = rng.choice([AssociationType.SEMANTIC, AssociationType.CAUSAL])
            e = edge(a, rng.choice(RELATIONS), b, *sources, statements=cited, type=kind, recorded_at=STAMP)
            if rng.random() < 0.3:
                e.attrs["support"] = rng.sample(SOURCES, 1)
            w.edges.append(e.id)
            out.append(PutAssociation(e))
        elif roll < 0.8:
            target = rng.choice(w.edges) if w.edges else "a:none"
            close = rng.random() < 0.7
            out.append(CloseAssociation(target, "2024-01-01") if close else DeleteAssociation(target))
        elif roll < 0.88:
            out.append(DeleteConcept(known.pop(rng.randrange(len(known))).id))
        else:
            out.append(ForgetSource(rng.choice(SOURCES)))
    return out


def view(store: Store, known: list[Concept]) -> dict[str, Any]:
    """Everything a reader can observe, in a comparable form."""
    ids = sorted({c.id for c in known})
    stats = store.stats()
    return {
        "concepts": [concept_to_dict(c, with_seq=True) for c in store.concepts()],
        "get": {cid: store.get_concept(cid) is not None for cid in ids},
        "edges": {
            (cid, direction, current): [
                association_to_dict(a, with_seq=True)
                for a in store.neighbors(cid, direction, current_only=current)
            ]
            for cid in ids
            for direction in ("out", "in", "both")
            for current in (False, True)
        },
        "causal-in": {cid: [a.id for a in store.neighbors(cid, "in", types=["causal"])] for cid in ids},
        "by_source": {src: store.by_source(src) for src in SOURCES},
        "entities": {name: store.find_entities(name) for name in NAMES + WORDS},
        "text": {word: store.search_text(f"the {word} and disk", k=5) for word in WORDS},
        "stats": {
            key: stats[key]
            for key in ("concepts", "associations", "current_associations", "vectors", "seq", "dim")
        }
        | {"kinds": stats["concepts_by_kind"], "types": stats["associations_by_type"]},
    }
