"""4.1(a) offensive and 4.1(d) disrepute in the school's own posts: table-driven cases."""

# ruff: noqa: RUF001  -- mixed scripts are the point of the hostile-input case

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from detectors.base import SchoolContext
from detectors.offensive import OffensiveDetector
from monitor.domain import Clause, Finding, Item, ItemKind, ScanItem, Severity


@pytest.fixture(scope="module")
def detector() -> OffensiveDetector:
    return OffensiveDetector()


def scan(detector: OffensiveDetector, text: str, school: bool = True, kind: ItemKind = ItemKind.POST) -> list[Finding]:
    item = Item(
        "x",
        "x:brookfield",
        "1",
        kind,
        text,
        "brookfieldprimary",
        datetime(2026, 11, 25, tzinfo=UTC),
        author_is_school=school,
    )
    return list(detector.detect(ScanItem(item), SchoolContext(school_name="Brookfield Primary")))


CASES = [
    # text, expected category, clause
    ("Wine o'clock for the staff after a long week! Bring on the prosecco", "disrepute.alcohol", Clause.DISREPUTE),
    ("Staff went on a bender to celebrate Ofsted!", "disrepute.alcohol", Clause.DISREPUTE),
    (
        "Fancy a flutter? Our tip for the Grand National with Bet365 is Lucky Star",
        "disrepute.gambling",
        Clause.DISREPUTE,
    ),
    ("Remember to vote Labour on Thursday!", "disrepute.political", Clause.DISREPUTE),
    ("Some parents still can't read a newsletter lol", "disrepute.mocking", Clause.DISREPUTE),
    ("Worst class ever, Year 5 were a nightmare today", "disrepute.mocking", Clause.DISREPUTE),
    ("Mr Jones from the council is a known thief", "offensive.defamatory", Clause.OFFENSIVE),
    ("What a shit day, the fucking boiler broke again", "offensive.profanity", Clause.OFFENSIVE),
    ("The inspector was a total twat", "offensive.insult", Clause.OFFENSIVE),
    ("No gypos at our summer fair please", "offensive.discriminatory", Clause.OFFENSIVE),
]


@pytest.mark.parametrize(("text", "category", "clause"), CASES)
def test_problem_posts_are_found_at_digest_severity(
    detector: OffensiveDetector, text: str, category: str, clause: Clause
) -> None:
    findings = scan(detector, text)
    match = [f for f in findings if f.category == category]
    assert match, (text, [f.category for f in findings])
    assert match[0].clause is clause
    assert match[0].severity in (Severity.LOW, Severity.MEDIUM)  # a digest item, never a 3 a.m. email
    assert match[0].evidence.explanation
    spans = match[0].evidence.spans
    assert spans and all(0 <= s.start < s.end <= len(text) for s in spans)


CLEAN = [
    "Our library is open on Thursdays",
    "Well done to Year 4 for sports day",
    "Thank you to all the parents who came to the harvest festival",
    "School council elections: vote for your class representative this week",
    "Raffle tickets for the Christmas fair are on sale at the office",
    "Please contact the school office if you have concerns.",
    "Year 6 beat St Anne's 3-0 in the football final!",
    "Reminder: flu vaccinations for Reception to Year 6 on Tuesday",
    # British school life that a word list could mistake for drink, swearing or sex
    "Spotted dick and custard on today's menu!",
    "Year 2 spotted great tits and blue tits on the bird feeder",
    "Wine gums and ginger beer at the tuck shop",
    "Fruit cocktail and ice cream for pudding",
    "Gin Lane and Beer Street: Year 9's Hogarth art project",
    "Year 6 absolutely killed it at the swimming gala",
    "Congratulations to Ava Hughes, who graduated summa cum laude",
    "Relationships and sex education evening for parents on Tuesday",
]


@pytest.mark.parametrize("text", CLEAN)
def test_ordinary_school_posts_are_left_alone(detector: OffensiveDetector, text: str) -> None:
    assert scan(detector, text) == []


def test_comments_by_the_public_are_for_the_abuse_detector(detector: OffensiveDetector) -> None:
    assert scan(detector, "What a shit day", school=False, kind=ItemKind.COMMENT) == []


def test_evasion_is_seen_through_in_the_schools_post(detector: OffensiveDetector) -> None:
    text = "This is s h i t, the boiler broke again"
    findings = scan(detector, text)
    assert any(f.category == "offensive.profanity" for f in findings)
    assert any("s h i t" in text[s.start : s.end] for f in findings for s in f.evidence.spans)


@pytest.mark.parametrize(
    "text", ["vote labour " * 900_000, "\x00\x01\x02\ufffe" * 200_000, "Ꭰ𝔄🙂لا 中文 " * 50_000, ""]
)
def test_hostile_input_comes_back_in_bounded_time(detector: OffensiveDetector, text: str) -> None:
    start = time.perf_counter()
    findings = scan(detector, text)
    assert time.perf_counter() - start < 20
    assert all(0 <= s.start <= s.end <= len(text) for f in findings for s in f.evidence.spans)
