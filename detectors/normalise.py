"""Text normalisation against evasion, with spans that still point into the original text.

Every text detector runs on :func:`normalise` output. ``Normalised.text`` keeps case and accents
(names and identifiers are matched there); ``Normalised.folded`` is the same length, lowercased,
with homoglyphs, accents and leetspeak mapped to plain ASCII letters (word lexicons match there).
``Normalised.to_original(start, end)`` turns a span in either string back into a span of the
original text, so evidence always quotes what the author actually wrote.

Every step is one regular-expression pass without nested quantifiers (linear time) or a
``str.translate``; only characters that actually change are handled in Python.
"""

# ruff: noqa: RUF001  -- the homoglyph table is deliberately made of look-alike letters
from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

# Cyrillic and Greek letters that look like Latin ones (lowercase; text is lowered first).
HOMOGLYPHS: dict[str, str] = {
    "а": "a", "в": "b", "с": "c", "ԁ": "d", "е": "e", "ё": "e", "һ": "h", "н": "h",
    "і": "i", "ї": "i", "ј": "j", "к": "k", "ӏ": "l", "м": "m", "о": "o", "р": "p",
    "ԛ": "q", "г": "r", "ѕ": "s", "т": "t", "у": "y", "х": "x", "ԝ": "w", "ь": "b",
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o",
    "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w", "ς": "c", "μ": "u", "γ": "y",
}  # fmt: skip

# Leetspeak: digits become letters when they touch a letter ("h3ll0"), symbols when a letter
# follows ("$hit", "sh!t", "@ss") so that sentence punctuation ("idiot!") is left alone.
LEET_DIGITS: dict[str, str] = {
    "0": "o", "1": "i", "2": "z", "3": "e", "4": "a", "5": "s", "6": "g", "7": "t", "8": "b", "9": "g",
}  # fmt: skip
LEET_SYMBOLS: dict[str, str] = {"@": "a", "$": "s", "!": "i", "|": "i", "+": "t", "€": "e", "£": "l"}

_KEEP_CONTROLS = frozenset("\t\n\r")
# Characters that may need work in step 1: anything outside printable ASCII.
_SPECIAL = re.compile(r"[^\t\n\r\x20-\x7e]")
# "i d i o t", "i.d.i.o.t", "i-d-i-o-t": three or more single letters, one separator repeated.
_SPACED = re.compile(r"(?<![^\W_])[^\W\d_]([ .\-_*])(?:[^\W\d_]\1)+[^\W\d_](?![^\W_])")
# A letter repeated three or more times ("idiooooot"); doubled letters in real words are kept.
_REPEAT = re.compile(r"([^\W\d_])\1{2,}", re.IGNORECASE)
# Possessive runs that start only at a run's first character keep these linear on "1111…".
_LEET_DIGITS_RE = re.compile(r"(?<=[a-z])[0-9]++|(?<![0-9])[0-9]++(?=[a-z])")
_LEET_SYMBOLS_RE = re.compile(r"(?<![@$!|+€£])[@$!|+€£]++(?=[0-9@$!|+€£]{0,3}[a-z])")
_LEET_TABLE = str.maketrans({**LEET_DIGITS, **LEET_SYMBOLS})


# The longest post any platform accepts is about 63,000 characters (Facebook); text detectors
# refuse more with a clear error rather than spend minutes on a hostile input.
MAX_SCAN_CHARS = 100_000


class TextTooLong(ValueError):
    """The text is longer than any real post: it is reported, not scanned."""


def check_length(text: str) -> None:
    """Raise :class:`TextTooLong` for text longer than :data:`MAX_SCAN_CHARS`."""
    if len(text) > MAX_SCAN_CHARS:
        raise TextTooLong(
            f"the text is {len(text):,} characters long, more than any real post ({MAX_SCAN_CHARS:,}); "
            "it was not scanned: check where it came from"
        )


@dataclass(frozen=True)
class _StageMap:
    """Edits one stage made: output ``[out_start, out_end)`` replaced source ``[src_start, src_end)``.

    Positions between edits keep a constant offset, so the map is a few sorted lists, not one
    integer per character (10 MB of plain ASCII needs no entries at all).
    """

    out_start: tuple[int, ...]
    out_end: tuple[int, ...]
    src_start: tuple[int, ...]
    src_end: tuple[int, ...]

    def start(self, pos: int) -> int:
        i = bisect_right(self.out_start, pos) - 1
        if i < 0:
            return pos
        if pos < self.out_end[i]:
            return self.src_start[i]
        return pos - self.out_end[i] + self.src_end[i]

    def end(self, pos: int) -> int:
        # characters deleted right at the end (a trailing combining mark) belong to the span;
        # a replaced character that starts there does not
        i = bisect_right(self.out_start, pos) - 1
        while i >= 0 and self.out_start[i] == pos and self.out_end[i] > pos:
            i -= 1
        if i < 0:
            return pos
        if pos <= self.out_end[i]:
            return self.src_end[i]
        return pos - self.out_end[i] + self.src_end[i]


