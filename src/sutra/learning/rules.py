"""Rules from plain English: conditionals and generics become condition -> conclusion patterns.

    "If something is quiet and cold then it is smart."   (X quiet) & (X cold) -> (X smart)
    "If someone sees the cat and they are not green then they see the cow."
    "Red, cold things are round."  /  "All quiet things are rough."  /  "Rough people are not cold."

A rule is split on its surface form first (if/then, "and", the adjectives before "things"), and each
piece is then parsed as a short simple sentence, which the parser reads far more reliably than the whole
rule. Words that stand for "any individual" (someone, something, it, they) become the variable `?x`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sutra.learning import nlp
from sutra.learning.entities import EntityRef, mention
from sutra.learning.relations import Fact, extract_facts

VARIABLE = "?x"
VARIABLE_WORDS = {
    "someone",
    "something",
    "somebody",
    "it",
    "they",
    "them",
    "he",
    "she",
    "one",
    "anyone",
    "anything",
    "everyone",
    "everything",
}
GENERIC_HEADS = {"things", "people", "persons", "ones", "animals", "objects", "creatures"}
QUANTIFIERS = {"all", "every", "any"}
IF_THEN = re.compile(r"^\s*if\s+(?P<cond>.+?)\s*,?\s+then\s+(?P<then>.+?)\s*[.!]?\s*$", re.IGNORECASE)
WORD = re.compile(r"[a-z-]+|,", re.IGNORECASE)


def _generic(text: str) -> tuple[list[str], str, str] | None:
    """ "Red, cold things are round." -> (["red", "cold"], "are", "round"); None for other sentences.
    A word scan rather than one regex: nested repetition in a regex backtracks exponentially."""
    words = text.strip().rstrip(".!").split()
    for i, word in enumerate(words[:8]):
        if word.lower() in GENERIC_HEADS and i + 1 < len(words):
            verb = words[i + 1].lower()
            if verb not in ("are", "is"):
                return None
            before = [w.lower() for w in WORD.findall(" ".join(words[:i]))]
            adjectives = [w for w in before if w not in (",", "and") and w not in QUANTIFIERS]
            rest = " ".join(words[i + 2 :])
            if adjectives and rest and all(w.isalpha() or "-" in w for w in adjectives):
                return adjectives, verb, rest
            return None
    return None


Atom = tuple[str, str, str, bool]  # (subject key or ?x, relation, object key or ?x, negated)


@dataclass(slots=True)
class Rule:
    conditions: list[Atom]
    conclusions: list[Atom]

    def to_attrs(self) -> dict[str, Any]:
        return {"if": [list(a) for a in self.conditions], "then": [list(a) for a in self.conclusions]}

    @staticmethod
    def from_attrs(attrs: dict[str, Any]) -> Rule:
        return Rule([tuple(a) for a in attrs["if"]], [tuple(a) for a in attrs["then"]])  # type: ignore[misc]


def _resolve(token: Any) -> EntityRef | None:
    if token.lower_ in VARIABLE_WORDS:
        return EntityRef(key=VARIABLE, name=VARIABLE)
    return mention(token)


def _sentence(clause: str) -> str:
    # parsed as a sentence of its own: capitalised and full-stopped, as the parser was trained on
    clause = clause.strip().rstrip(".")
    return clause[:1].upper() + clause[1:] + "."


def _atoms_of(docs: list[Any]) -> list[list[Atom]]:
    out = []
    for doc in docs:
        facts: list[Fact] = [f for sent in doc.sents for f in extract_facts(sent, _resolve)]
        out.append([(f.subject.key, f.relation, f.object.key, f.negated) for f in facts])
    return out


def _atoms(clauses: list[str]) -> list[list[Atom]]:
    """Atoms of each clause, all clauses parsed in one batch (per-call parsing costs ~10x more)."""
    found = _atoms_of(list(nlp.parse([_sentence(c) for c in clauses])))
    retry = [
        i
        for i, atoms in enumerate(found)
        if not atoms and clauses[i].split(" ", 1)[0].lower() in VARIABLE_WORDS
    ]
    # the small parser sometimes misreads "something chases the squirrel"; "someone" or "it" read the same
    for stand_in in ("Someone", "It"):
        if not retry:
            break
        texts = [_sentence(f"{stand_in} {clauses[i].split(' ', 1)[1]}") for i in retry]
        for i, atoms in zip(retry, _atoms_of(list(nlp.parse(texts))), strict=True):
            found[i] = atoms
        retry = [i for i in retry if not found[i]]
    return found


def _has_subject(part: str) -> bool:
    """Whether a piece of a rule is a clause of its own ("it eats the dog", "Dave is kind") rather than a
    bare predicate ("cold", "not round") that borrows the previous clause's subject."""
    first = part.split(" ", 1)[0]
    return first.lower() in VARIABLE_WORDS | {"the", "a", "an"} or first[:1].isupper()


def _split_conditions(text: str) -> list[str]:
    """ "someone is big and it eats the dog" -> two clauses; "something is quiet and cold" -> two as well,
    the subjectless "cold" borrowing the subject and verb of the clause before it."""
    parts = [p.strip() for p in re.split(r"\s+and\s+|,\s*", text) if p.strip()]
    clauses: list[str] = []
    for part in parts:
        if clauses and not _has_subject(part):
            head = re.match(r"^(.*?\b(?:is|are|was|were)\b)", clauses[-1], re.IGNORECASE)
            if head:
                part = f"{head.group(1)} {part}"
        clauses.append(part)
    return clauses


def looks_like_rule(text: str) -> bool:
    """A cheap surface test, so only candidate sentences pay for clause parsing."""
    return bool(IF_THEN.match(text) or _generic(text))


@dataclass(slots=True)
class _Draft:
    """A rule split on its surface: given conditions (from a generic's adjectives) plus clauses to parse."""

    given: list[Atom]
    conditions: list[str]
    conclusions: list[str]


def _draft(text: str) -> _Draft | None:
    match = IF_THEN.match(text)
    if match:
        return _Draft([], _split_conditions(match.group("cond")), _split_conditions(match.group("then")))
    generic = _generic(text)
    if generic is None:
        return None
    adjectives, verb, predicate = generic
    given = [(VARIABLE, "has_property", adj, False) for adj in adjectives]
    return _Draft(given, [], _split_conditions(f"something {verb} {predicate}"))


def parse_rules(texts: list[str]) -> list[Rule | None]:
    """The rule each sentence states (None where it states none Sutra can use); all clauses of all the
    sentences are parsed in one batch."""
    drafts = [_draft(t) for t in texts]
    clauses = [c for d in drafts if d for c in (*d.conditions, *d.conclusions)]
    atoms = iter(_atoms(clauses)) if clauses else iter([])
    rules: list[Rule | None] = []
    for d in drafts:
        if d is None:
            rules.append(None)
            continue
        conditions = list(d.given) + [a for _ in d.conditions for a in next(atoms)]
        conclusions = [a for _ in d.conclusions for a in next(atoms)]
        rules.append(Rule(conditions, conclusions) if conditions and conclusions else None)
    return rules


def parse_rule(text: str) -> Rule | None:
    """The rule a sentence states, or None when it is not a rule Sutra can use for inference."""
    return parse_rules([text])[0]
