"""The detector protocol, the school context detectors read, and the detector registry.

A detector is pure, like a Presidio recognizer: ``detect(item, context) -> list[Finding]``. No
network, clock or database inside; models load once, at construction. Every finding names the
policy clause it evidences, a category, a severity, a confidence and its evidence.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from monitor.domain import Finding, ScanItem


@dataclass(frozen=True)
class RosterPerson:
    """A pupil or member of staff, known only by an opaque reference and non-identifying facts."""

    ref: str
    kind: str  # "pupil" | "staff"
    year_group: str = ""
    photo_consent: bool | None = None
    role: str = ""  # staff title where known, e.g. "Mrs", "Headteacher"


@dataclass(frozen=True)
class RosterIndex:
    """Keyed hashes of normalised name forms -> people. Plain names are never held here.

    ``forms`` maps ``"<form>:<hmac hex>"`` (form is ``full``, ``first``, ``surname``,
    ``preferred`` or ``titled``) to the people with that name form.
    """

    key: bytes = b""
    forms: Mapping[str, tuple[RosterPerson, ...]] = field(default_factory=dict)

    def digest(self, normalised_name: str) -> str:
        return hmac.new(self.key, normalised_name.encode("utf-8"), hashlib.sha256).hexdigest()

    def lookup(self, form: str, normalised_name: str) -> tuple[RosterPerson, ...]:
        if not self.forms:
            return ()
        return self.forms.get(f"{form}:{self.digest(normalised_name)}", ())

    def __bool__(self) -> bool:
        return bool(self.forms)


@dataclass(frozen=True)
class OwnContacts:
    """The school's own public contact details: never flagged as personal data."""

    phones: tuple[str, ...] = ()  # E.164, e.g. "+441514960000"
    emails: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    postcodes: tuple[str, ...] = ()  # normalised, e.g. "L1 8JQ"
    address_lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class KnownMedia:
    """A registered image: the school's own (allowlist) or a known third party's (blocklist)."""

    sha256: str
    hashes: Mapping[str, str]
    own: bool
    label: str = ""


@dataclass(frozen=True)
class SchoolContext:
    school_name: str = ""
    school_names: tuple[str, ...] = ()  # other ways the school is named ("St Mary's", "SMCPS")
    staff: RosterIndex = field(default_factory=RosterIndex)
    pupils: RosterIndex = field(default_factory=RosterIndex)
    own_contacts: OwnContacts = field(default_factory=OwnContacts)
    known_media: tuple[KnownMedia, ...] = ()


@runtime_checkable
class Detector(Protocol):
    """A rule family. ``name`` and ``version`` are recorded on every finding it makes."""

    name: str
    version: str

    def detect(self, item: ScanItem, context: SchoolContext) -> Sequence[Finding]: ...


@dataclass(frozen=True)
class NameMatch:
    """A person's name found in text. ``person`` is set for a roster match, else ``None``
    (a general name recogniser's guess, which carries a lower confidence)."""

    start: int
    end: int
    confidence: float
    person: RosterPerson | None = None
    cue: str = ""  # why we think this is that person: "full name", "Year 3 + first name", ...
