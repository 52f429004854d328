"""Clause 4.1(c): personal data, table-driven — positives, negatives, evasions, own contacts, hostile input."""

# ruff: noqa: RUF001  -- full-width and look-alike characters are the point of these cases
from __future__ import annotations

import json
import os
import random
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest

from detectors.base import OwnContacts, RosterIndex, SchoolContext
from detectors.normalise import MAX_SCAN_CHARS, TextTooLong
from detectors.personal_data import PersonalDataDetector
from detectors.personal_data_checks import card_ok, iban_ok, luhn_ok, nhs_ok, nino_ok, upn_ok
from detectors.roster import read_roster_csv
from monitor.domain import Clause, Finding, Item, ItemKind, ScanItem, Severity

FIXTURES = Path(__file__).parent / "fixtures" / "text_pii"
KEY = b"test-roster-key-0123456789abcdef"
OWN = OwnContacts(
    phones=("+441514960000",),
    emails=("office@stmarys.example.sch.uk",),
    domains=("stmarys.example.sch.uk",),
    postcodes=("L1 8JQ",),
    address_lines=("1 School Lane, Liverpool",),
)
CONTEXT = SchoolContext(school_name="St Mary's", own_contacts=OWN)
DETECTOR = PersonalDataDetector()


def scan(text: str, kind: ItemKind = ItemKind.POST, context: SchoolContext = CONTEXT) -> list[Finding]:
    item = Item("draft", "check:local", "1", kind, text, "someone", datetime(2026, 1, 1, tzinfo=UTC))
    return DETECTOR.detect(ScanItem(item), context)


def found(text: str, **kwargs: object) -> list[tuple[str, str]]:
    """(category, quoted original text) for each finding."""
    findings = scan(text, **kwargs)  # type: ignore[arg-type]
    return [(f.category, text[f.evidence.spans[0].start : f.evidence.spans[0].end]) for f in findings]


POSITIVES = [
    # phones: every UK format, drama numbers, international, and numbers with a label
    ("Please call Sam's mum on 07700 900123", "personal_data.phone", "07700 900123"),
    ("ring 07700900124 tonight", "personal_data.phone", "07700900124"),
    ("text +44 7700 900125", "personal_data.phone", "+44 7700 900125"),
    ("or 0044 7700 900126", "personal_data.phone", "0044 7700 900126"),
    ("landline (0113) 496 0123", "personal_data.phone", "(0113) 496 0123"),
    ("home 020 7946 0123", "personal_data.phone", "020 7946 0123"),
    ("Tel: 01632 960 123", "personal_data.phone", "01632 960 123"),
    ("US cousin: (415) 555-0132", "personal_data.phone", "(415) 555-0132"),
    ("Phone:\n780 6326", "personal_data.phone", "780 6326"),
    ("mobile 07700-900-127 ext 12", "personal_data.phone", "07700-900-127 ext 12"),
    # email
    ("write to jo.bloggs+pta@example.org.", "personal_data.email", "jo.bloggs+pta@example.org"),
    ("user@xn--80ak6aa92e.com", "personal_data.email", "user@xn--80ak6aa92e.com"),
    # addresses
    (
        "She lives at 14 Acacia Avenue, Liverpool L17 8XY",
        "personal_data.address",
        "14 Acacia Avenue, Liverpool L17 8XY",
    ),
    ("Party at 3 Orchard Close on Saturday", "personal_data.address", "3 Orchard Close"),
    ("The restaurant is at 2450 Crown St", "personal_data.address", "2450 Crown St"),
    ("Send it to Passauer Strasse 33, Berlin", "personal_data.address", "Passauer Strasse 33, Berlin"),
    ("Edeby 55\n Apt. 297\n TYSTBERGA", "personal_data.address", "Edeby 55\n Apt. 297\n TYSTBERGA"),
    # dates of birth
    ("Her birthday is 12/03/2015", "personal_data.date_of_birth", "12/03/2015"),
    ("DOB: 5 May 2016", "personal_data.date_of_birth", "5 May 2016"),
    ("Ava was born on March 3rd, 2017", "personal_data.date_of_birth", "March 3rd, 2017"),
    # identifiers
    ("NHS no 943 476 5919", "personal_data.nhs_number", "943 476 5919"),
    ("401-023-2137", "personal_data.nhs_number", "401-023-2137"),
    ("my NI is AB 12 34 56 C", "personal_data.ni_number", "AB 12 34 56 C"),
    ("ni: ab123456c", "personal_data.ni_number", "ab123456c"),
    ("UPN Y801200113001", "personal_data.upn", "Y801200113001"),
    # bank
    ("sort code 20-32-06 account 12345678", "personal_data.bank", "20-32-06 account 12345678"),
    ("card 4012 8888 8888 1881", "personal_data.bank", "4012 8888 8888 1881"),
    ("amex 3714 496353 98431", "personal_data.bank", "3714 496353 98431"),
    ("IBAN GB82 WEST 1234 5698 7654 32 please", "personal_data.bank", "GB82 WEST 1234 5698 7654 32"),
    (
        "Dash as iban separator: AL47-2121-1009-0000-0002-3569-8741",
        "personal_data.bank",
        "AL47-2121-1009-0000-0002-3569-8741",
    ),
]


