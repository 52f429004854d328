"""Appendix 1 abuse detector: table-driven positives, negatives, evasions and hostile input.

Invented names only. The abusive wording below is deliberately offensive: a detector test has
to quote what it must catch.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from detectors.abuse import AbuseDetector
from detectors.base import RosterIndex, RosterPerson, SchoolContext
from detectors.roster import read_roster_csv
from monitor.domain import Clause, Finding, Item, ItemKind, ScanItem, Severity

FIXTURES = Path(__file__).parent / "fixtures" / "text_abuse"
DEMO = "Mr Hartley is a useless idiot and should be sacked. Everyone knows he can't teach."


@pytest.fixture(scope="module")
def detector() -> AbuseDetector:
    return AbuseDetector()


@pytest.fixture(scope="module")
def roster_context() -> SchoolContext:
    records = read_roster_csv(FIXTURES / "staff.csv", "staff", b"test-key")
    forms: dict[str, tuple[RosterPerson, ...]] = {}
    for record in records:
        forms[record.form_key] = (*forms.get(record.form_key, ()), record.person)
    return SchoolContext(school_name="Brookfield Primary", staff=RosterIndex(key=b"test-key", forms=forms))


def scan(
    detector: AbuseDetector,
    text: str,
    context: SchoolContext | None = None,
    kind: ItemKind = ItemKind.COMMENT,
    school: bool = False,
) -> list[Finding]:
    item = Item(
        "x", "x:brookfield", "1", kind, text, "someone", datetime(2026, 11, 25, tzinfo=UTC), author_is_school=school
    )
    return list(detector.detect(ScanItem(item), context or SchoolContext()))


def categories(findings: list[Finding]) -> set[str]:
    return {f.category for f in findings}


POSITIVES = [
    # text, expected category, minimum severity
    (DEMO, "abuse.insult", Severity.HIGH),
    ("Watch your back Mrs Smith, I know where you live.", "abuse.threat", Severity.CRITICAL),
    ("I'm going to kill that teacher", "abuse.threat", Severity.CRITICAL),
    ("Someone should stab the head", "abuse.threat", Severity.CRITICAL),
    # intimidation with no violent verb is still a threat (Appendix 1's police step)
    ("Mr Hartley, I'll find out where you live", "abuse.threat", Severity.CRITICAL),
    ("You'll get what's coming to you Mrs Smith", "abuse.threat", Severity.CRITICAL),
    ("I'm going to make your life hell Miss Jones", "abuse.threat", Severity.CRITICAL),
    ("Mr Patel deserves to be attacked", "abuse.threat", Severity.CRITICAL),
    ("Miss Jones is a slut", "abuse.sexist", Severity.CRITICAL),
    ("Mr Patel is a paki", "abuse.hate", Severity.CRITICAL),
    ("the headteacher is a retard", "abuse.hate", Severity.CRITICAL),
    ("I'd shag Miss Evans, she's fit", "abuse.sexual", Severity.CRITICAL),
    ("Miss Evans has nice tits", "abuse.sexual", Severity.CRITICAL),
    ("Mr Dick is a dick", "abuse.insult", Severity.HIGH),
    ("The school is run by a bunch of useless twats", "abuse.insult", Severity.HIGH),
    ("Your kid is a little shit and a dickhead", "abuse.insult", Severity.HIGH),
    ("you're a fucking idiot", "abuse.insult", Severity.HIGH),
    ("women belong in the kitchen not running schools", "abuse.sexist", Severity.HIGH),
    ("go back to your own country", "abuse.hate", Severity.HIGH),
    # the threats a British school hears, with no violent verb from the word lists
    ("Mrs Kay you're getting your head kicked in", "abuse.threat", Severity.CRITICAL),
    ("wait till I get my hands on you Mr Hartley", "abuse.threat", Severity.CRITICAL),
    ("I'm going to do you in", "abuse.threat", Severity.CRITICAL),
    ("you better watch out Mrs Kay", "abuse.threat", Severity.CRITICAL),
    ("someone needs to teach that teacher a lesson", "abuse.threat", Severity.CRITICAL),
    ("we know where your kids go to school", "abuse.threat", Severity.CRITICAL),
    ("I'll slash your tyres", "abuse.threat", Severity.CRITICAL),
    ("I'm gonna bring a knife tomorrow", "abuse.threat", Severity.HIGH),
    ("hope someone stabs you", "abuse.threat", Severity.CRITICAL),
    ("you'll get hurt if you keep this up Mr Hartley", "abuse.threat", Severity.CRITICAL),
    ("killing koreans is good", "abuse.threat", Severity.HIGH),
    ("you fag", "abuse.hate", Severity.HIGH),
    ("she's a cheap tart", "abuse.sexist", Severity.HIGH),
    ("nice tits miss", "abuse.sexual", Severity.HIGH),
]


@pytest.mark.parametrize(("text", "category", "severity"), POSITIVES)
def test_abusive_comments_are_found_with_their_category_and_severity(
    detector: AbuseDetector, text: str, category: str, severity: Severity
) -> None:
    findings = scan(detector, text)
    match = [f for f in findings if f.category == category]
    assert match, (text, categories(findings))
    assert all(f.clause is Clause.STAFF_ABUSE for f in findings)
    assert match[0].severity.at_least(severity)
    assert 0 < match[0].confidence <= 1
    spans = match[0].evidence.spans
    assert spans and all(0 <= s.start < s.end <= len(text) for s in spans)


def test_critical_findings_say_the_police_step_applies(detector: AbuseDetector) -> None:
    finding = scan(detector, "Watch your back Mrs Smith, I know where you live.")[0]
    assert finding.severity is Severity.CRITICAL
    assert "police" in finding.evidence.explanation and "Appendix 1" in finding.evidence.explanation
    insult = scan(detector, DEMO)[0]
    assert "police" not in insult.evidence.explanation


def test_demo_comment_points_at_the_words_and_the_member_of_staff(
    detector: AbuseDetector, roster_context: SchoolContext
) -> None:
    for context in (SchoolContext(), roster_context):
        findings = scan(detector, DEMO, context)
        assert [f.category for f in findings] == ["abuse.insult"]
        assert findings[0].severity is Severity.HIGH
        quoted = {DEMO[s.start : s.end] for s in findings[0].evidence.spans}
        assert "Mr Hartley" in quoted and "idiot" in quoted
        assert "member of staff" in findings[0].evidence.explanation
        assert "Hartley" not in findings[0].evidence.explanation  # names stay in the text, not the alert line


def test_roster_names_staff_without_a_title(detector: AbuseDetector, roster_context: SchoolContext) -> None:
    text = "Daniel Hartley should die"
    with_roster = scan(detector, text, roster_context)
    assert any(f.category == "abuse.threat" and f.severity is Severity.CRITICAL for f in with_roster)
    quoted = {text[s.start : s.end] for f in with_roster for s in f.evidence.spans}
    assert "Daniel Hartley" in quoted


def test_school_name_from_context_is_a_target(detector: AbuseDetector, roster_context: SchoolContext) -> None:
    findings = scan(detector, "Brookfield Primary is full of fucking idiots", roster_context)
    assert findings and findings[0].severity is Severity.HIGH
    assert "the school" in findings[0].evidence.explanation


NEGATIVES = [
    "Fantastic effort from everyone, well done!",
    "Please contact the school office if you have concerns.",
    "Thank you Mr Hartley for a brilliant trip, my son loved it",
    "Great match, we will beat them next time!",
    "Loved the panto, Dick Whittington was hilarious",
    "I'll shoot you a message about the cake sale",
    "The heat is killing me at sports day haha",
    "Can the school please hang the coats up in the hall?",
    "Is there a parents evening for Year 6 this term?",
    "Our library is open on Thursdays",
    "You could see it with the naked eye from the playground",
    "You'd better watch out for the roadworks on Mill Lane tomorrow",
    "We will end the term with a carol service",
    "The team deserved the win after all that training",
    "See you after school at football club!",
    "I'll be waiting for you at pick-up with the forms",
    "That show will knock you out, what a performance",
    "You better watch out, you better not cry, Santa Claus is coming to town!",
    "You'll be sorry you missed the bake sale",
    "Miss Patel taught them a lesson on fractions",
    "We'll wait for you at the gates after school",
    "Honestly the car park is a nightmare, someone will get hurt",
    "A child will be killed on that crossing one day unless the council acts",
    # British English the US-trained signals read as slurs
    "Dad's nipping out for a fag, back in five",
    "Staff went on a bender after the Christmas concert",
    "Jam tarts and scones at the bake sale",
    "The chinks in their armour showed in the second half",
    "Year 5 are learning about Mong Kok market in Hong Kong",
    "I was in bed with flu all week",
    "Spotted dick and custard for pudding today!",
    "Great tits and blue tits on the bird feeder for the Year 2 bird watch",
    "The cock crowed when we arrived at the farm",
    "They are a bit anal retentive about the uniform rules",
]


@pytest.mark.parametrize("text", NEGATIVES)
def test_ordinary_comments_are_left_alone(detector: AbuseDetector, text: str) -> None:
    assert scan(detector, text) == []


def test_swearing_at_no_one_is_low_or_medium(detector: AbuseDetector) -> None:
    findings = scan(detector, "this is bullshit, the trip is cancelled again")
    assert categories(findings) == {"abuse.profanity"}
    assert not findings[0].severity.at_least(Severity.HIGH)


def test_the_schools_own_posts_are_for_the_offensive_detector(detector: AbuseDetector) -> None:
    assert scan(detector, DEMO, kind=ItemKind.POST, school=True) == []
    assert scan(detector, DEMO, kind=ItemKind.POST, school=False)  # a visitor's post on the page


EVASIONS = [
    ("Mr Hartley is an i d i o t", "i d i o t"),
    ("Mr Hartley is an idiooooot", "idiooooot"),
    ("Mr Hartley is an 1d10t", "1d10t"),
    ("Mr Hartley is an i\u200bd\u200bi\u200bo\u200bt", "i\u200bd\u200bi\u200bo\u200bt"),
    ("Mr Hartley is an \u0456d\u0456\u043et", "\u0456d\u0456\u043et"),  # Cyrillic look-alikes
    ("Mr Hartley is a tw@t", "tw@t"),
    ("\uff29'll \uff4b\uff49\uff4c\uff4c you Mr Hartley", "\uff4b\uff49\uff4c\uff4c"),  # full-width letters
]


@pytest.mark.parametrize(("text", "word"), EVASIONS)
def test_evasions_are_seen_through_and_spans_quote_the_original(detector: AbuseDetector, text: str, word: str) -> None:
    findings = scan(detector, text)
    assert findings and findings[0].severity.at_least(Severity.HIGH), text
    quoted = {text[s.start : s.end] for f in findings for s in f.evidence.spans}
    assert any(word in q for q in quoted), quoted


@pytest.mark.parametrize(
    "text",
    [
        "you idiot " * 1_000_000,  # 10 MB
        "".join(chr(c) for c in range(0, 0x3000)) * 20,  # control characters, every script
        "\x00\xff\ufffd\ud7ff" * 100_000,
        "Мистер Хартли 愚か者 أحمق idiot " * 10_000,  # mixed scripts
        "",
        "   ",
    ],
)
def test_hostile_input_comes_back_in_bounded_time(detector: AbuseDetector, text: str) -> None:
    start = time.perf_counter()
    findings = scan(detector, text)
    assert time.perf_counter() - start < 20
    assert all(0 <= s.start <= s.end <= len(text) for f in findings for s in f.evidence.spans)
    if "idiot" in text:
        assert findings


def test_violent_words_turn_abuse_into_a_threat_but_slang_does_not() -> None:
    detector = AbuseDetector()
    assert "abuse.threat" in categories(scan(detector, "you stupid idiot, someone will stab you one day"))
    slang = scan(detector, "you idiot, it's dead easy")
    assert categories(slang) == {"abuse.insult"}


def test_abuse_naming_a_group_is_an_identity_attack() -> None:
    detector = AbuseDetector()
    assert "abuse.hate" in categories(scan(detector, "these refugees are fucking idiots"))
    assert "abuse.hate" not in categories(scan(detector, "the refugee appeal raised £300, thank you"))


def test_hallmon_check_jsonl_reports_the_demo_comments() -> None:
    """The real command, as the benchmark and a member of staff use it."""
    lines = [
        {"id": "hartley", "kind": "comment", "text": DEMO},
        {"id": "praise", "kind": "comment", "text": "Fantastic effort from everyone, well done!"},
        {"id": "office", "kind": "comment", "text": "Please contact the school office if you have concerns."},
        {"id": "threat", "kind": "reply", "text": "Watch your back Mrs Smith, I know where you live."},
    ]
    done = subprocess.run(
        [sys.executable, "-m", "monitor.cli", "check", "--jsonl", "-"],
        input="".join(json.dumps(line) + "\n" for line in lines),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    out = {o["id"]: o for o in map(json.loads, done.stdout.splitlines())}
    hartley = [f for f in out["hartley"]["findings"] if f["clause"] == "appendix-1"]
    assert [(f["category"], f["severity"]) for f in hartley] == [("abuse.insult", "high")]
    assert hartley[0]["detector"].startswith("abuse@")
    assert [DEMO[s:e] for s, e in hartley[0]["spans"]][:1] == ["Mr Hartley"]
    assert out["praise"]["findings"] == [] and out["office"]["findings"] == []
    threat = [f for f in out["threat"]["findings"] if f["category"] == "abuse.threat"]
    assert threat and threat[0]["severity"] == "critical" and "police" in threat[0]["explanation"]


@pytest.mark.parametrize("text", ["shut up you mong", "you are a pathetic loser", "Mr Hartley is a useless idiot"])
def test_insults_are_not_called_threats_without_threatening_words(detector: AbuseDetector, text: str) -> None:
    # "threat" makes an alert critical and names the police: the model's threat head alone, unsure,
    # must not say it when the insult already explains the comment
    found = categories(scan(detector, text))
    assert found and "abuse.threat" not in found
