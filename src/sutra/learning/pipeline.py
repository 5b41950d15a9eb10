"""The learning pipeline: documents -> sentences -> statements with entities, facts, clause links and time.

Pure extraction: nothing here touches the store. `writer.py` turns the result into mutations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sutra.learning import nlp
from sutra.learning.classify import classify
from sutra.learning.clauses import ClauseLink, clause_links
from sutra.learning.entities import PERSON_PRONOUNS, PRONOUNS, EntityRef, mention
from sutra.learning.relations import Fact, clause_verbs, extract_facts
from sutra.learning.rules import Rule, looks_like_rule, parse_rules
from sutra.learning.timeexpr import TimeInfo, time_of
from sutra.learning.transfers import Transfer, transfer_of
from sutra.model import Document, SemanticType

MAX_SENTENCE_CHARS = 2000  # longer "sentences" (tables, logs) are kept whole but not parsed for relations


@dataclass(slots=True)
class Statement:
    """One learned sentence and everything extracted from it."""

    text: str
    source: str
    offset: int
    semantic_type: SemanticType
    time: TimeInfo
    domain: str = "general"
    entities: list[EntityRef] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    links: list[ClauseLink] = field(default_factory=list)
    antecedents: list[str] = field(default_factory=list)  # sources that this sentence's pronouns point to
    rule: Rule | None = None  # the inference rule the sentence states, if any
    transfers: list[Transfer] = field(default_factory=list)  # who gave what to whom


class Discourse:
    """Who "he", "she" and "it" refer to: the most recent fitting mention, within and across documents
    learned in order (stories are often fed one sentence per document)."""

    def __init__(self) -> None:
        self.last_person: EntityRef | None = None
        self.last_thing: EntityRef | None = None
        self._source: dict[str, str] = {}  # entity key -> source of the statement that last named it
        self.antecedents: list[str] = []  # sources of antecedents resolved in the current sentence

    def resolve(self, token: Any) -> EntityRef | None:
        lower = token.lower_
        if lower not in PRONOUNS:
            return mention(token)
        person = lower in PERSON_PRONOUNS or lower in ("they", "them")
        ref = self.last_person if person else self.last_thing
        if ref is not None and ref.key in self._source:
            self.antecedents.append(self._source[ref.key])
        return ref

    def observe(self, entities: list[EntityRef], source: str) -> None:
        for ref in entities:
            self._source[ref.key] = source
            if ref.proper or ref.ner == "PERSON":
                self.last_person = ref
            else:
                self.last_thing = ref


def _transfers(sent: Any, resolve: Any) -> list[Transfer]:
    found = (transfer_of(verb, resolve) for verb in clause_verbs(sent))
    return [t for t in found if t is not None]


def _domain(doc: Document) -> str:
    value = doc.meta.get("domain") if isinstance(doc.meta, dict) else None
    return str(value) if value else "general"


# "On 4 March 2024 Priya Nair rotated the log files": without a comma after the date the small parser takes
# "Priya Nair" into the prepositional phrase (no subject, or "13 Tomás Ortega" as one); with one it does not.
DATE_LED = {"on", "in", "at", "by", "since", "until", "from", "after", "before", "during"}


def _reparsed_if_date_led(sent: Any) -> Any:
    """The sentence parsed again with a comma after a leading "On <date>" phrase, if it has one without
    a comma; otherwise the sentence itself. Its text, offset and time are still read from the original."""
    tokens = list(sent)
    if len(tokens) < 4 or tokens[0].lower_ not in DATE_LED:
        return sent
    date = next((e for e in sent.ents if e.label_ == "DATE" and e.start == tokens[0].i + 1), None)
    if date is None or date.end >= sent.end or sent.doc[date.end].is_punct:
        return sent
    cut = date.end_char - sent.start_char
    return next(iter(nlp.parse_one(sent.text[:cut] + "," + sent.text[cut:]).sents))


class Learner:
    """Extracts statements from documents; keeps discourse state between documents learned in order."""

    def __init__(self) -> None:
        self.discourse = Discourse()
        self._rules: dict[str, Rule | None] = {}

    def extract(self, docs: Sequence[Document]) -> list[Statement]:
        parsed = list(nlp.parse(d.text for d in docs))
        # rules are parsed clause by clause; doing all of a batch's rules together is far cheaper
        candidates = [s.text.strip() for p in parsed for s in p.sents if looks_like_rule(s.text.strip())]
        self._rules = dict(zip(candidates, parse_rules(candidates), strict=True))
        statements: list[Statement] = []
        for doc, doc_parse in zip(docs, parsed, strict=True):
            statements.extend(self._statements(doc, doc_parse))
        return statements

    def _statements(self, doc: Document, parsed: Any) -> list[Statement]:
        out = []
        for sent in parsed.sents:
            text = sent.text.strip()
            if not text or not any(ch.isalnum() for ch in text):
                continue
            time = time_of(sent, doc.time)
            st = Statement(
                text=text,
                source=doc.id,
                offset=sent.start_char,
                semantic_type=classify(sent, has_date=time.iso is not None and time.expression is not None),
                time=time,
                domain=_domain(doc),
            )
            if len(text) <= MAX_SENTENCE_CHARS:
                sent = _reparsed_if_date_led(sent)  # the words as the parser reads them best
                self.discourse.antecedents = []
                st.rule = self._rules.get(text)
                if st.rule is not None:
                    st.semantic_type = SemanticType.RULE
                # a rule asserts no fact of its own words ("Rough people are cold" says nothing of people)
                st.facts = [] if st.rule else extract_facts(sent, self.discourse.resolve)
                if not st.rule:
                    st.transfers = _transfers(sent, self.discourse.resolve)
                    st.facts += [Fact(t.recipient, "has", t.theme) for t in st.transfers if t.recipient]
                st.antecedents = [a for a in dict.fromkeys(self.discourse.antecedents) if a != doc.id]
                st.links = clause_links(sent)
                st.entities = self._mentions(sent, st.facts)
                named = [e for e in st.entities if e.proper or e.ner == "PERSON"][:1]
                self.discourse.observe(named or [f.subject for f in st.facts][:1], doc.id)
            out.append(st)
        return out

    def _mentions(self, sent: Any, facts: list[Fact]) -> list[EntityRef]:
        """Every entity the sentence names: fact arguments first, then other nouns (for retrieval)."""
        seen: dict[str, EntityRef] = {}
        for fact in facts:
            seen.setdefault(fact.subject.key, fact.subject)
            seen.setdefault(fact.object.key, fact.object)
        for tok in sent:
            if tok.pos_ in ("NOUN", "PROPN") and tok.dep_ not in ("compound", "flat", "amod"):
                ref = mention(tok)
                if ref:
                    seen.setdefault(ref.key, ref)
        return list(seen.values())