@pytest.mark.parametrize(("text", "category", "quoted"), POSITIVES)
def test_positives(text: str, category: str, quoted: str) -> None:
    assert (category, quoted) in found(text)


NEGATIVES = [
    "Happy half term, everyone!",
    "We raised £1,234.56 at the fair in 2024-2025. Thanks to all 350 families!",
    "Sports day is on 12/06/2025 at 1.30pm.",  # a date, but nobody's birthday
    "Top 10 tips for 2 weeks of revision",
    "Server 192.168.1.1 is down",
    "AL47 2121 1009 0000 0002 3569 8740",  # IBAN with a bad check
    "LV80 bANK 0000 4351 9500 1",  # IBAN with a lower-case letter
    "1748503543012",  # Luhn-valid but no card scheme starts with 1
    "my credit card number is 36168002586008",  # Luhn-invalid
    "AA 12 34 56 H",  # NINO suffix must be A-D
    "BG123612A",  # BG is never allocated
    "His social security number is 846-15-5715",
    "My driver's license number is 6940579",
    "When: 2015-12-22 04:34:22",
    "We scored 20 out of 25 in Year 6",
    "2 Port guys do it",
    "M1 1CA",  # a postcode alone is not an address
    "Please call the office",
]


@pytest.mark.parametrize("text", NEGATIVES)
def test_negatives(text: str) -> None:
    assert found(text) == []


EVASIONS = [
    ("call ０７７００ ９００１２８", "personal_data.phone", "０７７００ ９００１２８"),
    ("call 07700\u200b900129", "personal_data.phone", "07700\u200b900129"),
    ("mail jane\u200b.doe@example.com", "personal_data.email", "jane\u200b.doe@example.com"),
    ("card 4012\u00a08888\u00a08888\u00a01881", "personal_data.bank", "4012\u00a08888\u00a08888\u00a01881"),
]


@pytest.mark.parametrize(("text", "category", "quoted"), EVASIONS)
def test_evasions_are_caught_and_quoted_as_written(text: str, category: str, quoted: str) -> None:
    assert (category, quoted) in found(text)


@pytest.mark.parametrize(
    "text",
    [
        "Call the office on 0151 496 0000",
        "Call the office on +44 151 496 0000",
        "Call the office on 0151-496-0000",
        "Email office@stmarys.example.sch.uk or head@stmarys.example.sch.uk",
        "Visit us at 1 School Lane, Liverpool L1 8JQ",
        "Our address: 1 School Lane, Liverpool",
    ],
)
def test_the_schools_own_contact_details_are_never_flagged(text: str) -> None:
    assert found(text) == []


def test_own_details_do_not_hide_someone_elses_in_the_same_post() -> None:
    text = "Call the office on 0151 496 0000, not Mrs Smith on 07700 900130"
    assert found(text) == [("personal_data.phone", "07700 900130")]


def test_severity_depends_on_who_published_it() -> None:
    post = scan("Ring 07700 900123", ItemKind.POST)
    comment = scan("Ring 07700 900123", ItemKind.COMMENT)
    assert [f.severity for f in post] == [Severity.HIGH]
    assert [f.severity for f in comment] == [Severity.MEDIUM]
    finding = post[0]
    assert finding.clause is Clause.PERSONAL_DATA
    assert finding.detector_ref == "personal_data@" + DETECTOR.version
    assert "school's own post" in finding.evidence.explanation
    assert 0 < finding.confidence <= 1


@pytest.mark.parametrize(
    "text",
    [
        "Worried about a child? Call Childline on 0800 1111",
        "NSPCC helpline: 0808 800 5000",
        "Report a pothole to the council on 0300 123 4567",
        "Freephone +44 800 123 4567",
    ],
)
def test_organisation_numbers_are_mentioned_but_not_raised(text: str) -> None:
    # a safeguarding post lists helplines on purpose: the digest mentions them, no email is sent
    findings = scan(text)
    assert [f.category for f in findings] == ["personal_data.phone"]
    assert findings[0].severity is Severity.LOW and "organisation" in findings[0].evidence.explanation


def test_shared_mailboxes_are_mentioned_but_not_raised() -> None:
    findings = scan("Concerns? Email safeguarding@brookfield-council.example or info@charity.example")
    assert [f.severity for f in findings] == [Severity.LOW, Severity.LOW]
    assert scan("Email jo.bloggs@mail.example about the coat")[0].severity is Severity.HIGH


