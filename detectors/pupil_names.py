"""Clause 4.1(f), text side: pupils named in the school's own posts.

:func:`find_person_names` hashes candidate name tokens of the normalised text and looks them up in
the keyed roster (plain names are never compared or stored). Without a roster, a general
recogniser (a first-name lexicon plus nameparser's list of titles) guesses, with lower confidence.
The child_picture detector combines these matches with faces; this detector reports a named pupil
on its own at low or medium severity.
"""

from __future__ import annotations

import re
from itertools import pairwise
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

from nameparser.config import CONSTANTS

from detectors.base import NameMatch, RosterPerson, SchoolContext
from detectors.normalise import check_length, normalise
from monitor.domain import Clause, Evidence, Finding, ItemKind, ScanItem, Severity, TextSpan

# A word as it appears in folded text, with an optional possessive ("ava's", "james\u2019").
TOKEN = re.compile(r"[a-z]+(?:[-'\u2019][a-z]+)*['\u2019]?")
# Class and year cues near a first name: "Year 3", "Y3", "Yr 3", "class 4B", "4B", "Reception".
YEAR_CUE = re.compile(
    r"\b(?:year|yr|y)\s?(\d{1,2})\b|\b(\d)[a-z]\b|\bclass\s+(\d)?\w*|\b(reception|nursery)\b",
    re.IGNORECASE,
)
CUE_WINDOW = 25  # characters between a first name and a class/year cue
# Words that start sentences or are capitalised for other reasons: not surnames.
NOT_SURNAMES = frozenset(
    (  # noqa: SIM905 -- a word list reads better as prose
        "the and but for with from this that our we you your they he she it in on at to of is are was "
        "were be has have had a an all year class school team day week today tomorrow yesterday well "
        "done congratulations thank thanks happy hello hi dear monday tuesday wednesday thursday friday "
        "saturday sunday january february march april may june july august september october november "
        "december mr mrs miss ms dr sir head teacher"
    ).split()
)
TITLES = frozenset(t.lower().rstrip(".") for t in CONSTANTS.titles) | {"mr", "mrs", "miss", "ms", "mx", "dr", "sir"}
# Famous people and characters a school posts about (book week, history topics, school shows): the
# general recogniser would otherwise take "Oliver Twist" or "Florence Nightingale" for a pupil.
FAMOUS_NAMES = frozenset(
    (  # noqa: SIM905 -- a word list reads better as prose
        "oliver twist,peter pan,harry potter,hermione granger,ron weasley,florence nightingale,mary seacole,"
        "rosa parks,anne frank,guy fawkes,grace darling,isaac newton,charles darwin,charles dickens,"
        "william shakespeare,jane austen,roald dahl,michael morpurgo,david walliams,julia donaldson,"
        "jacqueline wilson,tom gates,greg heffley,percy jackson,matilda wormwood,horrid henry,"
        "paddington bear,winnie pooh,tom thumb,robin hood,jack frost,father christmas,santa claus,"
        "martin luther,nelson mandela,malala yousafzai,marcus rashford,emmeline pankhurst,ada lovelace,"
        "amelia earhart,neil armstrong,tim peake,greta thunberg,david attenborough,walter tull,"
        "winston churchill,isambard brunel,mary anning,katherine johnson,frida kahlo,vincent gogh,"
        "claude monet,andy warhol,henry moore,barbara hepworth,bugsy malone,annie warbucks,joseph dreamcoat"
    ).split(",")
)
# Before a name, these make it a historical or royal figure ("King Charles", "St George").
FIGURE_TITLES = frozenset({"king", "queen", "prince", "princess", "saint", "st", "lord", "lady", "dame", "pope", "captain"})


@dataclass(frozen=True)
class _Token:
    key: str
    start: int
    end: int
    capitalised: bool


