"""Attacks on a group for who they are, with no rude word: found, categorised, and ordinary
comments about the same groups left alone. Invented wording throughout."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from detectors.abuse import AbuseDetector
from detectors.base import SchoolContext
from detectors.identity_attack import find_group_attacks, negative_words
from detectors.normalise import normalise
from monitor.domain import Item, ItemKind, ScanItem, Severity


@pytest.fixture(scope="module")
def detector() -> AbuseDetector:
    return AbuseDetector()


def comment(text: str) -> ScanItem:
    item = Item("x", "x:brookfield", "1", ItemKind.COMMENT, text, "someone", datetime(2026, 11, 25, tzinfo=UTC))
    return ScanItem(item)


ATTACKS = [
    ("Muslims are a plague on this country", "hate"),
    ("those refugees are disgusting, deport the lot", "hate"),
    ("I hate gays", "hate"),
    ("immigrants are nothing but parasites", "hate"),
    ("women are pathetic at everything", "sexist"),
    ("killing migrants would solve it", "threat"),
    ("#SendThemBack", "hate"),
    ("muslims are retarded", "hate"),
    ("muslims are a p1ague", "hate"),  # "1" folds to "i": "piague" is tried as "plague"
    ("r e f u g e e s are animals", "hate"),
]


@pytest.mark.parametrize(("text", "category"), ATTACKS)
def test_group_attacks_are_found(text: str, category: str) -> None:
    attacks = find_group_attacks(normalise(text).folded)
    assert category in {a.category for a in attacks}


@pytest.mark.parametrize(("text", "category"), ATTACKS)
def test_the_abuse_detector_raises_them_under_appendix_1(detector: AbuseDetector, text: str, category: str) -> None:
    findings = detector.detect(comment(text), SchoolContext())
    assert f"abuse.{category}" in {f.category for f in findings}
    assert all(f.severity in (Severity.HIGH, Severity.CRITICAL) for f in findings if f.category == f"abuse.{category}")


ORDINARY = [
    "Eid Mubarak to all our Muslim families!",
    "The girls are brilliant at football this term",
    "Refugees were killed in the crossing; our thoughts are with their families",
    "Women are scared to walk home after dark, the council must act",
    "Refugee Week: our refugee families are welcome here",
    "Immigrants are not criminals, whatever the papers say",
    "Lovely assembly about Diwali and what Hindus celebrate",
    # how a group feels, and what is done to it, is not an attack on it
    "Muslims are horrified by the attack",
    "Women are furious about the decision",
    "Immigrants are exploited by employers",
    "Gay pupils are bullied more often",
    "Refugees are traumatised and need our help",
    "Girls are bullied online more than boys",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_comments_about_groups_are_left_alone(detector: AbuseDetector, text: str) -> None:
    assert find_group_attacks(normalise(text).folded) == []
    assert detector.detect(comment(text), SchoolContext()) == []


def test_the_negative_lexicon_comes_from_the_installed_package() -> None:
    words = negative_words()
    assert {"horrible", "disgusting", "plague"} <= words
    assert "killed" not in words and "scared" not in words  # what happens to a group is not abuse
