"""One RE2 pass over many regular expressions: which of them can match a text at all.

RE2 runs every pattern at once in linear time but has no lookarounds and knows only ASCII word
characters, so each pattern is given to it without its lookarounds and the text with non-ASCII
characters replaced by ASCII ones of the same class. The answer is a superset: Python's ``re``,
run on the candidates only, has the final word.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

import re2

_LOOKAROUND_OPENERS = ("(?=", "(?!", "(?<=", "(?<!")


def without_lookarounds(pattern: str) -> str:
    """``pattern`` with every lookahead and lookbehind removed (RE2 has none): it matches
    wherever the original matches, and sometimes where it does not."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern[i] == "\\":
            out.append(pattern[i : i + 2])
            i += 2
        elif pattern[i] == "[":
            end = _class_end(pattern, i)
            out.append(pattern[i:end])
            i = end
        elif pattern.startswith(_LOOKAROUND_OPENERS, i):
            i = _group_end(pattern, i)
        else:
            out.append(pattern[i])
            i += 1
    return "".join(out)


def _class_end(pattern: str, start: int) -> int:
    i = start + 1
    if i < len(pattern) and pattern[i] == "^":
        i += 1
    if i < len(pattern) and pattern[i] == "]":
        i += 1
    while i < len(pattern) and pattern[i] != "]":
        i += 2 if pattern[i] == "\\" else 1
    return i + 1


def _group_end(pattern: str, start: int) -> int:
    depth, i = 0, start
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 2
            continue
        if char == "[":
            i = _class_end(pattern, i)
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise ValueError(f"unbalanced group in {pattern!r}")


_NON_ASCII = re.compile(r"[^\x00-\x7f]")


@lru_cache(maxsize=4096)
def _ascii_stand_in(char: str) -> str:
    """An ASCII character of the same class for Python's ``re`` (word, digit, space or other), so
    RE2, whose ``\\b`` and ``\\w`` know only ASCII, sees the same word boundaries."""
    if char.isspace():
        return " "
    if char.isdecimal():
        return "0"
    if char.isalnum():
        # Python's case-insensitive match folds a few letters to ASCII (the Kelvin sign, the long s)
        folded = char.lower() if char.lower().isascii() else char.upper().lower()
        return folded if len(folded) == 1 and folded.isascii() and folded.isalnum() else "x"
    return "~"


class Prefilter:
    """Which of many patterns can match a text, from one RE2 pass (a superset, never fewer)."""

    def __init__(self, patterns: Sequence[str | re.Pattern[str]]) -> None:
        options = re2.Options()
        options.max_mem = 256 << 20  # ample: a set that ran out of memory would answer "none"
        self._set = re2.Set.SearchSet(options)
        for pattern in patterns:
            if isinstance(pattern, re.Pattern):
                source = ("(?i)" if pattern.flags & re.IGNORECASE else "") + pattern.pattern
            else:
                source = pattern
            self._set.Add(without_lookarounds(source))
        self._set.Compile()

    def candidates(self, text: str) -> list[int]:
        if not text.isascii():
            text = _NON_ASCII.sub(lambda m: _ascii_stand_in(m.group()), text)
        found = self._set.Match(text)
        return sorted(found) if found else []