def test_personal_numbers_stay_high_beside_a_helpline() -> None:
    findings = scan("Call Childline on 0800 1111, or Ava's mum on 07700 900123 about the coat")
    assert sorted(f.severity.value for f in findings) == ["high", "low"]


def _roster(tmp_path: Path) -> SchoolContext:
    csv = tmp_path / "pupils.csv"
    csv.write_text("UPN,Forename,Surname,Preferred Name,Year,Photo Consent\nT0001,Ava,Thornbury,,Year 4,N\n")
    forms: dict[str, list] = defaultdict(list)  # type: ignore[type-arg]
    for record in read_roster_csv(csv, "pupils", KEY):
        forms[record.form_key].append(record.person)
    pupils = RosterIndex(key=KEY, forms={k: tuple(v) for k, v in forms.items()})
    return SchoolContext(pupils=pupils, own_contacts=OWN)


def test_special_category_about_a_named_pupil_is_critical(tmp_path: Path) -> None:
    context = _roster(tmp_path)
    text = "Ava Thornbury has been diagnosed with epilepsy, please be aware"
    findings = [f for f in scan(text, context=context) if f.category == "personal_data.special_category"]
    assert [f.severity for f in findings] == [Severity.CRITICAL]
    span = findings[0].evidence.spans[0]
    assert "Ava Thornbury" in text[span.start : span.end] and "diagnosed" in text[span.start : span.end]


def test_special_category_needs_a_name_nearby(tmp_path: Path) -> None:
    context = _roster(tmp_path)
    assert scan("Our SEN team runs a coffee morning for parents on Friday", context=context) == []
    far = "Ava Thornbury won the art prize." + " Lovely work." * 20 + " Asthma awareness week starts Monday."
    assert [f for f in scan(far, context=context) if f.category.endswith("special_category")] == []


def test_fixture_posts(tmp_path: Path) -> None:
    for line in (FIXTURES / "posts.jsonl").read_text(encoding="utf-8").splitlines():
        case = json.loads(line)
        kind = ItemKind(case["kind"])
        findings = scan(case["text"], kind)
        got = [
            (f.category, case["text"][f.evidence.spans[0].start : f.evidence.spans[0].end], str(f.severity))
            for f in findings
        ]
        expected = [(e["category"], e["span"], e["severity"]) for e in case["expect"]]
        assert got == expected, case["text"]


CHECKS = [
    (luhn_ok, "4012888888881881", True),
    (luhn_ok, "4012888888881882", False),
    (card_ok, "371449635398431", True),
    (card_ok, "1748503543012", False),
    (iban_ok, "GB82WEST12345698765432", True),
    (iban_ok, "GB82WEST12345698765433", False),
    (iban_ok, "GB82WEST1234569876543", False),  # wrong length for GB
    (nhs_ok, "9434765919", True),
    (nhs_ok, "9434765918", False),
    (nhs_ok, "0000000000", False),
    (nino_ok, "AB123456C", True),
    (nino_ok, "QQ123456C", False),  # Q is never a first letter
    (nino_ok, "AB123456E", False),
    (upn_ok, "Y801200113001", True),
    (upn_ok, "A801200113001", False),
    (upn_ok, "I801200113001", False),  # I, O and S are never check letters
]


@pytest.mark.parametrize(("check", "value", "expected"), CHECKS)
def test_check_digit_rules(check: object, value: str, expected: bool) -> None:
    assert check(value) is expected  # type: ignore[operator]


def test_hostile_input_gets_an_answer_or_a_clear_error() -> None:
    rng = random.Random(11)
    garbage = os.urandom(MAX_SCAN_CHARS).decode("latin-1")
    digits = "".join(rng.choice("0123456789 -.()+") for _ in range(MAX_SCAN_CHARS))
    mixed = "".join(rng.choice("a\u0430\u03bf 1\u0663\uff48\u200b\u0301\u4e2d.@") for _ in range(MAX_SCAN_CHARS))
    for text in (garbage, digits, mixed):
        for finding in scan(text):
            span = finding.evidence.spans[0]
            assert 0 <= span.start < span.end <= len(text)
    with pytest.raises(TextTooLong):
        scan("07700 900123 " * 800_000)  # 10 MB: longer than any post, refused with a clear message


PATHOLOGICAL = [
    "1" * 90_000,
    "a@" * 45_000,
    "a@a." * 22_000,
    "+1 " * 30_000,
    "12 Ab " * 15_000,
    "(1" * 45_000,
    "x\u0301" * 45_000,
]


@pytest.mark.parametrize("text", PATHOLOGICAL, ids=lambda t: repr(t[:6]))
def test_patterns_that_make_naive_regexes_quadratic_still_get_an_answer(text: str) -> None:
    for finding in scan(text):
        span = finding.evidence.spans[0]
        assert 0 <= span.start < span.end <= len(text)
