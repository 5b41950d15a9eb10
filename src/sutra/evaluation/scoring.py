"""Score one answer against one question, and aggregate scores over a set.

The rule picks itself from the question's fields (shared/data/README.md):
- `label` → label accuracy; an "I don't know" answer counts as `unknown`.
- `answers` with `meta.answer_kind == "set"` → set match of the answer's items (`["nothing"]` = empty),
  `"ordered_list"` → the same items in the same order; otherwise exact match and token F1 after the SQuAD
  normalisation, maximum over the gold answers.
- `support` → precision, recall, F1 and all-correct of the source ids the answer cites; a cited id also
  counts for a gold id it is listed as an equivalent of in `meta.support_alternatives`.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from statistics import fmean
from typing import Any

from sutra.answer import Answer
from sutra.evaluation.dataset import Question

_PUNCTUATION = set(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_ITEM_SPLIT = re.compile(r"\s*(?:,|\band\b)\s*")
EMPTY_LIST_WORDS = frozenset({"nothing", "none"})
PASS_THRESHOLD = 0.95  # bAbI convention: a task is "passed" at >= 95 % accuracy


def normalize(text: str) -> str:
    """lower-case → drop punctuation → drop articles a/an/the → collapse whitespace (SQuAD/HotpotQA)."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(prediction: str, golds: Sequence[str]) -> float:
    return float(any(normalize(prediction) == normalize(g) for g in golds))


def token_f1(prediction: str, golds: Sequence[str]) -> float:
    best = 0.0
    predicted = normalize(prediction).split()
    for gold in golds:
        target = normalize(gold).split()
        common = sum((Counter(predicted) & Counter(target)).values())
        if common:
            best = max(best, 2 * common / (len(predicted) + len(target)))
    return best


def predicted_label(answer: Answer) -> str:
    if not answer.known:
        return "unknown"
    return normalize(answer.label or answer.text)


def answer_items(answer: Answer) -> list[str]:
    """The answer's list items, normalised; a lone "nothing" means the empty list."""
    raw = answer.items or [part for part in _ITEM_SPLIT.split(answer.text) if part.strip()]
    items = [normalize(item) for item in raw]
    items = [item for item in items if item]
    return [] if len(items) == 1 and items[0] in EMPTY_LIST_WORDS else items


def gold_items(answers: Sequence[str]) -> list[str]:
    items = [normalize(a) for a in answers]
    return [] if len(items) == 1 and items[0] in EMPTY_LIST_WORDS else items


def _same_items(predicted: list[str], gold: list[str], *, ordered: bool) -> bool:
    return predicted == gold if ordered else Counter(predicted) == Counter(gold)


def support_scores(question: Question, cited: Iterable[str]) -> dict[str, float]:
    """Precision, recall, F1 and all-correct of cited ids against `support` (alternatives count as gold)."""
    gold = list(dict.fromkeys(question.support))
    alternatives: dict[str, Any] = question.meta.get("support_alternatives") or {}
    equivalent = {alt: g for g in gold for alt in alternatives.get(g, []) if isinstance(alt, str)}
    cited_set = {equivalent.get(c, c) for c in cited}
    hits = len(cited_set & set(gold))
    precision = hits / len(cited_set) if cited_set else 0.0
    recall = hits / len(gold) if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
    return {
        "support_precision": precision,
        "support_recall": recall,
        "support_f1": f1,
        "support_all_correct": float(cited_set == set(gold)),
    }


@dataclass(slots=True)
class Score:
    """One question's outcome: `correct` under the question's own rule, plus every metric that applies."""

    correct: bool
    rule: str  # label | set | ordered_list | exact_match
    metrics: dict[str, float] = field(default_factory=dict)
    predicted: str = ""


def score(question: Question, answer: Answer) -> Score:
    metrics: dict[str, float] = {"answered": float(answer.known)}
    if question.support:
        metrics.update(support_scores(question, answer.sources))

    if question.label is not None:
        predicted = predicted_label(answer)
        correct = predicted == question.label
        metrics["label_accuracy"] = float(correct)
        return Score(correct, "label", metrics, predicted)

    kind = question.answer_kind
    if kind in ("set", "ordered_list"):
        items = answer_items(answer) if answer.known else None
        gold = gold_items(question.answers)
        correct = items is not None and _same_items(items, gold, ordered=kind != "set")
        metrics["list_accuracy"] = float(correct)
        return Score(correct, kind, metrics, ",".join(items) if items is not None else "unknown")

    # An "I don't know" never matches a gold answer, even an empty-looking one.
    text = answer.text if answer.known else ""
    em = exact_match(text, question.answers) if question.answers and answer.known else 0.0
    metrics["exact_match"] = em
    metrics["f1"] = token_f1(text, question.answers) if question.answers else 0.0
    return Score(bool(em), "exact_match", metrics, normalize(text) if answer.known else "unknown")


def aggregate(scores: Sequence[Score], labels: Sequence[str | None] = ()) -> dict[str, float]:
    """Mean of every metric over the questions it applies to, `accuracy` over all, label macro-F1."""
    if not scores:
        return {"accuracy": 0.0}
    out: dict[str, float] = {"accuracy": fmean(float(s.correct) for s in scores)}
    names = sorted({name for s in scores for name in s.metrics})
    for name in names:
        values = [s.metrics[name] for s in scores if name in s.metrics]
        out[name] = fmean(values)
    gold_labels = [g for g in labels if g is not None]
    if gold_labels:
        predicted = [s.predicted for s, g in zip(scores, labels, strict=True) if g is not None]
        out.update(label_report(gold_labels, predicted))
    return out


def label_report(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, float]:
    """Per-label recall and macro-F1 over the labels that occur in the gold data."""
    out: dict[str, float] = {}
    f1s = []
    for label in sorted(set(gold)):
        tp = sum(1 for g, p in zip(gold, predicted, strict=True) if g == label and p == label)
        gold_n = sum(1 for g in gold if g == label)
        pred_n = sum(1 for p in predicted if p == label)
        recall = tp / gold_n if gold_n else 0.0
        precision = tp / pred_n if pred_n else 0.0
        f1s.append(2 * precision * recall / (precision + recall) if tp else 0.0)
        out[f"recall_{label}"] = recall
    out["label_macro_f1"] = fmean(f1s)
    return out


def group_summary(per_group_accuracy: dict[str, float]) -> dict[str, float]:
    """bAbI-style roll-up: mean accuracy over groups and how many reach the pass threshold."""
    if not per_group_accuracy:
        return {}
    return {
        "group_mean_accuracy": fmean(per_group_accuracy.values()),
        "groups_passed": float(sum(acc >= PASS_THRESHOLD for acc in per_group_accuracy.values())),
        "groups": float(len(per_group_accuracy)),
    }
