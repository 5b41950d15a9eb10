"""Rule inference: forward chaining from stored facts and rules to a fixpoint, keeping every proof.

Facts are the current associations between entities; rules come from RULE concepts (see
`learning.rules`). A derived fact remembers the rule and the premises that produced it, so an answer can
show the whole proof tree as steps and cite every source on it. Open world: a negated condition ("they
are not green") holds only when the negation itself is stated or derived, never from mere absence.

The closure is computed once per store version and reused until the store changes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sutra.learning.entities import entity_id
from sutra.learning.rules import VARIABLE, Rule
from sutra.model import ConceptKind
from sutra.store.base import Store

MENTIONS = "mentions"
Key = tuple[str, str, str, bool]  # (subject id, relation, object id, negated)


@dataclass(slots=True)
class Proof:
    """How a fact is known: stated (an association) or derived (a rule applied to premises)."""

    association_id: str | None = None
    rule_id: str | None = None
    premises: list[Key] = field(default_factory=list)
    depth: int = 0


@dataclass(slots=True)
class Closure:
    facts: dict[Key, Proof]
    rounds: int


def _ground(atom: tuple[str, str, str, bool], binding: dict[str, str]) -> Key:
    s, rel, o, neg = atom
    s = binding.get(s, s) if s == VARIABLE else entity_id(s)
    o = binding.get(o, o) if o == VARIABLE else entity_id(o)
    return (s, rel, o, bool(neg))


class Chainer:
    def __init__(self, store: Store, max_rounds: int = 12) -> None:
        self.store = store
        self.max_rounds = max_rounds
        self._cache: tuple[int, Closure] | None = None

    def closure(self) -> Closure:
        version = self.store.version()
        cached = self._cache  # read once: asks running on other threads may replace it meanwhile
        if cached is None or cached[0] != version:
            cached = self._cache = (version, self._compute())
        return cached[1]

    def rules(self) -> list[tuple[str, Rule]]:
        return [
            (c.id, Rule.from_attrs(c.attrs["rule"]))
            for c in self.store.concepts(ConceptKind.RULE)
            if isinstance(c.attrs.get("rule"), dict)
        ]

    def _compute(self) -> Closure:
        rules = self.rules()
        facts: dict[Key, Proof] = {}
        if not rules:
            return Closure(facts, 0)
        for concept in self.store.concepts(ConceptKind.ENTITY):
            for edge in self.store.neighbors(concept.id, "out", current_only=True):
                if edge.relation != MENTIONS and edge.confidence >= 1.0:
                    facts[(edge.source, edge.relation, edge.target, edge.negated)] = Proof(
                        association_id=edge.id
                    )
        index: dict[tuple[str, bool], list[Key]] = defaultdict(list)
        for key in facts:
            index[(key[1], key[3])].append(key)
        rounds = 0
        while rounds < self.max_rounds:
            rounds += 1
            new: dict[Key, Proof] = {}
            for rule_id, rule in rules:
                for binding, premises in self._matches(rule.conditions, {}, [], facts, index):
                    depth = 1 + max((facts[p].depth for p in premises), default=0)
                    for atom in rule.conclusions:
                        key = _ground(atom, binding)
                        if VARIABLE in (key[0], key[2]) or key in facts or key in new:
                            continue
                        new[key] = Proof(rule_id=rule_id, premises=list(premises), depth=depth)
            if not new:
                break
            for key, proof in sorted(new.items()):
                facts[key] = proof
                index[(key[1], key[3])].append(key)
        return Closure(facts, rounds)

    def _matches(
        self,
        conditions: list,
        binding: dict[str, str],
        premises: list[Key],
        facts: dict[Key, Proof],
        index: dict[tuple[str, bool], list[Key]],
    ):  # type: ignore[no-untyped-def]
        """Every variable binding that satisfies all conditions, with the facts used (backtracking join)."""
        if not conditions:
            yield binding, premises
            return
        atom, rest = conditions[0], conditions[1:]
        s, rel, o, neg = atom
        wanted = _ground(atom, binding)
        if VARIABLE not in (wanted[0], wanted[2]):
            if wanted in facts:
                yield from self._matches(rest, binding, [*premises, wanted], facts, index)
            return
        for key in index.get((rel, bool(neg)), []):
            new_binding = dict(binding)
            if s == VARIABLE and not _bind(new_binding, key[0]):
                continue
            if s != VARIABLE and key[0] != wanted[0]:
                continue
            if o == VARIABLE and not _bind(new_binding, key[2]):
                continue
            if o != VARIABLE and key[2] != wanted[2]:
                continue
            yield from self._matches(rest, new_binding, [*premises, key], facts, index)


def _bind(binding: dict[str, str], value: str) -> bool:
    bound = binding.get(VARIABLE)
    if bound is None:
        binding[VARIABLE] = value
        return True
    return bound == value


def proof_steps(closure: Closure, key: Key) -> list[tuple[Key, Proof]]:
    """The proof of `key` flattened leaves-first (each fact once), ending with `key` itself."""
    ordered: list[tuple[Key, Proof]] = []
    seen: set[Key] = set()

    def visit(k: Key) -> None:
        if k in seen or k not in closure.facts:
            return
        seen.add(k)
        proof = closure.facts[k]
        for premise in proof.premises:
            visit(premise)
        ordered.append((k, proof))

    visit(key)
    return ordered
