"""Relation extraction: a dependency-parsed clause becomes typed, labelled facts between entities.

One pass per verb (the root and its conjoined / subordinate verbs). Copular clauses give is_a,
has_property, located_in and adjective-preposition relations ("afraid of"); verb clauses give motion
(located_in), possession (has), causal, compositional and generic verb relations ("pick_up", "fail_at").
Conditionals and because-clauses are handled a level up (`clauses.py`), since they relate clauses, not nouns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sutra.learning import lexicon as lx
from sutra.learning.entities import EntityRef, mention, with_conjuncts
from sutra.learning.transfers import GIVE_VERBS
from sutra.model import AssociationType

Resolver = Callable[[Any], EntityRef | None]


@dataclass(slots=True)
class Fact:
    subject: EntityRef
    relation: str
    object: EntityRef
    negated: bool = False
    closes: str | None = None  # a release verb: this fact ends the subject's current `closes` relation
    confidence: float = 1.0  # below 1 for hedged statements ("either ... or")

    @property
    def type(self) -> AssociationType:
        return lx.relation_type(self.relation)

    @property
    def functional(self) -> bool:
        return self.relation in lx.FUNCTIONAL_RELATIONS


def _negated(verb: Any) -> bool:
    """ "not", "never", "no", and "no longer" (where "no" hangs off "longer")."""
    for c in verb.children:
        if c.dep_ == "neg" or c.lower_ in ("never", "no"):
            return True
        if c.lower_ == "longer" and any(g.lower_ == "no" for g in c.children):
            return True
    return False


def _verb_label(verb: Any) -> str:
    particles = [c.lower_ for c in verb.children if c.dep_ == "prt"]
    return "_".join([verb.lemma_.lower(), *particles])


def _subjects(verb: Any, resolve: Resolver) -> tuple[list[EntityRef], bool]:
    """Subjects of `verb` (conjuncts expanded, pronouns resolved) and whether the clause is passive."""
    for child in verb.children:
        if child.dep_ in ("nsubj", "nsubjpass", "csubj"):
            refs = [r for t in with_conjuncts(child) if (r := resolve(t))]
            return refs, child.dep_ == "nsubjpass"
    # a conjoined verb shares its head's subject ("Mary went home and slept")
    if verb.dep_ == "conj" and verb.head.pos_ in ("VERB", "AUX"):
        return _subjects(verb.head, resolve)
    return [], False


def _objects(token: Any, resolve: Resolver) -> list[EntityRef]:
    return [r for t in with_conjuncts(token) if (r := resolve(t))]


def _prep_objects(prep: Any, resolve: Resolver) -> list[EntityRef]:
    # "on 3 March 2024" is when, not what: dates become event time (timeexpr.py), never entities
    return [
        r
        for c in prep.children
        if c.dep_ == "pobj" and c.ent_type_ not in ("DATE", "TIME")
        for r in _objects(c, resolve)
    ]


def _copular(verb: Any, subjects: list[EntityRef], neg: bool, resolve: Resolver) -> list[Fact]:
    facts: list[Fact] = []

    def add(rel: str, objs: list[EntityRef]) -> None:
        facts.extend(Fact(s, rel, o, neg) for s in subjects for o in objs)

    for child in verb.children:
        if child.dep_ in ("attr", "acomp") and child.pos_ in ("NOUN", "PROPN"):
            preps = [p for p in child.children if p.dep_ == "prep" and p.lower_ == "of"]
            lemma = child.lemma_.lower()
            if preps and lemma in lx.DIRECTIONS:
                add(f"{lemma}_of", _prep_objects(preps[0], resolve))
            elif preps and lemma in lx.PART_NOUNS:
                add("part_of", _prep_objects(preps[0], resolve))
            elif preps and lemma in lx.KIND_NOUNS:
                add("is_a", _prep_objects(preps[0], resolve))
            else:
                add("is_a", _objects(child, resolve))
        elif child.dep_ in ("acomp", "attr") and child.pos_ in ("ADJ", "VERB", "ADV"):
            preps = [p for p in child.children if p.dep_ == "prep"]
            if preps:
                add(f"{child.lemma_.lower()}_{preps[0].lower_}", _prep_objects(preps[0], resolve))
            else:
                add("has_property", _objects(child, resolve))
        elif child.dep_ == "prep":
            side = _side_of(child)
            if side is not None:  # "to the left of the triangle"
                add(f"{side[0].lemma_.lower()}_of", _prep_objects(side[1], resolve))
                continue
            prep = child.lower_
            rel = "located_in" if prep in lx.LOCATIVE_PREPS else prep
            add(rel, _prep_objects(child, resolve))
    return facts


def _side_of(prep: Any) -> tuple[Any, Any] | None:
    """(direction noun, its "of" preposition) for "to the left of X" / "on the north of X"."""
    for pobj in prep.children:
        if pobj.dep_ == "pobj" and pobj.lemma_.lower() in lx.DIRECTIONS:
            of = [c for c in pobj.children if c.dep_ == "prep" and c.lower_ == "of"]
            if of:
                return pobj, of[0]
    return None


def _arguments(verb: Any) -> list[Any]:
    """The verb's children, plus prepositions hanging off an adverb ("went back to the hallway")."""
    out = []
    for child in verb.children:
        out.append(child)
        if child.dep_ == "advmod":
            out.extend(c for c in child.children if c.dep_ == "prep")
    return out


