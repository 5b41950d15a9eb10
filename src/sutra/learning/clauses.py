"""Links between clauses: conditions ("if A then B") and causes ("B because A", "A, so B").

A clause becomes an event concept of its own text, so "why did B happen?" can walk to A and cite the
sentence that said so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CONDITION_MARKS = {"if", "when", "whenever", "once"}
CAUSE_MARKS = {"because", "since"}
DROP_WORDS = {"then", ",", "so", "therefore", "thus"}


@dataclass(slots=True)
class ClauseLink:
    cause: str
    effect: str
    relation: str  # "implies" for conditions, "causes" for stated causes
    cause_key: str = ""
    effect_key: str = ""


KEY_SKIP_POS = {"DET", "AUX", "PUNCT", "SCONJ", "CCONJ"}


def clause_key(tokens: list[Any]) -> str:
    """Identity of a clause by its content lemmas, so "the disk was full" and "if the disk is full" meet."""
    words = [
        t.lemma_.lower()
        for t in tokens
        if t.pos_ not in KEY_SKIP_POS
        and t.dep_ != "mark"
        and t.lower_ not in DROP_WORDS
        and t.lemma_.lower() not in ("why", "what", "how", "when", "happen", "occur")
    ]
    return " ".join(words)


def _text(tokens: list[Any]) -> str:
    # keep the original spacing, so "cannot" stays one word (the tokenizer splits it in two)
    kept = [t for t in tokens if t.lower_ not in DROP_WORDS and t.dep_ != "mark" and t.pos_ != "PUNCT"]
    return "".join(t.text_with_ws for t in kept).strip()


def clause_links(sent: Any) -> list[ClauseLink]:
    links: list[ClauseLink] = []
    for tok in sent:
        if tok.dep_ != "advcl":
            continue
        marks = {c.lower_ for c in tok.children if c.dep_ == "mark"}
        inner = {t.i for t in tok.subtree}
        sub = [t for t in sent if t.i in inner]
        main = [t for t in sent if t.i not in inner]
        sub_text, main_text = _text(sub), _text(main)
        if not sub_text or not main_text:
            continue
        keys = clause_key(sub), clause_key(main)
        if marks & CONDITION_MARKS:
            links.append(ClauseLink(sub_text, main_text, "implies", *keys))
        elif marks & CAUSE_MARKS:
            links.append(ClauseLink(sub_text, main_text, "causes", *keys))
    for tok in sent:
        # "A, so B" / "A; therefore B": the conjoined clause is the effect
        if tok.dep_ == "conj" and any(c.lower_ in ("so", "therefore") for c in tok.children):
            inner = {t.i for t in tok.subtree}
            effect_tokens = [t for t in sent if t.i in inner]
            cause_tokens = [t for t in sent if t.i not in inner and t.dep_ != "cc"]
            cause, effect = _text(cause_tokens), _text(effect_tokens)
            if cause and effect:
                links.append(
                    ClauseLink(cause, effect, "causes", clause_key(cause_tokens), clause_key(effect_tokens))
                )
    return links
