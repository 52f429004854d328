"""Clause 4.1(e): posts that invite the public to send personal details through social media."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from detectors.base import SchoolContext
from detectors.normalise import MAX_SCAN_CHARS, TextTooLong
from detectors.registry import build_detectors
from detectors.solicitation import SolicitationDetector
from monitor.domain import Clause, Finding, Item, ItemKind, ScanItem, Severity

DETECTOR = SolicitationDetector()


def scan(text: str, kind: ItemKind = ItemKind.POST, author_is_school: bool = False) -> list[Finding]:
    item = Item(
        "x", "x:school", "1", kind, text, "school", datetime(2026, 1, 1, tzinfo=UTC), author_is_school=author_is_school
    )
    return DETECTOR.detect(ScanItem(item), SchoolContext())


POSITIVES = [
    (
        "Comment below with your phone number and we will call you back",
        "Comment below with your phone number",
        Severity.MEDIUM,
    ),
    (
        "DM us your child's name and address and we'll post the prize!",
        "DM us your child's name and address",
        Severity.HIGH,
    ),
    ("Comment your phone number to enter the raffle", "Comment your phone number", Severity.MEDIUM),
    ("Send us your date of birth to join the alumni list", "Send us your date of birth", Severity.MEDIUM),
    ("Reply with your child's full name and class", "Reply with your child's full name and class", Severity.HIGH),
    ("Inbox us your mobile number", "Inbox us your mobile number", Severity.MEDIUM),
    ("Tell us your postcode in the comments", "Tell us your postcode", Severity.MEDIUM),
    ("Message us your email address for the newsletter", "Message us your email address", Severity.MEDIUM),
    ("PM me your kids' names and ages", "PM me your kids' names and ages", Severity.HIGH),
    # evasions: full-width letters and look-alike Cyrillic
    ("\uff24\uff2d us your home address", "\uff24\uff2d us your home address", Severity.MEDIUM),
    ("D\u041c us your phone number", "D\u041c us your phone number", Severity.MEDIUM),
]


@pytest.mark.parametrize(("text", "quoted", "severity"), POSITIVES)
def test_invitations_to_send_personal_details(text: str, quoted: str, severity: Severity) -> None:
    findings = scan(text)
    assert len(findings) == 1
    finding = findings[0]
    span = finding.evidence.spans[0]
    assert text[span.start : span.end] == quoted
    assert finding.severity is severity
    assert finding.clause is Clause.SOLICITATION
    assert finding.category == "solicitation.personal_details"
    assert "school office" in finding.evidence.explanation


NEGATIVES = [
    "Please call the office on 0151 496 0000 with your child's name",
    "Message us for more details",
    "Please do not post your child's name or address in the comments",
    "Never share your address online",
    "Send your child's name to the office by Friday",
    "Email office@school.example.org with your details",
    "Comment your favourite book below!",
    "Share your photos from sports day!",
    "Fill in the booking form on our website with your contact details",
    "Tag a friend who loves reading",
    "Happy half term, everyone!",
]


@pytest.mark.parametrize("text", NEGATIVES)
def test_ordinary_posts_and_official_channels_are_not_flagged(text: str) -> None:
    assert scan(text) == []


def test_only_the_schools_own_words_count() -> None:
    text = "DM us your child's name and address"
    assert scan(text, ItemKind.COMMENT) == []
    assert len(scan(text, ItemKind.REPLY, author_is_school=True)) == 1


def test_one_finding_per_inviting_sentence() -> None:
    text = "Win a prize! Comment your phone number below. Also DM us your child's name."
    assert [f.severity for f in scan(text)] == [Severity.MEDIUM, Severity.HIGH]


def test_hostile_input_gets_an_answer_or_a_clear_error() -> None:
    long_line = "dm us your " * (MAX_SCAN_CHARS // 11)
    assert isinstance(scan(long_line), list)
    assert scan("\x00\ufffd" * (MAX_SCAN_CHARS // 2)) == []
    with pytest.raises(TextTooLong):
        scan("x" * 10_000_000)


def test_registered_as_a_built_in_detector() -> None:
    names = {type(d).__name__ for d in build_detectors(["solicitation"])}
    assert names == {"SolicitationDetector"}
