"""Reading an answer from what is stated, rather than linking it: a sentence that says who someone is,
a fact that states an amount.

"Who is the Nimbus on-call engineer?" is answered by "The Nimbus on-call engineer is Dana Whitfield."
only when that sentence is a plain affirmative "X is Y"; "How many replicas does the cluster run?" by the
stored amount "3 replicas" only when the answer is one amount of the counted noun.
"""

from __future__ import annotations

import re

from sutra.learning import nlp
from sutra.reasoning import evidence

COUNTED = re.compile(r"\s*how (?:many|much)\s+([\w-]+)", re.IGNORECASE)  # the noun counted
NUMBER_WORDS = {"one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "dozen"}
APPROXIMATELY = {"about", "around", "approximately", "nearly", "roughly", "almost", "over", "under", "at"}
WHO_IS = re.compile(r"\s*who\s+(is|are|was|were)\b", re.IGNORECASE)
NEGATIVE = {"not", "n't", "never", "no", "nobody", "none", "neither", "nor"}
SUBORDINATE = {"whether", "if", "that", "because", "when", "while", "although", "who", "which", "by"}


def says_who(question: str, sentence: str) -> bool:
    """Whether `sentence` is one affirmative "X is Y" with every content word of `question` on one side
    ("The Nimbus on-call engineer is Dana Whitfield."): not a denial, a passive ("was fired by the CEO"), a
    clause inside another ("whether …") or a sentence that merely mentions the words."""
    words = [t for t in nlp.parse_one(sentence) if not t.is_punct]
    be = [i for i, t in enumerate(words) if t.lower_ in ("is", "are", "was", "were")]
    if len(be) != 1 or any(t.lower_ in NEGATIVE | SUBORDINATE for t in words):
        return False
    at = be[0]
    if at == 0 or at == len(words) - 1 or words[at + 1].tag_ in ("VBN", "VBG"):
        return False
    asked = evidence.content_words(question)
    sides = (" ".join(t.text for t in words[:at]), " ".join(t.text for t in words[at + 1 :]))
    return any(asked <= evidence.content_words(side) for side in sides)


def is_amount(text: str) -> bool:
    """One amount: "3 replicas", "at least 16 GB", "about five minutes" (not a list of things)."""
    words = text.lower().split()
    while len(words) > 2 and words[0] in APPROXIMATELY | {"least", "most"}:
        words = words[1:]
    if ", " in text or len(words) < 2:  # "football, two apples" lists things
        return False
    return words[0].replace(",", "").replace(".", "", 1).isdigit() or words[0] in NUMBER_WORDS
