"""Query analysis: a question becomes a `QueryPlan` (intent, focus entities, relation, direction, time).

Focus entities are found by matching the question's word spans against the store's entity/alias index,
so lower-cased or unusual names still resolve. What remains after removing question words, auxiliaries
and focus spans is the predicate ("afraid of", "carrying", "north of"), matched later against the labels
of stored relations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sutra.answer import plain_data
from sutra.learning import lexicon as lx
from sutra.learning import nlp
from sutra.learning.entities import normalize_name
from sutra.learning.timeexpr import time_of
from sutra.store.base import Store

WH_WORDS = {"what", "where", "who", "whom", "which", "when", "why", "how", "whose"}
AUX_START = {
    "is",
    "are",
    "was",
    "were",
    "does",
    "do",
    "did",
    "can",
    "could",
    "has",
    "have",
    "had",
    "will",
    "would",
    "should",
    "must",
}
FILLER_LEMMAS = {"be", "do", "the", "a", "an", "?", ".", ",", "now", "currently", "right", "still"}
TRUTH_PROMPT = re.compile(r"\b(true|false)\b.*\?\s*(.+)$", re.IGNORECASE | re.DOTALL)
MAX_SPAN = 4
EFFECT_NOUNS = {"effect", "consequence", "result", "outcome"}
CAUSE_NOUNS = {"cause", "reason", "origin"}
COUNTED_NOUNS = {"object", "thing", "item"}


@dataclass(slots=True)
class Focus:
    text: str
    entity_ids: list[str]
    start: int  # token index in the question
    end: int


@dataclass(slots=True)
class QueryPlan:
    question: str
    intent: str  # where | what | who | which | when | why | how | count | yesno | truth
    focus: list[Focus] = field(default_factory=list)
    predicate: list[str] = field(default_factory=list)  # lemmas, in order
    relations: list[str] = field(default_factory=list)  # relation labels implied by the words, best first
    unknown_is_subject: bool = False  # "who is in the kitchen?" asks for the subject of located_in
    unresolved: list[str] = field(default_factory=list)  # names in the question the store does not know
    statement: str | None = None  # the claim to check, for true/false questions
    negated: bool = False
    resolve: str = "recent"  # which side of a contradiction wins: recent | confidence | sources
    date: str | None = None  # a calendar day the question is about (YYYY-MM-DD)

    def to_dict(self) -> dict[str, Any]:
        return plain_data(self)  # type: ignore[no-any-return]


def _intent(words: list[str], question: str) -> tuple[str, str | None]:
    match = TRUTH_PROMPT.search(question)
    if match and "unknown" in question.lower():
        return "truth", match.group(2).strip()
    if not words:
        return "what", None
    first = words[0]
    if first == "how" and len(words) > 1 and words[1] in ("many", "much"):
        return "count", None
    if first in WH_WORDS:
        return first, None
    wh = next((w for w in words if w in WH_WORDS), None)
    if first in AUX_START:
        return "yesno", None
    return wh or "what", None


def _find_focus(tokens: list[Any], store: Store) -> list[Focus]:
    """Longest spans (up to MAX_SPAN words) that name a stored entity, by surface form or lemma."""
    found: list[Focus] = []
    i = 0
    while i < len(tokens):
        hit = None
        for j in range(min(len(tokens), i + MAX_SPAN), i, -1):
            span = tokens[i:j]
            if span[0].lower_ in WH_WORDS or span[0].pos_ in ("AUX", "PUNCT", "ADP", "DET"):
                break
            candidates = [" ".join(t.text for t in span)]
            if span[-1].lemma_ != span[-1].text:  # "the cats": also "the cat"
                candidates.append(" ".join([*(t.text for t in span[:-1]), span[-1].lemma_]))
            for cand in candidates:
                ids = store.find_entities(normalize_name(cand))
                if ids:
                    hit = Focus(cand, ids, i, j)
                    break
            if hit:
                break
        if hit:
            found.append(hit)
            i = hit.end
        else:
            i += 1
    return found


def _relations_for(predicate: list[str], intent: str) -> list[str]:
    """Relation labels the predicate words point at, most specific first."""
    rels: list[str] = []
    joined = "_".join(predicate)
    if joined:
        rels.append(joined)
    verbs = [w for w in predicate if w not in lx.LOCATIVE_PREPS | lx.MOTION_PREPS]
    if any(w in lx.MOTION_VERBS | lx.LOCATION_VERBS - {"be"} for w in predicate) or (
        predicate and set(predicate) <= lx.LOCATIVE_PREPS
    ):
        rels.append("located_in")
    if any(w in lx.ACQUIRE_VERBS or lx.COMPOSE_VERBS.get(w) == "has" for w in predicate):
        rels.append("has")
    for w in verbs:
        if w in lx.CAUSAL_VERBS:
            rels.append(lx.CAUSAL_VERBS[w])
    if set(predicate) & (EFFECT_NOUNS | CAUSE_NOUNS):  # "the effects of X", "the cause of Y"
        rels.extend(["causes", "implies"])
    if intent in lx.WH_RELATION and not rels:
        rels.append(lx.WH_RELATION[intent])
    if intent == "why":
        rels.extend(["causes", "implies"])
    if not predicate and intent in ("what", "who", "which"):
        rels.extend(["is_a", "has_property"])
    return list(dict.fromkeys(rels))


def declarative(question: str) -> str | None:
    """ "Is the disk full?" -> "the disk is full."; None when the question is not an inverted yes/no one."""
    parsed = nlp.parse_one(question.strip().rstrip("?"))
    tokens = list(parsed)
    if len(tokens) < 3 or tokens[0].lower_ not in AUX_START:
        return None
    chunk = next((c for c in parsed.noun_chunks if c.start == 1), None)
    if chunk is None:
        return None
    rest = parsed[chunk.end :].text
    subject = chunk.text[:1].upper() + chunk.text[1:]  # capitalised, as the parser expects a sentence
    return f"{subject} {tokens[0].lower_} {rest}".strip().rstrip(".") + "."


def parsed_text(question: str) -> str:
    """The text `analyze` parses for `question` (the claim, for a true/false prompt), so that a server can
    have it parsed before an engine thread takes the question."""
    text = question.strip()
    return _intent(_words(text), text)[1] or text


def _words(text: str) -> list[str]:
    return [w.lower() for w in re.findall(r"[A-Za-z']+", text)]


def analyze(question: str, store: Store) -> QueryPlan:
    text = question.strip()
    words = _words(text)
    intent, statement = _intent(words, text)
    parsed = nlp.parse_one(statement or text)
    tokens = list(parsed)
    focus = _find_focus(tokens, store)
    covered = {i for f in focus for i in range(f.start, f.end)}
    predicate_tokens = [
        t
        for t in tokens
        if t.i not in covered
        and t.lower_ not in WH_WORDS
        and t.lemma_.lower() not in FILLER_LEMMAS
        and t.pos_ not in ("PUNCT", "DET")
        and not (intent == "count" and (t.lower_ in ("many", "much") or t.lemma_.lower() in COUNTED_NOUNS))
        and t.dep_ != "neg"
    ]
    # dates and numbers are values, not names: "March" in "on 4 March 2024" is never an unknown entity
    named = [
        t
        for t in predicate_tokens
        if t.ent_type_ not in ("DATE", "TIME", "CARDINAL", "ORDINAL")
        and t.lemma_.lower() not in EFFECT_NOUNS | CAUSE_NOUNS  # "effects", "cause" ask, they name nothing
    ]
    unresolved = [
        t.text
        for t in named
        if t.pos_ == "PROPN"
        or (t.pos_ == "NOUN" and t.dep_ in ("nsubj", "npadvmod", "nsubjpass") and t.i < len(tokens) - 1)
    ]
    predicate = [t.lemma_.lower() for t in predicate_tokens if t.text not in unresolved]
    first_pred = min((t.i for t in predicate_tokens), default=None)
    # "the effects of X" / "the cause of Y": the noun with its "of" (a bare "cause" may be a misread verb)
    nouns = {
        t.lemma_.lower()
        for t in predicate_tokens
        if t.pos_ == "NOUN" and any(c.dep_ == "prep" and c.lower_ == "of" for c in t.children)
    }
    unknown_is_subject = (
        bool(focus)
        and first_pred is not None
        and focus[0].start > first_pred
        and intent in ("who", "what", "which", "count")
        and not nouns & EFFECT_NOUNS  # "the effects of X" asks what X causes
    ) or bool(nouns & CAUSE_NOUNS)  # "the cause of Y" asks what causes Y
    negated = any(t.dep_ == "neg" for t in tokens)
    return QueryPlan(
        question=text,
        intent=intent,
        focus=focus,
        predicate=predicate,
        relations=_relations_for(predicate, intent),
        unknown_is_subject=unknown_is_subject,
        unresolved=unresolved,
        statement=statement,
        negated=negated,
        date=_date(parsed),
    )


def _date(parsed: Any) -> str | None:
    """The calendar day a question asks about ("what happened on 12 June 2024?"), as YYYY-MM-DD."""
    sent = next(iter(parsed.sents), None)
    if sent is None:
        return None
    info = time_of(sent, None)
    return (
        info.iso[:10]
        if info.iso and info.expression and any(ch.isdigit() for ch in info.expression)
        else None
    )
