"""Choosing the statements that together support a free-text question (or a hypothesis to explain).

One statement rarely covers a whole claim: "the sun rising and setting occurs once per day" needs a fact
about the daily cycle and a fact that sunrise is an event. Starting from the most similar statement, we
greedily add the candidate that covers the most still-uncovered content words of the question, as long as
it is itself related to the question, and stop when nothing new is covered.
"""

from __future__ import annotations

import re

from sutra.reasoning.seeds import Seed

_STOP_WORDS = """
a an the of to in on at for by with from and or but is are was were be been being it its this that these
those as into than then there their which who whom what when where why how do does did has have had can
could will would should may might must not no so such also some any each most more very about over under
between during before after above below up down out off again further once kind type
"""
STOP = frozenset(_STOP_WORDS.split())
MAX_EVIDENCE = 6
MIN_RELATED = 0.3  # a statement this far from the question is not evidence for it, whatever it covers


def content_words(text: str) -> set[str]:
    words = set()
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        if word in STOP or len(word) < 2:
            continue
        # crude plural folding keeps "stars" and "star" together without a parser round-trip
        words.add(word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word)
    return words


def select(question: str, seeds: list[Seed]) -> list[Seed]:
    wanted = content_words(question)
    texts = {seed.concept_id: content_words(seed.text) for seed in seeds}
    ranked = sorted(seeds, key=lambda s: (-s.similarity, s.concept_id))
    if not ranked:
        return []
    chosen = [ranked[0]]
    covered = texts[ranked[0].concept_id] & wanted
    while len(chosen) < MAX_EVIDENCE:
        best, gain = None, 0
        for seed in ranked:
            if seed in chosen or seed.similarity < MIN_RELATED:
                continue
            new = len((texts[seed.concept_id] & wanted) - covered)
            if new > gain:
                best, gain = seed, new
        if best is None:
            break
        chosen.append(best)
        covered |= texts[best.concept_id] & wanted
    return chosen
