"""The reasoner: question -> plan -> candidate paths -> consensus -> gate -> Answer.

An answer is only ever built from stored facts. When the evidence is missing, weak or split, the quality
gate answers "I don't know" and says why.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

import numpy as np

from sutra.answer import Alternative, Answer, ReasoningPath, Step
from sutra.config import Settings
from sutra.learning import lexicon as lx
from sutra.learning import nlp
from sutra.reasoning import (
    causal,
    consensus,
    contradictions,
    dated,
    evidence,
    spans,
    spatial,
    stated,
    transfers,
)
from sutra.reasoning.claims import ClaimChecker
from sutra.reasoning.explain import cited_sources, name_of, path_of, step_of
from sutra.reasoning.paths import Candidate, expand_members, search
from sutra.reasoning.query import QueryPlan, analyze
from sutra.reasoning.replies import answered, unknown
from sutra.reasoning.seeds import find_seeds
from sutra.store.base import Store
from sutra.store.keyword import tokenize

Embed = Callable[[str], np.ndarray]
TEXT_MATCH_MIN_SIMILARITY = 0.5
WH_WORDS = {"what", "who", "whom", "whose", "where", "when", "why", "how", "which"}


def _asks_for_something(question: str) -> bool:
    """A wh-question, whose answer must say more than the question does (a statement to check, such as an
    EntailmentBank hypothesis, is rightly matched by a sentence that restates it)."""
    words = question.strip().split(maxsplit=1)
    return bool(words) and words[0].lower().strip(",") in WH_WORDS


# cite the other paths of the winning answer that score at least this share of the best one
AGREEING_PATH_SHARE = 0.8
CONFLICT_PENALTY = 0.7  # an answer whose facts are contradicted elsewhere is worth less
CO_ANSWER_SHARE = 0.95  # values this close to the best one are listed together, not ranked
WHO_WHAT = ("who", "whom", "what", "which")
HAPPEN = {"happen", "occur", "take_place"}
ASKS_WH = re.compile(r"\s*(what|who|which|where)\b", re.IGNORECASE)


class Reasoner:
    def __init__(self, store: Store, embed: Embed | None, settings: Settings) -> None:
        self.store = store
        self.embed = embed
        self.settings = settings
        self.claims = ClaimChecker(store, settings)

    def answer(self, question: str, resolve: str = "recent") -> Answer:
        """`resolve` chooses the side of a contradiction a yes/no answer takes: "recent", "confidence" or
        "sources" (the side most sources agree on)."""
        plan = analyze(question, self.store)
        plan.resolve = resolve
        answer = self._answer(plan)
        self._flag_conflicts(answer)
        return answer

    def _flag_conflicts(self, answer: Answer) -> None:
        """An answer resting on a subject with contradicting current facts says so, and is less certain."""
        used = {step.subject for path in answer.paths for step in path.steps}
        subjects = [i for name in used for i in self.store.find_entities(name)]
        found = contradictions.find(self.store, subjects) if subjects else []
        if found:
            answer.conflicts = [c.describe() for c in found]
            answer.confidence = round(answer.confidence * CONFLICT_PENALTY, 4)

    def _answer(self, plan: QueryPlan) -> Answer:
        if plan.intent == "truth":
            return self._truth(plan)
        order = next((w for w in plan.predicate if w in ("before", "after")), None)
        asks = ASKS_WH.match(plan.question)  # a real question, not a statement to check
        if asks and order and HAPPEN & set(plan.predicate) and plan.intent == "what":
            answer = dated.happened(self.store, self.embed, plan, before=order == "before")
            if answer is not None:
                return answer
        transfer = transfers.read_question(nlp.parse_one(plan.question)) if plan.intent in WHO_WHAT else None
        if transfer is not None:
            return self._transfer(plan, transfer)
        asked_event = causal.question_event(nlp.parse_one(plan.question))
        if asked_event:
            answer = self._causal(plan, *asked_event)
            if answer is not None:
                return answer
        if plan.unresolved:
            return self._unknown(plan, self._unresolved_reason(plan.unresolved))
        order = next((w for w in plan.predicate if w in ("before", "after")), None)
        if plan.intent == "how" and len(plan.focus) >= 2:
            answer = self._route(plan)
        elif order and len(plan.focus) >= 2:
            answer = dated.ordered(self.store, plan, before=order == "before")
        else:
            answer = None
        if answer is not None:  # otherwise "before"/"how" were not about a timeline or a route after all
            return answer
        if asks and plan.date and plan.intent in ("what", "who", "which", "where"):
            return (
                dated.on_date(self.store, plan)
                if HAPPEN & set(plan.predicate)
                else dated.as_of(self.store, plan)
            )
        if plan.intent == "yesno":
            return self._yes_no(plan)
        if plan.focus and plan.relations:
            answer = (self._stated_amount(plan) if plan.intent == "count" else None) or self._graph(plan)
            if answer.known or plan.intent in ("where", "count"):
                return answer
            if plan.intent == "who":
                return self._stated_who(plan) or answer
        return self._text_match(plan)

    def _stated_who(self, plan: QueryPlan) -> Answer | None:
        """ "Who is the Nimbus on-call engineer?" may be stated as "The Nimbus on-call engineer is Dana
        Whitfield.", which the graph holds no link for. Such a sentence answers only a "Who is …?" and
        only if it is a plain affirmative "X is Y" that says everything the question asks about: "X met
        the CEO" or "X is not the engineer" do not say who the CEO or the engineer is."""
        if not stated.WHO_IS.match(plan.question):
            return None
        matched = self._text_match(plan)
        if matched.known and stated.says_who(plan.question, matched.paths[0].steps[0].statement):
            return matched
        return None

    # ---- structured questions ----

    def _candidates(self, plan: QueryPlan) -> list[Candidate]:
        s = self.settings
        cands: list[Candidate] = []
        for focus in plan.focus[:1] if not plan.unknown_is_subject else plan.focus[-1:]:
            for start in focus.entity_ids:
                found = search(
                    self.store, start, plan, s.max_hops, s.hop_decay, incoming=plan.unknown_is_subject
                )
                if plan.unknown_is_subject:
                    found = expand_members(self.store, found, s.hop_decay)
                cands.extend(found)
        return cands

    def _graph(self, plan: QueryPlan, keep: Callable[[str], bool] | None = None) -> Answer:
        """The answer the graph gives; `keep` limits the candidate answers (by name) considered."""
        candidates = self._candidates(plan)
        if keep is not None:
            candidates = [c for c in candidates if keep(name_of(self.store, c.answer_id))]
        clusters = consensus.cluster(candidates)
        if plan.intent == "count":
            current = [
                c for c in clusters if c.best.edges[-1].current and c.support >= self.settings.min_confidence
            ]
            items = [name_of(self.store, c.answer_id) for c in current]
            if not items and plan.question.lower().lstrip().startswith("how much"):
                # an amount ("how much memory ..."), not a number of things held: none found is not "0"
                return self._unknown(plan, f"no stored amount for {plan.focus[0].text!r}")
            if not clusters:  # "0" needs evidence too: things once held and since let go
                return self._unknown(
                    plan, f"nothing stored says what {plan.focus[0].text!r} has or holds; none can be counted"
                )
            # none held now: the paths show what was held and let go, the evidence for "0"
            paths = [path_of(self.store, c.best) for c in current or clusters[: consensus.KEEP_PATHS]]
            return answered(plan, str(len(items)), 0.9 if items else 0.6, paths, items)
        if not clusters:
            return self._unknown(
                plan, f"no stored fact links {plan.focus[0].text!r} to {' / '.join(plan.relations[:2])}"
            )
        members = self._co_answers(plan, clusters)
        if len(members) > 1:
            return self._list_answer(plan, members)
        conf = consensus.confidence(clusters)
        top = clusters[0]
        if conf < self.settings.min_confidence:
            return self._unknown(
                plan,
                f"evidence too weak or conflicting (best answer "
                f"{name_of(self.store, top.answer_id)!r} at confidence {conf:.2f})",
                clusters=clusters,
            )
        best = top.best.score
        chosen = [p for p in top.paths[: consensus.KEEP_PATHS] if p.score >= AGREEING_PATH_SHARE * best]
        paths = [path_of(self.store, p) for p in chosen]
        return Answer(
            plan.question,
            name_of(self.store, top.answer_id),
            "answered",
            round(conf, 4),
            paths=paths,
            sources=cited_sources(paths[:1] if len(paths) > 1 else paths),
            alternatives=self._alternatives(clusters[1:]),
            items=[name_of(self.store, top.answer_id)],
            plan=plan.to_dict(),
        )

    def _co_answers(self, plan: QueryPlan, clusters: list[consensus.Cluster]) -> list[consensus.Cluster]:
        """Answers that hold together rather than compete: for a relation that can have many values
        ("what is Mary carrying?"), every current, directly stated value as strong as the best one."""
        if plan.intent not in ("what", "who", "which") or set(plan.relations) & lx.FUNCTIONAL_RELATIONS:
            return []
        top = clusters[0].support
        return [
            c
            for c in clusters
            if c.support >= CO_ANSWER_SHARE * top and len(c.best.edges) == 1 and c.best.edges[0].current
        ]

    def _list_answer(self, plan: QueryPlan, members: list[consensus.Cluster]) -> Answer:
        paths = [path_of(self.store, c.best) for c in members]
        items = [name_of(self.store, c.answer_id) for c in members]
        confidence = round(min(c.support for c in members), 4)
        return answered(plan, ", ".join(items), confidence, paths, items)

    def _alternatives(self, clusters: list[consensus.Cluster]) -> list[Alternative]:
        return [
            Alternative(name_of(self.store, c.answer_id), round(c.support, 4), len(c.paths))
            for c in clusters[:3]
        ]

    def _causal(self, plan: QueryPlan, direction: str, key: str) -> Answer | None:
        start = causal.start_event(self.store, key, direction)
        if start is None:
            return None
        found = causal.chains(self.store, start, direction, self.settings.max_hops, self.settings.hop_decay)
        if not found:
            return self._unknown(plan, f"no stored rule or cause links {key!r} to {direction}")
        found.sort(key=lambda c: (-len(c.edges), -c.score))
        paths = [path_of(self.store, c) for c in found[: consensus.KEEP_PATHS]]
        # the answer names the direct effects (or causes), or for "root cause" where each chain starts;
        # the paths show the whole chain either way
        roots = direction == "causes" and re.search(r"\broot\b|\bultimate", plan.question, re.IGNORECASE)
        ends = [causal.root_of(c, direction) if roots else c.answer_id for c in found]
        items = list(dict.fromkeys(name_of(self.store, end) for end in ends))
        conf = max(c.edges[0].confidence for c in found) * 0.95
        return answered(plan, "; ".join(items), conf, paths, items)

    def _stated_amount(self, plan: QueryPlan) -> Answer | None:
        """ "How many replicas does the cluster run?" when a fact states it ("runs 3 replicas"): the
        amount is read, not counted. The counted noun then names a stored amount ("3 replicas"), so it is
        dropped from the focus and the rest asked as "what", among answers that are amounts of that noun
        ("2 databases" does not answer for replicas). None when no amount is stated: counting things
        held ("How many objects is Daniel carrying?") is then left to `_graph`."""
        asked = stated.COUNTED.match(plan.question)
        if asked is None:
            return None
        counted = evidence.content_words(asked.group(1))
        rest = [f for f in plan.focus if evidence.content_words(f.text) != counted]
        if not rest or len(rest) == len(plan.focus):
            return None

        def amount_of_counted(name: str) -> bool:
            return stated.is_amount(name) and evidence.content_words(name) >= counted

        answer = self._graph(dataclasses.replace(plan, intent="what", focus=rest), keep=amount_of_counted)
        return answer if answer.known else None

    def _unresolved_reason(self, names: list[str]) -> str:
        """Why names the store does not know stop the answer. A name may still occur inside stored
        statements ("Dublin" in "the Dublin data centre"): then say so, and show one, so the asker can
        rephrase with the name as stored, rather than hear that nothing is known."""
        for name in names:
            for cid, _ in self.store.search_text(name, 1):
                concept = self.store.get_concept(cid)
                if concept is not None and name.lower() in concept.text.lower():
                    return (
                        f"{name!r} is not a name of its own in the stored facts; it occurs only inside "
                        f"statements such as {concept.text!r}"
                    )
        return f"nothing is known about {', '.join(repr(n) for n in names)}"

    def _transfer(self, plan: QueryPlan, query: transfers.TransferQuery) -> Answer:
        """ "Who gave the football to Bill?": the latest transfer whose named roles match the question."""
        missing = query.missing(self.store)
        if missing:
            return self._unknown(plan, f"nothing is known about {', '.join(repr(n) for n in missing)}")
        found = transfers.find(self.store, query)
        if found is None:
            named = ", ".join(f"{role} {name!r}" for role, (_, name) in query.known.items())
            return self._unknown(
                plan, f"no stored transfer with {named or 'those roles'} names its {query.asked}"
            )
        path = transfers.proof(self.store, *found, query.asked)
        return answered(plan, path.answer, 0.95, [path], [path.answer])

    # ---- time and space ----

    def _route(self, plan: QueryPlan) -> Answer | None:
        """ "How do you go from A to B?": the chain of directional facts from A to B, as compass steps."""
        start, goal = plan.focus[0], plan.focus[-1]
        for a in start.entity_ids:
            for b in goal.entity_ids:
                steps = spatial.walk(self.store, a, b, self.settings.max_hops * 2)
                if steps:
                    moves = spatial.compass(steps)
                    path = ReasoningPath(
                        answer=", ".join(moves),
                        steps=[step_of(self.store, e) for e, _ in steps],
                        score=0.95,
                        kind="route",
                    )
                    words = ", then ".join(spatial.COMPASS_WORDS.get(m, m) for m in moves)
                    return Answer(
                        plan.question,
                        words,
                        "answered",
                        0.95,
                        paths=[path],
                        items=moves,
                        sources=cited_sources([path]),
                        plan=plan.to_dict(),
                    )
        return None

    # ---- yes/no and true/false: a proof of the claim or of its negation (see claims.py) ----

    def _yes_no(self, plan: QueryPlan) -> Answer:
        return self._claim(
            plan,
            plan.question,  # the parser reads "Is Charlie green?" right, "Is Charlie green." not
            {"yes": "yes", "no": "no", "maybe": "maybe"},
            unknown=("no stored fact proves the claim or its negation", "maybe"),
        )

    def _truth(self, plan: QueryPlan) -> Answer:
        return self._claim(
            plan,
            plan.statement or plan.question,
            {"yes": "true", "no": "false", "maybe": "unknown"},
            unknown=("neither the statement nor its negation can be proved", "unknown"),
        )

    def _claim(self, plan: QueryPlan, text: str, labels: dict[str, str], unknown: tuple[str, str]) -> Answer:
        verdict = self.claims.check(text, resolve=plan.resolve)
        if verdict.value is None:
            return self._unknown(plan, unknown[0], label=unknown[1])
        label = labels[verdict.value]
        reason = f"contradiction resolved; overruled: {verdict.overruled}" if verdict.overruled else ""
        return Answer(
            plan.question,
            label,
            "answered",
            round(verdict.confidence, 4),
            paths=verdict.paths,
            sources=cited_sources(verdict.paths),
            label=label,
            plan=plan.to_dict(),
            reason=reason,
        )

    # ---- free-text fallback: the stored statement that best matches the question ----

    def _text_match(self, plan: QueryPlan) -> Answer:
        vector = self.embed(plan.question) if self.embed else None
        seeds = find_seeds(self.store, plan.question, vector, k=16)
        if _asks_for_something(plan.question):
            # "What happens if the disk is full?" is not answered by "The disk is full."
            asked = set(tokenize(plan.question))
            seeds = [s for s in seeds if not set(tokenize(s.text)) <= asked]
        if not seeds:
            return self._unknown(plan, "no stored statement is related to the question beyond restating it")
        best = max(seeds, key=lambda s: s.similarity)
        if best.similarity < TEXT_MATCH_MIN_SIMILARITY:
            return self._unknown(plan, f"the closest stored statement is only {best.similarity:.2f} similar")
        paths = []
        for seed in evidence.select(plan.question, seeds):
            step = Step(
                subject="question",
                relation="matches",
                object=seed.text,
                statement=seed.text,
                sources=seed.sources[-1:],
                confidence=round(seed.similarity, 4),
            )
            paths.append(
                ReasoningPath(
                    answer=seed.text, steps=[step], score=round(seed.similarity, 4), kind="text-match"
                )
            )
        conf = round(best.similarity * 0.8, 4)  # a text match is weaker evidence than a fact chain
        text, items = best.text, []
        paths.sort(key=lambda path: path.answer != text)  # the best-matching sentence first
        span = spans.find(plan.question, [path.answer for path in paths])
        if span is not None:  # "when …?" is answered with the date the sentence gives, not the sentence
            text, items = span[0], [span[0]]
            paths.insert(0, paths.pop(span[1]))
            paths[0].answer = text
        return Answer(
            plan.question,
            text,
            "answered",
            conf,
            paths=paths,
            sources=cited_sources(paths),
            items=items,
            plan=plan.to_dict(),
        )

    def _unknown(
        self,
        plan: QueryPlan,
        reason: str,
        *,
        label: str | None = None,
        clusters: list[consensus.Cluster] | None = None,
    ) -> Answer:
        return unknown(plan, reason, label=label, alternatives=self._alternatives(clusters or []))
