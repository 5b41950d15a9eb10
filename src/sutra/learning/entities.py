"""Entity mentions: from a parsed noun to one canonical entity, so exact-name duplicates never survive.

Canonical key rules: proper names keep their words ("Mary", "API Gateway"), lower-cased for the key;
common nouns are reduced to their lemma with compound modifiers ("mice" -> "mouse", "hard drives" ->
"hard drive"), so "Mice are afraid of wolves" and "Gertrude is a mouse" meet at one node.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sutra.learning.lexicon import CAUSAL_VERBS, NON_NAMING_ADJECTIVES
from sutra.model import content_id

PRONOUNS = {"he", "she", "him", "her", "they", "them", "it", "his", "hers", "its", "their"}
PERSON_PRONOUNS = {
    "he": "male",
    "him": "male",
    "his": "male",
    "she": "female",
    "her": "female",
    "hers": "female",
}
# Pronoun-like words that never name an entity of their own.
NON_REFERRING = {
    "something",
    "someone",
    "anything",
    "everything",
    "nothing",
    "what",
    "who",
    "which",
    "that",
    "this",
    "there",
    "here",
    "where",
    "you",
    "i",
    "we",
    "me",
    "us",
    "one",
    "whom",
    "whose",
}
NOUN_POS = {"NOUN", "PROPN"}


@dataclass(slots=True)
class EntityRef:
    """A mention resolved to its canonical key, display name and surface forms."""

    key: str
    name: str
    aliases: list[str] = field(default_factory=list)
    proper: bool = False
    ner: str | None = None
    plural: bool = False

    @property
    def id(self) -> str:
        return entity_id(self.key)


def normalize_name(text: str) -> str:
    return " ".join(text.lower().split())


def entity_id(key: str) -> str:
    return content_id("e", normalize_name(key))


def _naming_modifier(token: Any, head: Any) -> bool:
    """Compounds always name ("disk space"); adjectives do when they pick out a kind ("high latency",
    "red square"), not when they only quantify or refer ("other", "same", "many")."""
    if token.i > head.i:
        return False
    if token.dep_ in ("compound", "flat"):
        return True
    # the tagger sometimes calls a colour adjective a proper noun ("the red square"): the dependency decides
    return (
        token.dep_ == "amod" and token.pos_ in ("ADJ", "PROPN") and token.lower_ not in NON_NAMING_ADJECTIVES
    )


def _compound_tokens(head: Any) -> list[Any]:
    """The head noun plus its naming modifiers, in text order."""
    parts = sorted((t for t in head.children if _naming_modifier(t, head)), key=lambda t: t.i)
    return [*parts, head]


def _case(token: Any) -> str:
    # names and acronyms keep their case ("Quayside platform team", "API gateway"); the rest is lower-cased
    return (
        token.text
        if token.pos_ == "PROPN" or (token.text.isupper() and len(token.text) > 1)
        else token.lower_
    )


def activity(token: Any) -> EntityRef:
    """A clause used as a subject ("emitting sulfur dioxide causes acid rain"): the activity as a whole."""
    words = [t for t in token.subtree if t.pos_ not in ("DET", "PUNCT")]
    name = " ".join(t.lower_ for t in words)
    aliases = {name, " ".join([token.lemma_.lower(), *(t.lower_ for t in words[1:])])}
    return EntityRef(key=normalize_name(name), name=name, aliases=sorted(aliases), proper=False, ner=None)


CAUSAL_VERB_HEADS = {verb.split("_")[0] for verb in CAUSAL_VERBS}  # "lead_to" -> "lead"


def _causal_head(token: Any) -> bool:
    # Only as the subject of a causal verb: elsewhere ("having dark fur has a positive impact") naming the
    # clause as an entity made general statements look like graph facts and lost their free-text evidence.
    return token.head.lemma_.lower() in CAUSAL_VERB_HEADS


def mention(token: Any) -> EntityRef | None:
    """The entity a noun (or adjective used as a property, or number) token refers to, or None."""
    if token.dep_ == "csubj" and token.pos_ == "VERB" and _causal_head(token):
        return activity(token)
    lower = token.text.lower()
    if lower in NON_REFERRING or lower in PRONOUNS or token.pos_ in ("PUNCT", "DET", "ADP", "AUX", "SCONJ"):
        return None
    tokens = _compound_tokens(token) if token.pos_ in NOUN_POS else [token]
    proper = token.pos_ == "PROPN" or (
        token.ent_type_ in ("PERSON", "GPE", "ORG", "LOC") and token.text[:1].isupper()
    )
    surface = " ".join(t.text for t in tokens)
    head_lemma = token.lemma_.lower() if token.lemma_ else lower
    if proper:
        name = surface
        key = normalize_name(surface)
    else:
        # lemma of the head keeps "mice" and "mouse" together; modifiers stay as written
        name = " ".join([*(_case(t) for t in tokens[:-1]), head_lemma])
        key = normalize_name(name)
    aliases = {surface, surface.lower(), name}
    if not proper and len(tokens) > 1:
        aliases.add(head_lemma)  # "latency" still finds "high latency"
    amount = _amount(token)
    if amount is not None:
        # "16 GB", "3 replicas": the number is part of the value, so "16 GB" and "32 GB" can disagree
        aliases.update({name, head_lemma})
        name = f"{amount} {' '.join([*(_case(t) for t in tokens[:-1]), _case(token)])}"
        key = normalize_name(name)
        aliases.add(name)
    aliases = sorted(aliases - {""})
    plural = token.tag_ in ("NNS", "NNPS")
    ner = token.ent_type_ or None
    return EntityRef(key=key, name=name, aliases=aliases, proper=proper, ner=ner, plural=plural)


DATE_LABELS = ("DATE", "TIME")


TIME_UNITS = {"millisecond", "second", "minute", "hour", "day", "week", "month", "year"}


def _amount(token: Any) -> str | None:
    """The number counting a noun ("16" in "16 GB of memory", "five" in "five minutes"), if there is one."""
    duration = token.lemma_.lower() in TIME_UNITS
    for child in token.children:
        # a date the parser hung on a name ("13" of "13 June 2024 Tomás Ortega") counts nothing; a
        # duration ("five minutes", tagged TIME) does
        dated = child.ent_type_ in DATE_LABELS and not duration
        if child.dep_ == "nummod" and not dated and child.like_num:
            # the whole quantity: "about five", "at least 16", "2 or 3", "between two and three"
            return child.doc[child.left_edge.i : child.right_edge.i + 1].text
    return None


def with_conjuncts(token: Any) -> list[Any]:
    """`Mary and John` -> [Mary, John]: the token and every conjunct chained to it."""
    out = [token]
    for child in token.children:
        if child.dep_ == "conj" and child.pos_ in (*NOUN_POS, "PRON", "ADJ", "NUM"):
            out.extend(with_conjuncts(child))
    return out
