"""Clause 4.1(c): personal data in posts and comments (phones, emails, addresses, identifiers...).

Pattern-based, like a Presidio recognizer: the patterns and context words below are data. Each
candidate is confirmed by a rule (check digit, phone metadata, nearby context words) before it
becomes a finding. Spans in the evidence point into the original ``item.text``. The school's own
published contact details are never flagged.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from itertools import islice
from dataclasses import dataclass

import phonenumbers

from detectors.base import OwnContacts, SchoolContext
from detectors.prefilter import Prefilter
from detectors.normalise import check_length, normalise
from detectors.personal_data_checks import card_ok, iban_ok, nhs_ok, nino_ok, upn_ok
from detectors.pupil_names import find_person_names
from monitor.domain import Clause, Evidence, Finding, ItemKind, ScanItem, Severity, TextSpan

# --- patterns (possessive quantifiers keep every pattern linear on hostile input) ---------------

EMAIL = re.compile(r"(?<![\w.%+-])[\w.%+-]{1,64}+@(?:[\w-]{1,63}\.){1,8}[A-Za-z][\w-]{0,62}(?![\w@])")
IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:[ -]?[A-Z0-9]{1,4}){2,8}+(?![A-Za-z0-9])")
# Cards: one block of digits, groups of four with one separator, or Amex/Diners 4-6-5.
CARD = re.compile(
    r"(?<![\w+-])(?:\d{12,19}|\d{4}([ -])\d{4}\1\d{4}\1\d{1,4}(?:\1\d{1,3})?|\d{4}([ -])\d{6}\2\d{4,5})(?![\w-])"
)
NHS = re.compile(r"(?<![\d-])\d{3}([ -]?)\d{3}\1\d{4}(?![\d-])")
NINO = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-Da-d](?![A-Za-z0-9])")
UPN = re.compile(r"(?<![A-Za-z0-9])[A-Z]\d{11}[0-9A-Z](?![A-Za-z0-9])")
SORT_CODE = re.compile(r"(?<![\d-])\d{2}([- ])\d{2}\1\d{2}(?![\d-])")
ACCOUNT_NUMBER = re.compile(r"(?<!\d)\d{8}(?!\d)")
# A run of digit groups joined by one separator each: the raw material of phone numbers.
PHONE_RUN = re.compile(
    r"(?<![\w@/.+-])(?:\+|\b00)?\(?\d++(?:(?:[ .-]|\)\s?|\s?\()\d++)*+\)?"
    r"(?:\s?(?:x|ext\.?|extn\.?)\s?\d{1,5})?(?![\w@])"
)
DATE = re.compile(
    r"(?<!\d)(?:\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})|\d{4}-\d{2}-\d{2})(?!\d)"
    r"|(?<!\w)\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?,?\s+\d{4}(?!\d)"
    r"|(?<!\w)(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}(?!\d)",
    re.IGNORECASE,
)
UK_POSTCODE = re.compile(
    r"(?<![A-Za-z0-9])(?:[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]?) ?\d[ABD-HJLNP-UW-Z]{2}(?![A-Za-z0-9])|(?<![A-Za-z0-9])GIR ?0AA(?![A-Za-z0-9])"
)
_SUFFIXES = (
    "Road|Rd|Street|St|Avenue|Ave|Av|Lane|Ln|Drive|Dr|Way|Close|Cl|Crescent|Cres|Grove|Gr|Place|Pl|"
    "Court|Ct|Gardens|Gdns|Terrace|Terr|Square|Sq|Parade|Mews|Row|Walk|Hill|Rise|View|Park|Green|"
    "Boulevard|Blvd|Circle|Cir|Trail|Parkway|Pkwy|Highway|Hwy|Route|Loop|Plaza|Alley|Heights|Ridge|"
    "Estate|Court|Wynd|Brae|Vale|Chase|Meadows?|Fields?|Passage|Path|Pike|Point|Port|Run|Turnpike|"
    "Crossing|Causeway|Expressway|Freeway|Junction|Landing|Manor|Mill|Orchard|Oval|Pass|Shore|"
    "Spur|Summit|Terrace|Track|Valley|Vista|Forge|Forges|Union|Squares|Parks|Extensions?|Ferry"
)
# "12 Acacia Avenue", "1668 Glyn St", "14a High Street": number, up to four words, a suffix.
STREET = re.compile(
    r"(?<![\w,.-])\d{1,5}[A-Za-z]?,?\s(?:[A-Z][\w'\u2019.-]*\s){1,4}(?:" + _SUFFIXES + r")\b\.?",
)
# Continental style: "Via Franscini 71", "Passauer Strasse 33", "Søndergade 52", "ul. Słowicza 10".
STREET_EU = re.compile(
    r"(?<!\w)(?:(?:Via|Viale|Vicolo|Piazza|Corso|Rue|Avenue|Calle|Avenida|Rua|Travessa|ul\.|Ulica|Strada)"
    r"\s(?:[\w'\u2019.-]+\s){0,4}?\d{1,4}[a-z]?"
    r"|[A-ZÀ-Þ][\wÀ-ÿ'\u2019-]* ?(?i:strasse|straße|str\.|gasse|weg|gade|vej|katu|tie|väg|vägen|gatan|laan|straat|plein|utca|u\.|braut|stræti|gata)"
    r"\s\d{1,4}[a-z]?\.?)(?![\d])",
)
# US military post: "PSC 6293, Box 8158 APO AP 04336"; "Unit 0822 Box 8858 DPO AA 13319".
MILITARY = re.compile(
    r"\b(?:PSC|Unit|USNS|USS|USNV|USCGC)\s[\w ]{1,20}?,?\s+(?:Box\s\d{3,5}\s+)?[ADF]PO\s+A[AEP]\s+\d{5}\b"
)
# "Edeby 55\n Apt. 297": a name and a number, then a flat or suite line, is a street line too.
STREET_WITH_UNIT = re.compile(
    r"(?<!\w)[A-Z\u00c0-\u00de][\w.'-]{2,}(?: [\w.'-]+){0,3} \d{1,4}\.?(?=,?\s{1,3}>?(?:Apt\.?|Apartment|Suite|Flat|Unit) \w)"
)
# Address parts that follow a street line: ", Liverpool", "\n Apt. 724", "\n Denmark 35018", "\n nan".
ADDRESS_WORD = r"(?:[A-Z\u00c0-\u00de\u0370-\u03ff][\w\u0370-\u03ff().'-]*|\d{2,6}(?:-\d{2,4})?|de|del|la|na|nan|du|da|di|van|von|of|on|upon)"
# "lives at 846 31 Rue Al Imam Al Bakri, Cite Merzgui": a phrase that introduces an address.
ADDRESS_INTRO = re.compile(
    r"\b(?:lives? at|living at|address(?: is|:)|moved to|sent to|send (?:it|them|this) to|deliver(?:ed)? to|"
    r"located at|meet (?:me|you|us) at|drops? you off at|is at|return (?:it )?to)\s+(?:the corner of )?"
    r"(\d{1,6}[A-Za-z]?(?: \d{1,6})?,? [A-Z\u00c0-\u00de\u0370-\u03ff]\S*(?: " + ADDRESS_WORD + r"){0,6})"
)
ADDRESS_PART = re.compile(
    r"(?:,\s?|\s*\n[ >]*|\s{2,}| (?=(?:Apt\.?|Apartment|Suite|Flat|Unit) ))(?:(?:Apt\.?|Apartment|Suite|Flat|Unit) \w{1,6}|"
    + ADDRESS_WORD
    + r"(?: "
    + ADDRESS_WORD
    + r"){0,5})"
)
ADDRESS_GAP = re.compile(r"[\s,]{0,3}")
PHONE_LIKE_PART = re.compile(r"[\s,>]*\d+(?: \d+){2,}")
HOUSE_NUMBER_BEFORE = re.compile(r"(?<![\w.-])\d{1,6}[ ]{1,2}$")
UNIT_SUFFIX = re.compile(r",?\s{1,3}(?:Apt\.?|Apartment|Suite|Flat|Unit)\s\w{1,6}")

# Numbers that share a phone number's shape but are not personal data we report: dates and times,
# IP addresses, and numbers a label says are something else (licences, SSNs, order numbers).
NOT_PERSONAL = (
    re.compile(r"(?<!\d)\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?(?!\d)"),
    re.compile(r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d.])"),
    re.compile(
        r"(?<![\d.+-])(?:\((?:19|20)\d{2}\)|(?:19|20)\d{2} ?[-\u2013/] ?(?:19|20)\d{2})(?![\d:])"
    ),  # years, ranges
    re.compile(
        r"\b(?:licen[cs]e|passport|ssn|social security|order|invoice|reference|ref|account|tracking|serial|policy)"
        r"(?: (?:number|no\.?|#))?(?: is)?:? ?#? ?[A-Z]{0,2}[\d -]{4,20}\d",
        re.IGNORECASE,
    ),
)

# --- context words ------------------------------------------------------------------------------

PHONE_CONTEXT = re.compile(
    r"\b(?:phone|tel|telephone|mobile|mob|cell|call|ring|text|txt|whats ?app|sms|fax|desk|contact|"
    r"messages?|answering|reach|dial|landline|office|home|work)\b",
    re.IGNORECASE,
)
NHS_CONTEXT = re.compile(r"\bnhs\b|health (?:service )?number|\bchi number", re.IGNORECASE)
DOB_CONTEXT = re.compile(
    r"\b(?:born|birthday|b'?day|dob|d\.o\.b|date of birth|birth date|age[ds]?|years? old|turns?|turned)\b",
    re.IGNORECASE,
)
BANK_CONTEXT = re.compile(r"\b(?:sort ?code|account|acc|a/c|bank|iban|pay|transfer)\b", re.IGNORECASE)
SPECIAL_ACRONYMS = re.compile(r"(?<![@#])\b(?:SEN|SEND|SEMH|ADHD|ADD|ASD|ASC|EHCP|CAMHS|FSM|LAC|CIN|CP)\b")
SPECIAL_TERMS = re.compile(
    r"(?<![@#\w])(?:autis[mt]\w*|adhd|dyslexi\w*|dyspraxi\w*|ehcp|special (?:educational )?needs|"
    r"learning (?:difficult|disabilit)\w*|disab\w+|wheelchair|diabet\w*|epilep\w*|seizures?|asthma\w*|"
    r"allerg\w*|anaphyla\w*|epipen|cancer|leuka?emia|tumou?r|chemo\w*|hospital\w*|diagnos\w+|"
    r"medication|medicine|illness|mental health|depress\w*|anxiety|self[- ]harm\w*|suicid\w*|"
    r"eating disorder|anorexi\w*|camhs|therap\w+|counsell\w+|safeguarding|child protection|"
    r"social (?:services|worker)|looked[- ]after|in care|foster\w*|neglect\w*|abused?|"
    r"free school meals|pupil premium|excluded|exclusion|pregnan\w*|gender identity|transgender)\b",
    re.IGNORECASE,
)
_SPECIAL_GATE = Prefilter([SPECIAL_TERMS, SPECIAL_ACRONYMS])
# Around a digit run: a code with letters and digits just before or after means it is part of a
# longer identifier; a capitalised word just after means a house number; a label means a phone.
CODE_BEFORE = re.compile(r"(?:[A-Za-z]+\d+|\d+[A-Za-z]+)[A-Za-z\d]* ?$")
CODE_AFTER = re.compile(r" ?[A-Za-z]*\d+[A-Za-z]")
WORD_AFTER = re.compile(r" [A-Z\u00c0-\u00de][a-z\u00df-\u00ff]")
PHONE_LABEL_AFTER = re.compile(r"[ -]?\(?(?:office|home|work|mobile|mob|fax|tel|cell|landline)\b", re.IGNORECASE)
# Shapes a bare digit run shares with phone numbers: IP addresses, US social security numbers,
# ZIP+4 and other postal codes, year-month-day dates.
OTHER_SHAPES = (
    re.compile(r"\d{1,3}(?:\.\d{1,3}){3}"),
    re.compile(r"\d{3}[-.]\d{2}[-.]\d{4}|\d{5}-\d{4}|\d{3}-\d{6}|\d{5}-\d{3,4}"),
    re.compile(r"\d{4}[ .-]\d{2}[ .-]\d{2}"),
)
# Every UK national number, Ofcom drama numbers included, is a 0 and ten more digits.
UK_NATIONAL = re.compile(r"0[1-9]\d{9}")
# Regions whose phone metadata is strict enough to trust a bare national number.
TRUSTED_REGIONS = (
    "GB",
    "US",
    "CA",
    "IE",
    "FR",
    "ES",
    "IT",
    "NL",
    "BE",
    "PT",
    "PL",
    "AU",
    "SE",
    "CH",
    "DK",
    "IN",
    "RO",
    "PK",
    "NG",
    "CN",
    "BD",
)
# Without a roster, a guessed name counts only when the text is about a child.
CHILD_CUE = re.compile(
    r"\b(?:pupil|child|children|son|daughter|boy|girl|student|kid|little one|year \d{1,2}|class|reception|nursery)s?\b",
    re.IGNORECASE,
)
SPECIAL_WINDOW = 80
ANY_DIGIT = re.compile(r"\d")
MAX_CANDIDATES = 5_000  # per pattern and item; far more than any real post holds  # characters between a name and a health/SEN/safeguarding term

EXPLAIN = {
    "phone": "A phone number is published{who}. Phone numbers of parents, pupils or staff must not appear on the school's accounts.",
    "email": "An email address is published{who}. Personal email addresses must not appear on the school's accounts.",
    "address": "A home or street address is published{who}. Addresses can be used to find a child at home.",
    "date_of_birth": "A date of birth is published{who}. With a name it identifies a child.",
    "nhs_number": "An NHS number is published{who}. It is confidential health information.",
    "ni_number": "A National Insurance number is published{who}. It can be used for identity fraud.",
    "upn": "A unique pupil number (UPN) is published{who}. UPNs must never leave the school's records.",
    "bank": "Bank or card details are published{who}. They can be used for fraud.",
    "special_category": "Health, special needs or safeguarding information appears next to a person's name{who}. This is special-category data.",
}


ORGANISATION_EXPLAIN = {
    "phone": "An organisation's phone number (freephone, helpline or non-geographic) is published{who}. "
    "These are usually fine to share: check it is not somebody's personal line.",
    "email": "An organisation's shared email address (such as info@ or helpline@) is published{who}. "
    "These are usually fine to share: check it is not somebody's personal address.",
}
# Shared mailboxes, not a person's (compared without dots, dashes and underscores).
ROLE_MAILBOXES = frozenset(
    (  # noqa: SIM905 -- a word list reads better as prose
        "info office admin enquiries enquiry contact contactus hello help helpline support safeguarding "
        "reception bursar finance admissions noreply donotreply press media events bookings team mail general "
        "schooloffice headteacher head senco dsl governors clerk clerktogovernors attendance absence lettings "
        "pta friends complaints feedback accounts payments"
    ).split()
)


@dataclass(frozen=True)
class _Hit:
    kind: str
    start: int
    end: int
    confidence: float
    value: str
    organisation: bool = False  # a freephone, helpline or non-geographic number: not a person's


class PersonalDataDetector:
    """Finds personal data that must not be published on the school's accounts (clause 4.1(c))."""

    name = "personal_data"
    version = "1.0"

    def detect(self, item: ScanItem, context: SchoolContext) -> list[Finding]:
        """Return one finding per piece of personal data in the item's text."""
        check_length(item.item.text)
        norm = normalise(item.item.text)
        hits = [
            _Hit(h.kind, *norm.to_original(h.start, h.end), h.confidence, h.value, h.organisation)
            for h in find_personal_data(norm.text, context.own_contacts)
        ]
        hits += _special_category(item.item.text, context)  # names come back as original offsets
        school_voice = item.item.author_is_school or item.item.kind is ItemKind.POST
        findings = []
        for hit in hits:
            start, end = hit.start, hit.end
            who = " in the school's own post" if school_voice else " in a public comment"
            explanation = EXPLAIN[hit.kind].format(who=who)
            if hit.kind == "special_category":
                severity = Severity.CRITICAL if hit.confidence >= 0.8 else Severity.HIGH
            elif hit.organisation:
                severity = Severity.LOW  # the digest mentions it; nobody is woken for Childline's number
                explanation = ORGANISATION_EXPLAIN[hit.kind].format(who=who)
            else:
                severity = Severity.HIGH if school_voice else Severity.MEDIUM
            findings.append(
                Finding(
                    clause=Clause.PERSONAL_DATA,
                    category=f"personal_data.{hit.kind}",
                    severity=severity,
                    confidence=hit.confidence,
                    detector=self.name,
                    detector_version=self.version,
                    evidence=Evidence(explanation, (TextSpan(start, end),)),
                )
            )
        return findings


