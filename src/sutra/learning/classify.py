"""Semantic type of a statement, from cheap lexical and syntactic cues, most specific first."""

from __future__ import annotations

from typing import Any

from sutra.learning import lexicon as lx
from sutra.model import SemanticType

RULE_STARTS = {"if", "all", "every", "each", "whenever", "any"}
CONDITION_WORDS = {"if", "when", "whenever", "unless", "provided"}


def classify(sent: Any, has_date: bool) -> SemanticType:
    words = [t.lower_ for t in sent]
    lemmas = {t.lemma_.lower() for t in sent}
    if words and words[0] in RULE_STARTS and ("then" in words or words[0] != "if"):
        return SemanticType.RULE
    if any(w in CONDITION_WORDS for w in words):
        return SemanticType.CONDITION
    if lemmas & {"cause", "because", "lead", "result", "trigger", "due"} or set(words) & lx.CAUSAL_MARKERS - {
        "as"
    }:
        return SemanticType.CAUSAL
    if any(t.dep_ == "neg" for t in sent) or {"never", "no"} & set(words):
        return SemanticType.NEGATION
    if has_date or set(words) & lx.TEMPORAL_PREPS:
        return SemanticType.TEMPORAL
    if any(t.pos_ == "NUM" for t in sent):
        return SemanticType.QUANTITATIVE
    root = sent.root
    if root.lemma_ == "be" and any(c.dep_ == "attr" for c in root.children):
        return SemanticType.DEFINITIONAL
    if root.pos_ == "VERB" and root.tag_ in ("VBD", "VBN"):
        return SemanticType.EVENT
    return SemanticType.ENTITY
