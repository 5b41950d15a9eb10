"""Short answers from evidence sentences: "When did the tour begin?" is answered "March 13, 2013", not
with the whole sentence that says so.

The question's form names the kind of thing asked (a person, a date, a place, a number, a nationality);
the answer is the first named entity of that kind in the chosen evidence, best sentence first, that the
question does not already name. When no such entity is found the sentence stays the answer.
"""

from __future__ import annotations

import re

from sutra.learning import nlp

PERSON = {"PERSON", "ORG", "NORP"}
DATE = {"DATE"}
PLACE = {"GPE", "LOC", "FAC"}
NUMBER = {"CARDINAL", "QUANTITY", "MONEY", "PERCENT"}

# checked in order: the first pattern that matches the question decides the kind asked
ASKED_KINDS: list[tuple[re.Pattern[str], set[str]]] = [
    (
        re.compile(r"^\s*how (many|much)\b|\bwhat is the (population|number|size|height|length)\b", re.I),
        NUMBER,
    ),
    (
        re.compile(r"^\s*when\b|\b(what|which) (year|date|day|month)\b|\bdate of birth\b|\bborn on\b", re.I),
        DATE,
    ),
    (
        re.compile(
            r"^\s*where\b|\b(what|which) (country|city|state|town|county|region|place|island)\b", re.I
        ),
        PLACE,
    ),
    (re.compile(r"\b(what|which) (nationality|language)\b", re.I), {"NORP", "LANGUAGE"}),
    (re.compile(r"^\s*(who|whom|whose)\b", re.I), PERSON),
]


# "Who is Dana Whitfield?" asks what she is: the sentence answers, not another name in it
WHO_IS_NAME = re.compile(r"^\s*[Ww]ho\s+(is|was|are|were)\s+[A-Z][\w.'-]*(\s+[A-Z][\w.'-]*)*\s*\??\s*$")


def asked_kinds(question: str) -> set[str] | None:
    """The entity labels that can answer the question, or None when its form does not say."""
    if WHO_IS_NAME.match(question):
        return None
    return next((kinds for pattern, kinds in ASKED_KINDS if pattern.search(question)), None)


def find(question: str, sentences: list[str]) -> tuple[str, int] | None:
    """(the answer span, the index of the sentence it came from), or None."""
    kinds = asked_kinds(question)
    if kinds is None:
        return None
    asked = question.lower()
    for index, sentence in enumerate(sentences):
        doc = nlp.parse_one(sentence)
        if any(t.dep_ == "neg" for t in doc):  # "Carol does not own the ledger" names no owner
            continue
        for ent in doc.ents:
            text = ent.text.strip(" \"'")
            if ent.label_ in kinds and text and text.lower() not in asked:
                return text, index
    return None
