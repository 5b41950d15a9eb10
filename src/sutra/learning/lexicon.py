"""Small closed word lists that map English predicates onto Sutra's relation labels.

These are facts about English, not about any data set: motion verbs end in a location, acquisition verbs
give possession, causal verbs and connectives express cause.
"""

from __future__ import annotations

from sutra.model import AssociationType

MOTION_VERBS = {
    "go",
    "move",
    "journey",
    "travel",
    "run",
    "walk",
    "head",
    "return",
    "come",
    "drive",
    "fly",
    "rush",
    "hurry",
    "wander",
    "relocate",
    "dash",
    "sprint",
    "proceed",
}
MOTION_PREPS = {"to", "into", "toward", "towards", "onto"}
LOCATIVE_PREPS = {"in", "at", "inside", "within"}
# verbs that, with a locative preposition, state where something is
LOCATION_VERBS = {
    "be",
    "live",
    "stay",
    "sit",
    "stand",
    "lie",
    "locate",
    "reside",
    "sleep",
    "work",
    "situate",
    "base",
    "host",
    "keep",
    "store",
}
# physically taking something: the taken thing then goes wherever its holder goes ("own" is not one)
ACQUIRE_VERBS = {"get", "take", "grab", "pick_up", "collect", "receive", "obtain", "acquire", "carry", "hold"}
RELEASE_VERBS = {"drop", "discard", "put_down", "leave", "lose", "release"}
CAUSAL_VERBS = {
    "cause": "causes",
    "trigger": "causes",
    "produce": "causes",
    "create": "causes",
    "lead_to": "causes",
    "result_in": "causes",
    "bring_about": "causes",
    "induce": "causes",
    "prevent": "prevents",
    "stop": "prevents",
    "block": "prevents",
}
CAUSAL_MARKERS = {"because", "since", "as"}
PART_NOUNS = {"part", "component", "piece", "section", "member", "element"}
KIND_NOUNS = {"kind", "type", "sort", "form", "example", "instance"}
COMPOSE_VERBS = {
    "contain": "has_part",
    "include": "has_part",
    "comprise": "has_part",
    "consist_of": "has_part",
    "have": "has",
}
DIRECTIONS = {"north", "south", "east", "west", "above", "below", "left", "right", "behind", "front"}
TEMPORAL_PREPS = {"before", "after", "during", "until", "since"}

# Relations whose newer value replaces the older one for the same subject (someone is in one place at a
# time). Additive relations (is_a, has_property, causes, ...) never retire each other.
FUNCTIONAL_RELATIONS = {"located_in"}

# When a released object is dropped, the matching possession fact stops being current.
RELEASE_CLOSES = {"has"}

RELATION_TYPES = {
    "is_a": AssociationType.HIERARCHICAL,
    "part_of": AssociationType.COMPOSITIONAL,
    "has_part": AssociationType.COMPOSITIONAL,
    "has": AssociationType.COMPOSITIONAL,
    "causes": AssociationType.CAUSAL,
    "prevents": AssociationType.CAUSAL,
    "implies": AssociationType.CAUSAL,
    "before": AssociationType.TEMPORAL,
    "after": AssociationType.TEMPORAL,
    "during": AssociationType.TEMPORAL,
}


def relation_type(relation: str) -> AssociationType:
    return RELATION_TYPES.get(relation, AssociationType.SEMANTIC)


# Question words that ask for a place, and the relation they imply when the question has no other predicate.
WH_RELATION = {"where": "located_in"}

# adjectives that do not name a kind of thing, so they never become part of an entity's name
NON_NAMING_ADJECTIVES = {
    "other",
    "same",
    "many",
    "several",
    "few",
    "more",
    "most",
    "such",
    "certain",
    "various",
    "own",
    "whole",
    "entire",
    "main",
    "only",
    "last",
    "first",
    "next",
}
