"""Transfers: who gave what to whom. One verb, three arguments, so a single binary fact cannot hold it.

"Fred gave the football to Bill", "Fred gave Bill the football", "Bill received the football from Fred"
all name the same three roles: the giver (agent), the thing (theme) and the receiver (recipient). The
same role reading serves statements (roles are entities) and questions (one role is the wh-word), so
"Who did Fred give the football to?" asks exactly the role the statement filled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ROLES = ("agent", "theme", "recipient")
# verbs whose subject hands something over; the thing leaves the subject's hands
GIVE_VERBS = {"give", "hand", "pass", "send", "sell", "lend", "deliver", "offer", "return", "throw", "toss"}
# verbs whose subject is the receiver; "from" names the giver. Only "receive" is a transfer without "from":
# "Mary took the apple" is taking, "Mary took the apple from John" is a transfer.
RECEIVE_VERBS = {"receive", "get", "take", "accept", "buy", "borrow", "obtain", "collect"}


def _prep(verb: Any, word: str) -> Any | None:
    return next((c for c in verb.children if c.dep_ in ("prep", "dative") and c.lower_ == word), None)


def _object_of(prep: Any | None) -> Any | None:
    if prep is None:
        return None
    return next((c for c in prep.children if c.dep_ == "pobj"), None)


@dataclass(slots=True)
class RoleTokens:
    verb: str  # the lemma as written ("give", "hand", "receive")
    agent: Any | None
    theme: Any | None
    recipient: Any | None
    stranded: str | None  # "to" / "from" with no object: "Who did Fred give it to?" asks that role


def role_tokens(verb: Any) -> RoleTokens | None:
    """The tokens filling each role of a transfer verb, or None when the verb is no transfer."""
    lemma = verb.lemma_.lower()
    subject = next((c for c in verb.children if c.dep_ in ("nsubj", "nsubjpass")), None)
    theme = next((c for c in verb.children if c.dep_ in ("dobj", "obj")), None)
    dative = next(
        (c for c in verb.children if c.dep_ == "dative" and c.pos_ in ("NOUN", "PROPN", "PRON")), None
    )
    if lemma in GIVE_VERBS:
        to = _prep(verb, "to")
        recipient = _object_of(to) or dative
        stranded = "to" if to is not None and _object_of(to) is None else None
        return RoleTokens(lemma, subject, theme, recipient, stranded)
    if lemma in RECEIVE_VERBS:
        frm = _prep(verb, "from")
        if frm is None and lemma != "receive":
            return None
        stranded = "from" if frm is not None and _object_of(frm) is None else None
        return RoleTokens(lemma, _object_of(frm), theme, subject, stranded)
    return None


@dataclass(slots=True)
class Transfer:
    """A learned transfer: entity refs (or None where the text left a role out)."""

    verb: str
    agent: Any | None
    theme: Any | None
    recipient: Any | None

    def to_attrs(self) -> dict[str, str | None]:
        return {
            "verb": self.verb,
            **{r: (ref.id if ref is not None else None) for r in ROLES for ref in [getattr(self, r)]},
        }


def transfer_of(verb: Any, resolve: Any) -> Transfer | None:
    """The transfer a (non-negated) verb states, its roles resolved to entities; None if it states none."""
    roles = role_tokens(verb)
    if roles is None or any(c.dep_ == "neg" for c in verb.children):
        return None
    refs = {r: (resolve(tok) if tok is not None else None) for r in ROLES for tok in [getattr(roles, r)]}
    if refs["theme"] is None or (refs["agent"] is None and refs["recipient"] is None):
        return None
    return Transfer(roles.verb, refs["agent"], refs["theme"], refs["recipient"])


def stranded_role(roles: RoleTokens) -> str | None:
    """The role a dangling preposition asks for: "give ... to?" a recipient, "receive ... from?" an agent."""
    return {"to": "recipient", "from": "agent"}.get(roles.stranded or "")
