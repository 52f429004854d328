"""Normalisation against evasion: what the text becomes, and spans that still point at the original."""

# ruff: noqa: RUF001  -- full-width and look-alike characters are the point of these cases
from __future__ import annotations

import os
import random
import re

import pytest

from detectors.normalise import MAX_SCAN_CHARS, TextTooLong, check_length, fold, normalise

# (original, normalised text, folded twin)
CASES = [
    ("Hello world", "Hello world", "hello world"),
    ("You are an i d i o t", "You are an idiot", "you are an idiot"),
    ("i.d.i.o.t and i-d-i-o-t", "idiot and idiot", "idiot and idiot"),
    ("idiooooooot!!", "idiot!!", "idiot!!"),
    ("Anna and Ollie keep their doubles", "Anna and Ollie keep their doubles", "anna and ollie keep their doubles"),
    ("ｈｅｌｌｏ ＦＲＩＥＮＤ", "hello FRIEND", "hello friend"),
    ("z\u200bero\u200dwidth\ufeff", "zerowidth", "zerowidth"),
    ("bidi \u202eevil\u202c text", "bidi evil text", "bidi evil text"),
    ("Z\u0336a\u0336l\u0336g\u0336o", "Zalgo", "zalgo"),
    ("\u0456d\u0456\u043et", "\u0456d\u0456\u043et", "idiot"),  # Cyrillic look-alikes
    ("\u03b1\u03bd\u03bf", "\u03b1\u03bd\u03bf", "avo"),  # Greek look-alikes
    ("h3ll0 sh!t $hit @ss", "h3ll0 sh!t $hit @ss", "hello shit shit ass"),
    ("idiot! 07700 900123", "idiot! 07700 900123", "idiot! 07700 900123"),
    ("Zo\u00eb and Ren\u00e9e", "Zo\u00eb and Ren\u00e9e", "zoe and renee"),
    ("\ufb01ne \u2460", "fine 1", "fine 1"),
    ("nul\x00 and bell\x07", "nul and bell", "nul and bell"),
    ("", "", ""),
]


@pytest.mark.parametrize(("original", "text", "folded"), CASES)
def test_normalised_text_and_folded_twin(original: str, text: str, folded: str) -> None:
    norm = normalise(original)
    assert norm.original == original
    assert norm.text == text
    assert norm.folded == folded
    assert len(norm.folded) == len(norm.text)


@pytest.mark.parametrize(
    ("original", "word", "expected"),
    [
        ("You are an i d i o t, really", "idiot", "i d i o t"),
        ("so idiooooot", "idiot", "idiooooot"),
        ("ｈｅｌｌｏ there", "hello", "ｈｅｌｌｏ"),
        ("call z\u200bero now", "zero", "z\u200bero"),
        ("\u0456d\u0456\u043et!", "idiot", "\u0456d\u0456\u043et"),
        ("x \ufb01ne y", "fine", "\ufb01ne"),
        ("Ring 07700 900123 today", "07700 900123", "07700 900123"),
    ],
)
def test_spans_map_back_to_what_the_author_wrote(original: str, word: str, expected: str) -> None:
    norm = normalise(original)
    found = re.search(re.escape(word), norm.folded)
    assert found is not None
    start, end = norm.to_original(found.start(), found.end())
    assert original[start:end] == expected


def test_offset_map_is_monotonic_and_in_range_on_random_mixed_scripts() -> None:
    rng = random.Random(7)
    alphabet = "ab c1\u200b\u0301\u0430\u03bf\uff48\ufb01 .-" + "\U0001f600"
    for _ in range(200):
        original = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        norm = normalise(original)
        previous = (0, 0)
        for i in range(len(norm.text) + 1):
            start, end = norm.to_original(i, min(i + 1, len(norm.text)))
            assert 0 <= start <= end <= len(original)
            assert start >= previous[0]
            previous = (start, end)
        if norm.text:  # the whole text maps to everything but invisible characters at the very start
            start, end = norm.to_original(0, len(norm.text))
            assert end == len(original)
            assert normalise(original[:start]).text == ""


def test_out_of_range_spans_are_clamped() -> None:
    norm = normalise("abc")
    assert norm.to_original(-5, 99) == (0, 3)
    assert norm.to_original(2, 1) == (2, 2)


def test_fold_keeps_length() -> None:
    for text in ("\u0130stanbul", "STRASSE \u00df", "Ǆ", "h3ll0 w0rld"):
        assert len(fold(text)) == len(text)


def test_non_text_is_a_clear_type_error() -> None:
    with pytest.raises(TypeError, match="needs a str"):
        normalise(b"bytes")  # type: ignore[arg-type]


def test_ten_megabytes_of_hostile_text_finish_with_a_faithful_map() -> None:
    rng = random.Random(3)
    garbage = os.urandom(2_000_000).decode("utf-8", errors="surrogateescape")
    mixed = "".join(rng.choice("a\u0430 \u200b\u0301x y z 1 ") for _ in range(2_000_000))
    ascii_text = "Call 07700 900123, you i d i o t!!! " * 170_000
    for text in (garbage, mixed, ascii_text[:6_000_000]):
        norm = normalise(text)
        assert len(norm.folded) == len(norm.text) <= len(text) * 3
        start, end = norm.to_original(0, len(norm.text))
        assert 0 <= start <= end <= len(text)


def test_check_length_refuses_text_longer_than_any_post() -> None:
    check_length("x" * MAX_SCAN_CHARS)
    with pytest.raises(TextTooLong, match="not scanned"):
        check_length("x" * (MAX_SCAN_CHARS + 1))
