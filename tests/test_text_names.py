"""Rosters read from MIS exports (keyed hashes only) and pupil names found in text (4.1(f), text side)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest

from detectors.base import NameMatch, RosterIndex, RosterPerson, SchoolContext
from detectors.normalise import TextTooLong
from detectors.pupil_names import PupilNameDetector, find_person_names, first_name_lexicon
from detectors.roster import RosterRecord, name_key, read_roster_csv
from monitor.domain import Clause, Item, ItemKind, ScanItem, Severity

FIXTURES = Path(__file__).parent / "fixtures" / "text_pii"
DEMO = Path(__file__).parents[1] / "monitor" / "demo_data"
KEY = b"test-roster-key-0123456789abcdef"


def index(records: list[RosterRecord]) -> RosterIndex:
    forms: dict[str, list[RosterPerson]] = defaultdict(list)
    for record in records:
        forms[record.form_key].append(record.person)
    return RosterIndex(key=KEY, forms={k: tuple(v) for k, v in forms.items()})


@pytest.fixture(scope="module")
def school() -> SchoolContext:
    pupils = index(read_roster_csv(FIXTURES / "pupils_mis_export.csv", "pupils", KEY))
    staff = index(read_roster_csv(FIXTURES / "staff_mis_export.csv", "staff", KEY))
    return SchoolContext(school_name="Test Primary", pupils=pupils, staff=staff)


# --- reading rosters --------------------------------------------------------------------------


def test_demo_rosters_are_read_as_hashes_only() -> None:
    pupils = read_roster_csv(DEMO / "pupils.csv", "pupils", KEY)
    staff = read_roster_csv(DEMO / "staff.csv", "staff", KEY)
    assert len({r.person.ref for r in pupils}) == 4
    assert len({r.person.ref for r in staff}) == 3
    stored = " ".join(f"{r.form_key} {r.person}" for r in pupils + staff).lower()
    for plain in ("ava", "thornton", "oliver", "olly", "okafor", "hartley", "priya", "demo0001", "s001"):
        assert plain not in stored.replace("form_key", "")  # no plain name or MIS id anywhere
    ava = index(pupils).lookup("full", "ava thornton")
    assert len(ava) == 1 and ava[0].kind == "pupil" and ava[0].year_group == "Year 4" and ava[0].photo_consent is False
    assert index(pupils).lookup("preferred", "olly")[0].photo_consent is True
    assert index(staff).lookup("titled", "mr hartley")[0].kind == "staff"
    assert index(staff).lookup("preferred_full", "dan hartley")


def test_forms_and_refs_depend_on_the_key() -> None:
    a = read_roster_csv(DEMO / "pupils.csv", "pupils", KEY)
    b = read_roster_csv(DEMO / "pupils.csv", "pupils", b"another-key-another-key-another!")
    assert {r.form_key for r in a}.isdisjoint({r.form_key for r in b})
    assert {r.person.ref for r in a}.isdisjoint({r.person.ref for r in b})
    assert a == read_roster_csv(DEMO / "pupils.csv", "pupil", KEY)  # same key, same hashes


def test_flexible_mis_headers() -> None:
    roster = index(read_roster_csv(FIXTURES / "pupils_mis_export.csv", "pupils", KEY))
    zoe = roster.lookup("full", "zoe obriensmith")
    assert zoe and zoe[0].year_group == "4B" and zoe[0].photo_consent is True
    danny = roster.lookup("preferred_full", "danny fenwick")
    assert danny and danny[0].photo_consent is False
    assert len(roster.lookup("first", "oliver")) == 2
    assert roster.lookup("first", "oliver")[1].photo_consent is None  # blank consent is unknown
    single = index(read_roster_csv(FIXTURES / "pupils_single_name_column.csv", "pupils", KEY))
    assert single.lookup("full", "daniel fenwick") and single.lookup("full", "isla brightwater")
    staff = index(read_roster_csv(FIXTURES / "staff_mis_export.csv", "staff", KEY))
    assert staff.lookup("titled", "mrs shahid")[0].role == "Headteacher"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"UPN,Year,Photo Consent\nX1,Year 4,Y\n", "no name columns"),
        (b"", "empty"),
        (b"\x00\x01\x02\xff\xfe" * 100, "not a CSV"),
    ],
)
def test_bad_files_get_a_clear_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "roster.csv"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message):
        read_roster_csv(path, "pupils", KEY)


def test_fixture_without_names_and_wrong_kind_are_refused() -> None:
    with pytest.raises(ValueError, match="Forename"):
        read_roster_csv(FIXTURES / "pupils_no_names.csv", "pupils", KEY)
    with pytest.raises(ValueError, match="kind"):
        read_roster_csv(DEMO / "pupils.csv", "parents", KEY)


def test_windows_ansi_export_is_read(tmp_path: Path) -> None:
    path = tmp_path / "ansi.csv"
    path.write_bytes("Forename,Surname\nRen\u00e9e,Dubois\n".encode("cp1252"))
    assert index(read_roster_csv(path, "pupils", KEY)).lookup("full", "renee dubois")


@pytest.mark.parametrize(
    ("name", "key"),
    [("Ava Thornton", "ava thornton"), ("  ZOË  O'Brien-Smith ", "zoe obriensmith"), ("Ren\u00e9e", "renee"), ("", "")],
)
def test_name_key(name: str, key: str) -> None:
    assert name_key(name) == key


# --- finding names -------------------------------------------------------------------------------


def quoted(text: str, matches: list[NameMatch]) -> list[tuple[str, float]]:
    return [(text[m.start : m.end], m.confidence) for m in matches]


@pytest.mark.parametrize(
    ("text", "expected", "min_confidence"),
    [
        ("Well done Zoë O'Brien-Smith!", "Zoë O'Brien-Smith", 0.9),
        ("well done zoe obrien-smith", "zoe obrien-smith", 0.9),  # case and accents do not matter for full names
        ("Danny Fenwick scored twice", "Danny Fenwick", 0.9),  # preferred name + surname
        ("Year 3's Oliver won the spelling bee", "Oliver", 0.8),
        ("Olly in Year 3 read beautifully", "Olly", 0.8),  # nickname from the preferred-name column
        ("Zoë's painting from 4B", "Zoë", 0.8),  # possessive + class cue that agrees with the roster
        ("Z\u200bo\u00eb O'Brien-Smith", "Z\u200bo\u00eb O'Brien-Smith", 0.9),  # invisible character evasion
    ],
)
def test_roster_matches(school: SchoolContext, text: str, expected: str, min_confidence: float) -> None:
    matches = find_person_names(text, school)
    assert (expected, max(m.confidence for m in matches)) in quoted(text, matches)
    assert max(m.confidence for m in matches) >= min_confidence
    assert all(m.person is not None and m.person.kind == "pupil" for m in matches)


def test_first_name_alone_is_weak_and_year_must_agree(school: SchoolContext) -> None:
    [alone] = find_person_names("Thanks Oliver for helping", school)
    assert alone.confidence < 0.5 and alone.cue == "first name only"
    [wrong_year] = find_person_names("Year 6 and Danny went to the museum", school)
    assert 0.5 <= wrong_year.confidence < 0.8  # a cue, but the roster's Danny is in Year 3


def test_staff_are_never_reported_as_pupils(school: SchoolContext) -> None:
    # the pupil roster has a Daniel; Mr Daniel Hartwell is staff
    assert find_person_names("Thank you Daniel Hartwell for running the club", school) == []
    assert find_person_names("Mr Hartwell and Mrs Shahid led assembly", school) == []


def test_general_recogniser_without_a_roster() -> None:
    empty = SchoolContext()
    matches = find_person_names("Well done to James Smith in Year 2 and Mrs Jones", empty)
    assert quoted("Well done to James Smith in Year 2 and Mrs Jones", matches) == [("James Smith", 0.6)]
    assert all(m.person is None and m.confidence <= 0.6 for m in matches)
    assert find_person_names("Happy half term! See you on Monday.", empty) == []
    assert {"oliver", "ava", "mohammed", "isla"} <= first_name_lexicon()


@pytest.mark.parametrize(
    "text",
    [
        "Book week: we loved Charlotte's Web and Oliver Twist",
        "Year 2 learned about Florence Nightingale and Mary Seacole",
        "King Charles visited the town and St George's Day is coming",
        "Tickets for Bugsy Malone are on sale now",
    ],
)
def test_famous_names_and_titles_are_not_pupils(text: str) -> None:
    assert [m for m in find_person_names(text, SchoolContext()) if m.confidence >= 0.5] == []


def test_long_text_is_refused_with_a_clear_error(school: SchoolContext) -> None:
    with pytest.raises(TextTooLong):
        find_person_names("Ava " * 1_000_000, school)
    assert isinstance(find_person_names("\x00\ufffd\u0301" * 30_000, school), list)


# --- the detector --------------------------------------------------------------------------------


def detect(text: str, context: SchoolContext, kind: ItemKind = ItemKind.POST) -> list[tuple[str, Severity]]:
    item = Item("x", "x:school", "1", kind, text, "school", datetime(2026, 1, 1, tzinfo=UTC))
    findings = PupilNameDetector().detect(ScanItem(item), context)
    for f in findings:
        assert f.clause is Clause.CHILD_NAME_WITH_PICTURE and f.category == "pupil_name.text"
        assert f.severity in (Severity.LOW, Severity.MEDIUM)
        assert "Zo" not in f.evidence.explanation and "Fenwick" not in f.evidence.explanation
    return [(text[f.evidence.spans[0].start : f.evidence.spans[0].end], f.severity) for f in findings]


def test_detector_reports_pupils_named_in_school_posts(school: SchoolContext) -> None:
    assert detect("Congratulations Danny Fenwick!", school) == [("Danny Fenwick", Severity.MEDIUM)]
    assert detect("Thanks Oliver for helping", school) == []  # a bare first name is too weak alone
    assert detect("Congratulations Danny Fenwick!", school, ItemKind.COMMENT) == []  # not the school's words
    assert detect("Well done James Smith!", SchoolContext()) == [("James Smith", Severity.LOW)]
