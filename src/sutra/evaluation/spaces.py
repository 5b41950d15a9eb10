"""Plan which knowledge space answers each question, so that no context is learned twice.

With per-question contexts every question needs a space holding exactly its context. Learning is the
expensive part, so a space is reused when the next question's context extends the one the space already
holds (same ids, same order, possibly more at the end): only the new ids are learned. bAbI questions of one
story and ProofWriter questions of one theory share a space this way.

Questions are visited grouped by the first id of their context (groups in order of first appearance, file
order inside a group) so that questions on the same story or theory become neighbours even when the file
interleaves them. Answers do not depend on the visiting order: every space is isolated and learning is
deterministic; results are reported in file order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sutra.errors import InputError
from sutra.evaluation.dataset import Question

ContextMode = Literal["auto", "corpus", "question"]
CONTEXT_MODES: tuple[str, ...] = ("auto", "corpus", "question")


@dataclass(frozen=True, slots=True)
class Visit:
    """Answer question `index` after learning `learn` into a fresh space (`fresh`) or the current one."""

    index: int
    fresh: bool
    learn: tuple[str, ...]


def resolve_mode(mode: str, questions: Sequence[Question]) -> Literal["corpus", "question"]:
    """`auto` means per-question spaces when every question has `context_ids`, else one corpus space."""
    if mode not in CONTEXT_MODES:
        raise InputError(f"--context must be one of {', '.join(CONTEXT_MODES)}, got {mode!r}")
    if mode == "corpus":
        return "corpus"
    lacking = [q.id for q in questions if not q.context_ids]
    if mode == "question" and lacking:
        raise InputError(
            f"--context question needs context_ids on every question; {len(lacking)} lack them "
            f"(e.g. {lacking[0]}); use --context corpus"
        )
    return "corpus" if lacking else "question"


def plan_visits(questions: Sequence[Question]) -> list[Visit]:
    """The order to answer per-question-context questions in, and what to learn before each."""
    groups: dict[str, list[int]] = {}
    for index, question in enumerate(questions):
        groups.setdefault(question.context_ids[0] if question.context_ids else "", []).append(index)

    visits: list[Visit] = []
    held: tuple[str, ...] | None = None  # what the current space holds, in learning order
    for indexes in groups.values():
        for index in indexes:
            context = tuple(questions[index].context_ids)
            if held is not None and context[: len(held)] == held:
                visits.append(Visit(index, fresh=False, learn=context[len(held) :]))
            else:
                visits.append(Visit(index, fresh=True, learn=context))
            held = context
    return visits
