"""Questions about transfers: "Who gave the football to Bill?", "What did Fred give to Bill?",
"Who did Fred give the football to?", "Who received the football?".

The question is read with the same role reader as statements (`learning.transfers`); the role the wh-word
(or a dangling "to"/"from") fills is the one asked. Candidate statements are those mentioning every named
role; the latest transfer that matches them all answers, with its statement as the proof.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sutra.answer import ReasoningPath, Step
from sutra.learning.entities import mention
from sutra.learning.transfers import ROLES, role_tokens, stranded_role
from sutra.model import Concept
from sutra.reasoning.explain import name_of
from sutra.store.base import Store

WH = {"who", "whom", "what", "which"}


@dataclass(slots=True)
class TransferQuery:
    asked: str  # the role the question asks for
    known: dict[str, tuple[str, str]]  # role -> (entity id, name) named in the question

    def missing(self, store: Store) -> list[str]:
        """Names in the question the store knows nothing about."""
        return [name for eid, name in self.known.values() if store.get_concept(eid) is None]


def read_question(parsed: Any) -> TransferQuery | None:
    """The transfer a question asks about, or None when its verb is no transfer verb."""
    for verb in parsed:
        if verb.pos_ not in ("VERB", "AUX"):
            continue
        roles = role_tokens(verb)
        if roles is None:
            continue
        tokens = {r: getattr(roles, r) for r in ROLES}
        wh = [r for r, tok in tokens.items() if tok is not None and tok.lower_ in WH]
        # "What did Jeff give Bill?": the parser takes "what" for the receiver; a "what" asks for the thing
        if wh == ["recipient"] and tokens["recipient"].lower_ == "what" and tokens["theme"] is not None:
            tokens["recipient"], tokens["theme"] = tokens["theme"], tokens["recipient"]
            wh = ["theme"]
        asked = wh[0] if wh else stranded_role(roles)
        if asked is None:
            continue
        known = {}
        for role, tok in tokens.items():
            if role != asked and tok is not None and tok.lower_ not in WH:
                ref = mention(tok)
                if ref is not None:
                    known[role] = (ref.id, ref.name)
        return TransferQuery(asked, known)
    return None


def find(store: Store, query: TransferQuery) -> tuple[Concept, dict[str, Any]] | None:
    """The latest stored transfer matching the question's named roles and filling the asked one."""
    if not query.known:
        return None
    statement_sets = [
        {e.source for e in store.neighbors(eid, "in", relations=["mentions"])}
        for eid, _ in query.known.values()
    ]
    best: tuple[Concept, dict[str, Any]] | None = None
    for sid in set.intersection(*statement_sets):
        statement = store.get_concept(sid)
        if statement is None:
            continue
        for transfer in statement.attrs.get("transfers", []):
            fits = all(transfer.get(role) == eid for role, (eid, _) in query.known.items())
            # a statement learned again counts at its latest assertion (`last_seq`)
            if fits and transfer.get(query.asked) and (best is None or statement.last_seq > best[0].last_seq):
                best = (statement, transfer)
    return best


def proof(store: Store, statement: Concept, transfer: dict[str, Any], asked: str) -> ReasoningPath:
    names = {r: name_of(store, transfer[r]) if transfer.get(r) else "someone" for r in ROLES}
    step = Step(
        subject=names["agent"],
        relation=f"{transfer['verb']} (to {names['recipient']})",
        object=names["theme"],
        statement=statement.text,
        sources=statement.sources[-1:],
        confidence=statement.confidence,
    )
    return ReasoningPath(answer=names[asked], steps=[step], score=0.95, kind="transfer")
