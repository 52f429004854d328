"""The lexicon matcher: RE2's one-pass prefilter must never hide a match Python's ``re`` finds.

Invented names only; the abusive words are quoted because the matcher has to find them.
"""

from __future__ import annotations

import random
import re
import time

import pytest

from detectors.lexicons import ABUSE_PATTERNS, DISREPUTE_PATTERNS, TARGET_PATTERNS, PatternSet
from detectors.prefilter import Prefilter, without_lookarounds
from detectors.normalise import normalise

SAMPLES = (
    "Mr Hartley is a useless idiot and should be sacked",
    "you dick head, total piece of shit",
    "i know where you live. watch your back",
    "I'll end you mate",
    "i'll end you",
    "go back to your own country",
    "white trash and a waste of space",
    "wine o'clock in the staff room, place your bets",
    "mr émile is an idiot",  # a non-ASCII letter right beside a pattern's \\w+
    "kill you\u00a0now",  # Unicode whitespace: Python's \\s matches it, RE2's does not
    "😡 you idiot 😡 fuck off",
    "тупой idiot مدرسة 學校 fuck",
    "idioté",  # no word boundary after "idiot" for Python's re
    "nothing to see here, lovely sports day",
    "",
)


@pytest.mark.parametrize("pattern_set", [ABUSE_PATTERNS, TARGET_PATTERNS, DISREPUTE_PATTERNS])
@pytest.mark.parametrize("text", SAMPLES)
def test_prefiltered_find_equals_trying_every_pattern(pattern_set: PatternSet, text: str) -> None:
    folded = normalise(text).folded
    assert pattern_set.find(folded) == pattern_set.find_slowly(folded)


def test_prefilter_agrees_on_random_mixed_script_text() -> None:
    rng = random.Random(7)
    words = ["idiot", "kill", "you", "mr", "smith", "é", "ü", "學", "😡", "\u00a0", "\n", "fuck", "off", "the", "head"]
    for _ in range(500):
        text = "".join(rng.choice(words) + rng.choice([" ", "", "  ", "."]) for _ in range(rng.randint(1, 12)))
        folded = normalise(text).folded
        assert ABUSE_PATTERNS.find(folded) == ABUSE_PATTERNS.find_slowly(folded), text


def test_multi_word_entries_match() -> None:
    kinds = {(h.kind, h.words) for h in ABUSE_PATTERNS.find("total piece of shit and a dick  head")}
    assert ("insult", "piece of shit") in kinds and ("insult", "dick  head") in kinds


def test_lookarounds_are_removed_whole() -> None:
    assert without_lookarounds(r"\bend you\b(?= (?:i|we)\b|[.!)]|$)x") == r"\bend you\bx"
    assert without_lookarounds(r"(?<!\w)@\w+(?![(])") == r"@\w+"


def test_hostile_text_is_linear() -> None:
    folded = normalise("kill " * 20_000 + "a" * 200_000).folded
    started = time.perf_counter()
    ABUSE_PATTERNS.find(folded)
    assert time.perf_counter() - started < 5


def test_case_insensitive_patterns_keep_their_unicode_case_folding() -> None:
    # Python folds the long s and the Kelvin sign to ASCII under IGNORECASE; the RE2 pass must too
    gate = Prefilter([re.compile(r"\bdiabetes\b|\bkid\b", re.IGNORECASE)])
    for text in ("Diabete\u017f", "\u212Aid", "DIABETES", "a kid"):
        assert gate.candidates(text) == [0], text
    assert gate.candidates("diabolical") == []