def find_personal_data(text: str, own: OwnContacts | None = None) -> list[_Hit]:
    """All personal-data hits in (normalised) ``text``, most specific kinds first, no overlaps."""
    own = own if own is not None else OwnContacts()
    starts: list[int] = []  # claimed spans, sorted and disjoint, so their ends are sorted too
    ends: list[int] = []
    hits: list[_Hit] = []
    finders: tuple[Callable[[str, OwnContacts], Iterator[_Hit]], ...] = (
        _emails, _ibans, _international_phones, _cards, _upns, _ninos, _nhs_numbers, _bank_accounts,
        _dates_of_birth, _not_personal, _addresses, _phones,
    )  # fmt: skip
    if not ANY_DIGIT.search(text):  # most comments have no digits: every rule here but email needs one
        finders = (_emails,) if "@" in text else ()
    for finder in finders:
        for hit in finder(text, own):
            i = bisect_left(starts, hit.end)
            if i and ends[i - 1] > hit.start:
                continue  # overlaps something a more specific rule already claimed
            starts.insert(i, hit.start)
            ends.insert(i, hit.end)
            hits.append(hit)
    hits.sort(key=lambda h: h.start)
    return [h for h in hits if h.kind]


def _matches(pattern: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    """At most MAX_CANDIDATES matches: a hostile 10 MB post gets a bounded-time answer."""
    return islice(pattern.finditer(text), MAX_CANDIDATES)


def _before(text: str, start: int, width: int = 40) -> str:
    return text[max(0, start - width) : start]


def _emails(text: str, own: OwnContacts) -> Iterator[_Hit]:
    own_emails = {e.lower() for e in own.emails}
    own_domains = tuple(d.lower().lstrip("@") for d in own.domains)
    for m in _matches(EMAIL, text):
        value = m.group().rstrip(".-")
        domain = value.rpartition("@")[2].lower()
        if value.lower() in own_emails or any(domain == d or domain.endswith("." + d) for d in own_domains):
            continue
        local = value.partition("@")[0].lower().replace("-", "").replace("_", "").replace(".", "")
        yield _Hit("email", m.start(), m.start() + len(value), 0.95, value, local in ROLE_MAILBOXES)


def _ibans(text: str, own: OwnContacts) -> Iterator[_Hit]:
    for m in _matches(IBAN, text):
        raw = m.group()
        compact = raw.replace(" ", "").replace("-", "")
        length = _iban_length(compact)
        if length is None:
            continue
        # keep just the IBAN's own characters (the pattern may have run into a following code)
        end = m.start()
        count = 0
        while count < length:
            if raw[end - m.start()] not in " -":
                count += 1
            end += 1
        if end < m.end() and raw[end - m.start()] not in " -":
            continue  # the IBAN would end inside a group: not an IBAN
        if iban_ok(compact[:length]):
            yield _Hit("bank", m.start(), end, 0.97, compact[:length])


def _iban_length(compact: str) -> int | None:
    from detectors.personal_data_checks import IBAN_LENGTHS

    length = IBAN_LENGTHS.get(compact[:2])
    return length if length is not None and len(compact) >= length else None


def _cards(text: str, own: OwnContacts) -> Iterator[_Hit]:
    for m in _matches(CARD, text):
        digits = re.sub(r"\D", "", m.group())
        if card_ok(digits) and not CODE_BEFORE.search(_before(text, m.start(), 12)):
            yield _Hit("bank", m.start(), m.end(), 0.95, digits)


def _upns(text: str, own: OwnContacts) -> Iterator[_Hit]:
    for m in _matches(UPN, text):
        if upn_ok(m.group()):
            yield _Hit("upn", m.start(), m.end(), 0.9, m.group())


def _ninos(text: str, own: OwnContacts) -> Iterator[_Hit]:
    for m in _matches(NINO, text):
        compact = m.group().replace(" ", "")
        # all capitals or all lower case ("ab 12 34 56 c"); mixed case is ordinary text
        if (compact[:2].isupper() or compact.islower()) and nino_ok(compact.upper()):
            yield _Hit("ni_number", m.start(), m.end(), 0.9, compact.upper())


def _nhs_numbers(text: str, own: OwnContacts) -> Iterator[_Hit]:
    for m in _matches(NHS, text):
        digits = re.sub(r"\D", "", m.group())
        if not nhs_ok(digits):
            continue
        before = _before(text, m.start(), 50)
        if NHS_CONTEXT.search(before):
            yield _Hit("nhs_number", m.start(), m.end(), 0.95, digits)
            continue
        if PHONE_CONTEXT.search(before) or _is_phone_shaped(m.group(), digits):
            continue  # a phone number that happens to pass the check: leave it to the phone rule
        yield _Hit("nhs_number", m.start(), m.end(), 0.8, digits)


def _is_phone_shaped(raw: str, digits: str) -> bool:
    """True for numbers that pass the NHS check but read as phones: "905-674-3793" (a real US
    number written US-style) or "021 123 4567" (a national number with its trunk 0)."""
    if re.search(r"[-.()]", raw) and _valid_in(raw, "US"):
        return True
    return digits[0] == "0" and any(_valid_in(raw, region) for region in TRUSTED_REGIONS)


def _bank_accounts(text: str, own: OwnContacts) -> Iterator[_Hit]:
    for m in _matches(SORT_CODE, text):
        window = text[m.end() : m.end() + 40]
        account = ACCOUNT_NUMBER.search(window)
        has_context = BANK_CONTEXT.search(_before(text, m.start(), 40) + window)
        if account is not None and has_context:
            yield _Hit("bank", m.start(), m.end() + account.end(), 0.9, m.group())
        elif has_context and re.search(r"sort ?code", _before(text, m.start(), 30), re.IGNORECASE):
            yield _Hit("bank", m.start(), m.end(), 0.8, m.group())


def _dates_of_birth(text: str, own: OwnContacts) -> Iterator[_Hit]:
    for m in _matches(DATE, text):
        if DOB_CONTEXT.search(_before(text, m.start(), 40) + text[m.end() : m.end() + 20]):
            yield _Hit("date_of_birth", m.start(), m.end(), 0.85, m.group())


def _not_personal(text: str, own: OwnContacts) -> Iterator[_Hit]:
    """Claim numbers that look like phones but are something else, so no rule reports them."""
    for pattern in NOT_PERSONAL:
        for m in _matches(pattern, text):
            yield _Hit("", m.start(), m.end(), 0.0, "")


def _addresses(text: str, own: OwnContacts) -> Iterator[_Hit]:
    own_postcodes = {_compact(p) for p in own.postcodes}
    own_lines = [_compact(a) for a in own.address_lines if a.strip()]
    spans: list[tuple[int, int, float]] = []
    for pattern, confidence in ((STREET, 0.75), (STREET_EU, 0.6), (STREET_WITH_UNIT, 0.6), (MILITARY, 0.8)):
        spans += [(m.start(), m.end(), confidence) for m in _matches(pattern, text)]
    spans += [(m.start(1), m.end(1), 0.6) for m in _matches(ADDRESS_INTRO, text)]
    street_ends = sorted(end for _, end, _ in spans)
    for m in _matches(UK_POSTCODE, text):
        before = _before(text, m.start(), 60)
        i = bisect_right(street_ends, m.start())
        if i and m.start() - street_ends[i - 1] <= 80:
            spans.append((m.start(), m.end(), 0.95))  # the street's postcode: merged with it below
            continue
        if re.search(r"(?<![\w-])\d{1,4}[A-Za-z]?\b", before) and re.search(
            r"\b(?:" + _SUFFIXES + r")\b", before, re.IGNORECASE
        ):
            spans.append((m.start(), m.end(), 0.7))
    merged: list[tuple[int, int, float]] = []
    for start, end, confidence in sorted(spans):
        start, end = _expand_address(text, start, end)
        if merged and (start <= merged[-1][1] or ADDRESS_GAP.fullmatch(text, merged[-1][1], start)):
            last = merged[-1]
            merged[-1] = (last[0], max(last[1], end), max(last[2], confidence))
        else:
            merged.append((start, end, confidence))
    for start, end, confidence in merged:
        value = text[start:end]
        compact = _compact(value)
        if any(p and p in compact for p in own_postcodes) or any(
            line and (line in compact or compact in line) for line in own_lines
        ):
            continue
        if UK_POSTCODE.search(value):
            confidence = max(confidence, 0.95)
        yield _Hit("address", start, end, confidence, value)


def _expand_address(text: str, start: int, end: int) -> tuple[int, int]:
    """Grow a street line into the whole address: a house number before, flat, town, postcode after."""
    before = HOUSE_NUMBER_BEFORE.search(text, max(0, start - 10), start)
    if before is not None:
        start = before.start()
    for _ in range(5):
        part = ADDRESS_PART.match(text, end)
        if part is None or "\n\n" in part.group() or ":" in part.group() or PHONE_LIKE_PART.fullmatch(part.group()):
            break  # a blank line, a label or a phone number ends the address
        end = part.end()
    return start, end


def _compact(value: str) -> str:
    return re.sub(r"[^a-z0-9]", "", value.lower())


def _international_phones(text: str, own: OwnContacts) -> Iterator[_Hit]:
    """Numbers written with a country code (+44, 0044) go first: their digits look like much else."""
    return _phones(text, own, international_only=True)


def _phones(text: str, own: OwnContacts, international_only: bool = False) -> Iterator[_Hit]:
    own_phones = set(own.phones)
    for m in _matches(PHONE_RUN, text):
        if international_only and not m.group().startswith(("+", "00")):
            continue
        raw = m.group().rstrip(")").strip()
        start = m.start()
        if raw.startswith("(") and ")" not in raw:
            raw, start = raw[1:], start + 1
        confidence = _phone_confidence(text, start, raw)
        if confidence == 0.0:
            continue
        if own_phones and _e164(raw) in own_phones:
            continue
        yield _Hit("phone", start, start + len(raw), confidence, raw, _organisation_number(raw))


# UK freephone (0800, 0808), non-geographic (03), shared-cost and premium numbers belong to
# organisations: a safeguarding post lists Childline (0800 1111) or the council's 0300 line on purpose.
_ORGANISATION_TYPES = frozenset(
    {
        phonenumbers.PhoneNumberType.TOLL_FREE,
        phonenumbers.PhoneNumberType.SHARED_COST,
        phonenumbers.PhoneNumberType.PREMIUM_RATE,
        phonenumbers.PhoneNumberType.UAN,
    }
)


def _organisation_number(raw: str) -> bool:
    """True for a UK number, written the UK way, of a kind only organisations hold."""
    if not raw.lstrip("(").startswith(("0", "+44", "0044")) or (raw.startswith("00") and not raw.startswith("0044")):
        return False
    number = _parse(raw, "GB")
    return number is not None and number.country_code == 44 and phonenumbers.number_type(number) in _ORGANISATION_TYPES


def _phone_confidence(text: str, start: int, raw: str) -> float:
    """How sure we are that ``raw`` (a run of digit groups) is a phone number; 0 means it is not."""
    digits = re.sub(r"\D", "", re.split(r"\s?(?:x|ext)", raw)[0])
    if not 7 <= len(digits) <= 15:
        return 0.0
    before = _before(text, start)
    after = text[start + len(raw) : start + len(raw) + 20]
    if before.rstrip().endswith(("£", "$", "€")) or CODE_BEFORE.search(before) or CODE_AFTER.match(after):
        return 0.0  # money, or digits that belong to a longer code (an IBAN, a licence)
    context = PHONE_CONTEXT.search(before) is not None or PHONE_LABEL_AFTER.match(after) is not None
    if raw.startswith(("+", "00")):
        number = _parse(raw, "GB")
        return 0.95 if number is not None and phonenumbers.is_possible_number(number) else 0.0
    if _looks_like_other(raw) and not context:
        return 0.0
    if UK_NATIONAL.fullmatch(digits) or (len(digits) == 10 and digits[0] == "0" and _valid_in(raw, "GB")):
        return 0.95  # UK national formats, Ofcom drama numbers included
    if context:
        return 0.9
    if WORD_AFTER.match(after):
        return 0.0  # "28919 136 Filadelfeos Str.": house numbers before a street name
    groups = len(re.findall(r"\d+", raw))
    if len(set(re.findall(r"[ .-]", re.sub(r"\(\d+\)\s?", "", raw)))) > 1 or ("(" in raw and "." in raw):
        return 0.0  # mixed separators without any phone context: a list of figures, not a number
    if groups >= 2 and 8 <= len(digits) <= 12 and any(_valid_in(raw, r) for r in TRUSTED_REGIONS):
        return 0.75
    return 0.0


def _looks_like_other(raw: str) -> bool:
    """Dates, IP addresses, US social security numbers and postal codes share phones' shapes."""
    return any(pattern.fullmatch(raw) for pattern in (DATE, *OTHER_SHAPES))


def _parse(raw: str, region: str) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None


def _valid_in(raw: str, region: str) -> bool:
    number = _parse(raw, region)
    return number is not None and phonenumbers.is_valid_number_for_region(number, region)


def _e164(raw: str) -> str:
    number = _parse(raw, "GB")
    if number is None:
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _special_category(text: str, context: SchoolContext) -> list[_Hit]:
    """Health, SEN or safeguarding words near a person's name; critical when the name is a pupil's."""
    if not _SPECIAL_GATE.candidates(text):  # most texts hold none of the terms: one RE2 pass says so
        return []
    terms = sorted([*_matches(SPECIAL_TERMS, text), *_matches(SPECIAL_ACRONYMS, text)], key=lambda m: m.start())
    if not terms:
        return []
    term_starts = [t.start() for t in terms]
    hits = []
    child_cue = CHILD_CUE.search(text) is not None
    for name in find_person_names(text, context):
        if name.person is not None and name.person.kind != "pupil":
            continue
        if name.person is None and (not child_cue or name.confidence < 0.5):
            continue
        i = bisect_left(term_starts, name.end)
        # the nearest term after the name, then the nearest before it
        for term in (terms[i] if i < len(terms) else None, terms[i - 1] if i else None):
            if term is None:
                continue
            gap = term.start() - name.end if term.start() >= name.end else name.start - term.end()
            if 0 <= gap <= SPECIAL_WINDOW:
                start, end = min(name.start, term.start()), max(name.end, term.end())
                confidence = 0.9 if name.person is not None else 0.5
                hits.append(_Hit("special_category", start, end, confidence, ""))
                break
    return hits