@dataclass(frozen=True)
class Normalised:
    """Normalised text, its lowercase folded twin (same length) and the way back to the original."""

    original: str
    text: str
    folded: str
    _stages: tuple[_StageMap, ...] = ()

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a span of ``text`` (or ``folded``) to the matching span of ``original``."""
        start = max(0, min(start, len(self.text)))
        end = max(start, min(end, len(self.text)))
        if start == end:
            for stage in reversed(self._stages):
                start = stage.start(start)
            return start, start
        for stage in reversed(self._stages):
            start, end = stage.start(start), stage.end(end)
        return start, end


def normalise(text: str) -> Normalised:
    """Normalise ``text`` against evasion (NFKC, invisible characters, spacing, elongation, leet)."""
    if not isinstance(text, str):
        raise TypeError(f"normalise() needs a str, not {type(text).__name__}")
    return _normalise(text)


# Several detectors normalise the same item text in a row: do the work once.
@lru_cache(maxsize=4)
def _normalise(text: str) -> Normalised:
    stages: list[_StageMap] = []
    current = text
    for step in (_unicode_step, _spaced_step, _repeat_step):
        current, stage = step(current)
        if stage is not None:
            stages.append(stage)
    return Normalised(text, current, fold(current), tuple(stages))


def fold(text: str) -> str:
    """Lowercase, map homoglyphs/accents/leetspeak to ASCII letters; keeps the length unchanged."""
    lowered = text.lower()
    if len(lowered) != len(text):  # e.g. "İ" lowers to two characters: go char by char
        lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    if not lowered.isascii():
        table = {ord(c): _fold_char(c) for c in set(lowered) if not c.isascii()}
        lowered = lowered.translate(table)
    lowered = _LEET_SYMBOLS_RE.sub(lambda m: m.group().translate(_LEET_TABLE), lowered)
    return _LEET_DIGITS_RE.sub(lambda m: m.group().translate(_LEET_TABLE), lowered)


@lru_cache(maxsize=4096)
def _fold_char(c: str) -> str:
    if c in HOMOGLYPHS:
        return HOMOGLYPHS[c]
    base = unicodedata.normalize("NFKD", c)[:1]
    if base.isascii() and base.isalpha():
        return base.lower()
    return c


@lru_cache(maxsize=8192)
def _unicode_replacement(c: str) -> str:
    """What one character becomes: NFKC, without invisible, bidi, control or combining marks."""
    if unicodedata.category(c) in ("Cc", "Cf", "Cs", "Mn", "Me") and c not in _KEEP_CONTROLS:
        return ""
    try:
        nfkc = unicodedata.normalize("NFKC", c)
    except ValueError:  # defensive: odd code points must not crash a scan
        return ""
    if nfkc == c:
        return c
    return "".join(x for x in nfkc if unicodedata.category(x) not in ("Cc", "Cf", "Cs", "Mn", "Me"))


def _apply(source: str, edits: list[tuple[int, int, str]]) -> tuple[str, _StageMap | None]:
    """Apply sorted, non-overlapping (src_start, src_end, replacement) edits and record the map."""
    if not edits:
        return source, None
    parts: list[str] = []
    out_start: list[int] = []
    out_end: list[int] = []
    src_start: list[int] = []
    src_end: list[int] = []
    last = 0
    out = 0
    for s, e, repl in edits:
        parts.append(source[last:s])
        out += s - last
        out_start.append(out)
        out += len(repl)
        out_end.append(out)
        src_start.append(s)
        src_end.append(e)
        parts.append(repl)
        last = e
    parts.append(source[last:])
    stage = _StageMap(tuple(out_start), tuple(out_end), tuple(src_start), tuple(src_end))
    return "".join(parts), stage


def _unicode_step(text: str) -> tuple[str, _StageMap | None]:
    if _SPECIAL.search(text) is None:
        return text, None
    changing = {c for c in set(text) if _SPECIAL.match(c) and _unicode_replacement(c) != c}
    if not changing:
        return text, None
    pattern = re.compile("[" + "".join(re.escape(c) for c in sorted(changing)) + "]")
    edits = [(m.start(), m.end(), _unicode_replacement(m.group())) for m in pattern.finditer(text)]
    return _apply(text, edits)


def _spaced_step(text: str) -> tuple[str, _StageMap | None]:
    edits: list[tuple[int, int, str]] = []
    for m in _SPACED.finditer(text):
        # delete each separator (every second character of the match)
        edits.extend((i, i + 1, "") for i in range(m.start() + 1, m.end(), 2))
    return _apply(text, edits)


def _repeat_step(text: str) -> tuple[str, _StageMap | None]:
    edits = [(m.start(), m.end(), m.group()[0]) for m in _REPEAT.finditer(text)]
    return _apply(text, edits)