def _verbal(verb: Any, subjects: list[EntityRef], neg: bool, passive: bool, resolve: Resolver) -> list[Fact]:
    label = _verb_label(verb)
    facts: list[Fact] = []
    for child in _arguments(verb):
        if child.dep_ in ("dobj", "obj"):
            rel = label
            if label in lx.ACQUIRE_VERBS:
                rel = "has"
            elif label in lx.COMPOSE_VERBS:
                rel = lx.COMPOSE_VERBS[label]
            elif label in lx.CAUSAL_VERBS:
                rel = lx.CAUSAL_VERBS[label]
            closes = "has" if label in lx.RELEASE_VERBS or label in GIVE_VERBS else None
            facts.extend(Fact(s, rel, o, neg, closes) for s in subjects for o in _objects(child, resolve))
        elif child.dep_ in ("prep", "agent"):
            prep = child.lower_
            objs = _prep_objects(child, resolve)
            if child.dep_ == "agent" and passive:
                rel = lx.CAUSAL_VERBS.get(label, label)
                facts.extend(Fact(o, rel, s, neg) for s in subjects for o in objs)
                continue
            if verb.lemma_.lower() in lx.MOTION_VERBS and prep in lx.MOTION_PREPS:
                rel = "located_in"
            elif f"{label}_{prep}" in lx.CAUSAL_VERBS:
                rel = lx.CAUSAL_VERBS[f"{label}_{prep}"]
            elif f"{label}_{prep}" in lx.COMPOSE_VERBS:
                rel = lx.COMPOSE_VERBS[f"{label}_{prep}"]
            elif prep in lx.LOCATIVE_PREPS and verb.lemma_.lower() in lx.LOCATION_VERBS:
                rel = "located_in"
            else:
                rel = f"{label}_{prep}"
            facts.extend(Fact(s, rel, o, neg) for s in subjects for o in objs)
    return facts


def clause_verbs(sent: Any) -> list[Any]:
    """Every verb that heads a clause in the sentence (root, conjoined, subordinate, relative)."""
    return [
        t
        for t in sent
        if t.pos_ in ("VERB", "AUX")
        and (t.dep_ in ("ROOT", "conj", "advcl", "ccomp", "relcl", "xcomp") or t.head == t)
    ]


def facts_of_verb(verb: Any, resolve: Resolver) -> list[Fact]:
    subjects, passive = _subjects(verb, resolve)
    if not subjects:
        return []
    neg = _negated(verb)
    if verb.lemma_.lower() == "be" and not any(c.dep_ in ("dobj",) for c in verb.children):
        return _copular(verb, subjects, neg, resolve)
    return _verbal(verb, subjects, neg, passive, resolve)


CONDITION_MARKS = {"if", "when", "whenever", "unless", "once", "provided"}
HEDGES = {"either", "maybe", "perhaps", "possibly", "might", "may"}


def is_conditional(sent: Any) -> bool:
    """A conditional sentence asserts none of its clauses; the rule it states is stored instead."""
    return any(t.dep_ == "mark" and t.lower_ in CONDITION_MARKS for t in sent)


def extract_facts(sent: Any, resolve: Resolver | None = None) -> list[Fact]:
    """All facts asserted by one parsed sentence (a spaCy Span)."""
    resolve = resolve or mention
    if is_conditional(sent):
        return []
    confidence = 0.5 if any(t.lower_ in HEDGES for t in sent) else 1.0
    facts: list[Fact] = []
    seen: set[tuple[str, str, str, bool]] = set()
    for verb in clause_verbs(sent):
        for fact in facts_of_verb(verb, resolve):
            fact.confidence = confidence
            key = (fact.subject.key, fact.relation, fact.object.key, fact.negated)
            # "X is a X" is noise, but "the mouse likes the mouse" is a real statement
            reflexive = fact.subject.key == fact.object.key
            reflexive_noise = reflexive and fact.relation in ("is_a", "has_property")
            if key not in seen and not reflexive_noise:
                seen.add(key)
                facts.append(fact)
    return facts