@lru_cache(maxsize=1)
def first_name_lexicon() -> frozenset[str]:
    """Common UK first names shipped in ``detectors/data/first_names.txt``."""
    text = files("detectors").joinpath("data/first_names.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def find_person_names(text: str, context: SchoolContext) -> list[NameMatch]:
    """People named in ``text``: roster pupils (high confidence) or, without a roster, likely names.

    Raises :class:`~detectors.normalise.TextTooLong` for text longer than any real post.
    """
    check_length(text)
    norm = normalise(text)
    tokens = _tokens(norm.text, norm.folded)
    staff_tokens = _staff_tokens(tokens, context)
    matches: list[NameMatch] = []
    used: set[int] = set()
    pupils = context.pupils
    for i, tok in enumerate(tokens):
        if i in used or i in staff_tokens:
            continue
        nxt = tokens[i + 1] if i + 1 < len(tokens) and _adjacent(norm.text, tok, tokens[i + 1]) else None
        match: NameMatch | None = None
        if pupils and nxt is not None:
            full = f"{tok.key} {nxt.key}"
            people = pupils.lookup("full", full) or pupils.lookup("preferred_full", full)
            if people:
                match = NameMatch(tok.start, nxt.end, 0.95, people[0], "full name")
                used.add(i + 1)
        if match is None and pupils and tok.capitalised:
            people = pupils.lookup("first", tok.key) or pupils.lookup("preferred", tok.key)
            if people:
                match = _first_name_match(norm.text, tok, people)
        if match is None and not pupils:
            match = _general_match(norm.text, tok, nxt, i, tokens)
            if match is not None and match.end > tok.end:
                used.add(i + 1)
        if match is not None:
            start, end = norm.to_original(match.start, match.end)
            matches.append(NameMatch(start, end, match.confidence, match.person, match.cue))
    return matches


def _tokens(text: str, folded: str) -> list[_Token]:
    tokens = []
    for m in TOKEN.finditer(folded):
        word = m.group()
        end = m.end()
        if word.endswith(("'s", "\u2019s")) and len(word) > 3:  # "Ava's" -> "ava"
            word, end = word[:-2], end - 2
        elif word.endswith(("'", "\u2019")):  # "James'" -> "james"
            word, end = word[:-1], end - 1
        key = word.replace("'", "").replace("\u2019", "").replace("-", "")  # name_key() of folded letters
        if key:
            tokens.append(_Token(key, m.start(), end, text[m.start()].isupper()))
    return tokens


def _adjacent(text: str, a: _Token, b: _Token) -> bool:
    return b.start - a.end <= 3 and text[a.end : b.start].strip(" '\u2019s") == ""


def _staff_tokens(tokens: list[_Token], context: SchoolContext) -> set[int]:
    """Tokens naming staff ("Mr Hartley", "Priya Shah"): never reported as pupils."""
    staff = context.staff
    found: set[int] = set()
    for i, (a, b) in enumerate(pairwise(tokens)):
        pair = f"{a.key} {b.key}"
        titled_adult = a.key in TITLES and b.capitalised  # any titled adult is not a pupil
        if titled_adult or (staff and any(staff.lookup(form, pair) for form in ("titled", "full", "preferred_full"))):
            found.update((i, i + 1))
    return found


def _year_of(value: str) -> str:
    m = re.search(r"\d{1,2}", value)
    if m:
        return str(int(m.group()))
    return value.strip().lower()[:1] if value.strip().lower().startswith(("r", "n")) else ""


def _cue_near(text: str, tok: _Token) -> tuple[str, str] | None:
    window_start = max(0, tok.start - CUE_WINDOW)
    window = text[window_start : tok.end + CUE_WINDOW]
    for m in YEAR_CUE.finditer(window):
        number = next((g for g in m.groups() if g), "")
        return m.group().strip(), _year_of(number)
    return None


def _first_name_match(text: str, tok: _Token, people: tuple[RosterPerson, ...]) -> NameMatch:
    cue = _cue_near(text, tok)
    if cue is None:
        return NameMatch(tok.start, tok.end, 0.4, people[0], "first name only")
    label, year = cue
    agreeing = [p for p in people if year and _year_of(p.year_group) == year]
    if agreeing:
        return NameMatch(tok.start, tok.end, 0.85, agreeing[0], f"{label} + first name")
    return NameMatch(tok.start, tok.end, 0.6, people[0], f"{label} + first name (year not on roster)")


def _general_match(text: str, tok: _Token, nxt: _Token | None, i: int, tokens: list[_Token]) -> NameMatch | None:
    if not tok.capitalised or tok.key not in first_name_lexicon():
        return None
    if i > 0 and (tokens[i - 1].key in TITLES or tokens[i - 1].key in FIGURE_TITLES):
        return None  # "Mrs Ava Jones" is an adult, "King Charles" a king
    if nxt is not None and f"{tok.key} {nxt.key}" in FAMOUS_NAMES:
        return None
    between = text[tok.end : nxt.start] if nxt else ""
    possessive = "'" in between or "\u2019" in between
    if (
        nxt is not None
        and nxt.capitalised
        and not possessive  # "Charlotte's Web" is a title, not Charlotte Web
        and nxt.key not in NOT_SURNAMES
        and nxt.key not in first_name_lexicon()
    ):
        return NameMatch(tok.start, nxt.end, 0.6, None, "looks like a first name and surname")
    cue = _cue_near(text, tok)
    if cue is not None:
        return NameMatch(tok.start, tok.end, 0.5, None, f"{cue[0]} + a common first name")
    if tok.start > 0 and not re.search(r"[.!?]\s*$", text[: tok.start]):
        return NameMatch(tok.start, tok.end, 0.3, None, "a common first name")
    return None


class PupilNameDetector:
    """A pupil named in the school's own post (clause 4.1(f), text side; low or medium alone)."""

    name = "pupil_names"
    version = "1.0"
    min_confidence = 0.5

    def detect(self, item: ScanItem, context: SchoolContext) -> list[Finding]:
        """One finding per pupil name in a school post; comments are other people's words."""
        if not (item.item.author_is_school or item.item.kind is ItemKind.POST):
            return []
        findings = []
        for match in find_person_names(item.item.text, context):
            if match.confidence < self.min_confidence:
                continue
            roster = match.person is not None
            severity = Severity.MEDIUM if roster and match.confidence >= 0.8 else Severity.LOW
            who = "a pupil on the school roster" if roster else "what looks like a child's name"
            findings.append(
                Finding(
                    clause=Clause.CHILD_NAME_WITH_PICTURE,
                    category="pupil_name.text",
                    severity=severity,
                    confidence=match.confidence,
                    detector=self.name,
                    detector_version=self.version,
                    evidence=Evidence(
                        f"The post names {who} ({match.cue}). Check the pupil's photo consent, and never "
                        "put a child's full name beside their picture.",
                        (TextSpan(match.start, match.end),),
                    ),
                )
            )
        return findings
