"""Read the school's MIS roster exports (CSV) into keyed hashes of name forms.

Plain names exist only while a row is being read: every name form is turned into
``"<form>:<HMAC hex>"`` at once and the person is known only by an opaque keyed reference.
Nothing here logs or returns a plain name or MIS id.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import re
from dataclasses import dataclass
from pathlib import Path

from detectors.base import RosterIndex, RosterPerson
from detectors.normalise import fold

# normalised header -> field. Headers are lowercased with everything but letters/digits removed.
HEADERS: dict[str, tuple[str, ...]] = {
    "id": (
        "upn",
        "staffid",
        "id",
        "misid",
        "pupilid",
        "studentid",
        "adno",
        "admissionnumber",
        "employeeid",
        "staffcode",
        "personid",
    ),
    "first": ("forename", "firstname", "givenname", "legalforename", "first", "forenames"),
    "surname": ("surname", "lastname", "familyname", "legalsurname", "last"),
    "preferred": ("preferredname", "preferredforename", "knownas", "nickname", "preferred", "chosenname"),
    "preferred_surname": ("preferredsurname",),
    "full": ("name", "fullname", "pupilname", "staffname"),
    "year": (
        "year",
        "yeargroup",
        "class",
        "form",
        "reggroup",
        "registrationgroup",
        "yearclass",
        "tutorgroup",
        "nc year",
        "ncyear",
    ),
    "consent": ("photoconsent", "photographyconsent", "consent", "photo", "mediaconsent", "photopermission"),
    "title": ("title", "salutation"),
    "role": ("role", "jobtitle", "position", "post"),
}
CONSENT_YES = {"y", "yes", "true", "1", "given", "granted", "consent", "consented"}
CONSENT_NO = {"n", "no", "false", "0", "refused", "withdrawn", "none", "declined"}
MAX_ROWS = 100_000  # far beyond any school; a bigger file is the wrong file


@dataclass(frozen=True)
class RosterRecord:
    """One name form of one person: ``form_key`` is ``"<form>:<hmac hex>"``."""

    form_key: str
    person: RosterPerson


def name_key(name: str) -> str:
    """The normalised form of a name that gets hashed: folded, letters only, one space between words."""
    words = re.findall(r"[a-z]+(?:['\u2019-][a-z]+)*", fold(name))
    return " ".join(re.sub(r"[^a-z]", "", w) for w in words)


def read_roster_csv(path: Path, kind: str, key: bytes) -> list[RosterRecord]:
    """Read a pupil or staff CSV export into hashed name-form records (raises ValueError on bad files)."""
    kind = {"pupils": "pupil", "pupil": "pupil", "staff": "staff"}.get(kind, "")
    if not kind:
        raise ValueError("roster kind must be 'pupils' or 'staff'")
    if not key:
        raise ValueError("a roster hashing key is required")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")  # Excel on Windows saves "ANSI" CSVs
    if "\x00" in text:
        raise ValueError(f"{path.name} is not a CSV text file")
    rows = csv.reader(io.StringIO(text, newline=""))
    header = next(rows, None)
    if header is None:
        raise ValueError(f"{path.name} is empty")
    columns = _columns(header)
    if "full" not in columns and not ("first" in columns and "surname" in columns):
        raise ValueError(
            f"{path.name} has no name columns: expected 'Forename' and 'Surname' (or 'First name' and "
            "'Last name', or a single 'Name' column) in the first row"
        )
    index = RosterIndex(key=key)
    records: list[RosterRecord] = []
    for number, row in enumerate(rows, start=2):
        if number > MAX_ROWS:
            raise ValueError(f"{path.name} has more than {MAX_ROWS} rows: is this the right file?")
        if not any(cell.strip() for cell in row):
            continue
        records.extend(_records(row, columns, kind, index, number))
    return records


def _columns(header: list[str]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for i, cell in enumerate(header):
        label = re.sub(r"[^a-z0-9]", "", cell.lower())
        for field, names in HEADERS.items():
            if field not in columns and label in {re.sub(r"[^a-z0-9]", "", n) for n in names}:
                columns[field] = i
    return columns


def _cell(row: list[str], columns: dict[str, int], field: str) -> str:
    i = columns.get(field)
    return row[i].strip() if i is not None and i < len(row) else ""


def _records(row: list[str], columns: dict[str, int], kind: str, index: RosterIndex, number: int) -> list[RosterRecord]:
    first, surname = name_key(_cell(row, columns, "first")), name_key(_cell(row, columns, "surname"))
    if not (first and surname):
        first, surname = _split_full(_cell(row, columns, "full"))
    if not first:
        return []
    mis_id = _cell(row, columns, "id") or f"row:{number}:{first} {surname}"
    ref = hmac.new(index.key, f"ref:{kind}:{mis_id}".encode(), hashlib.sha256).hexdigest()[:24]
    title = name_key(_cell(row, columns, "title"))
    person = RosterPerson(
        ref=ref,
        kind=kind,
        year_group=_cell(row, columns, "year"),
        photo_consent=_consent(_cell(row, columns, "consent")),
        role=_cell(row, columns, "role") or _cell(row, columns, "title"),
    )
    preferred = name_key(_cell(row, columns, "preferred"))
    surname = name_key(_cell(row, columns, "preferred_surname")) or surname
    forms: dict[str, str] = {"first": first}
    if surname:
        forms["full"] = f"{first} {surname}"
        forms["surname"] = surname
    if preferred and preferred != first:
        forms["preferred"] = preferred
        if surname:
            forms["preferred_full"] = f"{preferred} {surname}"
    if kind == "staff" and title and surname:
        forms["titled"] = f"{title} {surname}"
    return [RosterRecord(f"{form}:{index.digest(value)}", person) for form, value in forms.items()]


def _split_full(full: str) -> tuple[str, str]:
    if "," in full:  # "Thornton, Ava" is how many MIS exports write names
        surname, _, first = full.partition(",")
        first_key, surname_key = name_key(first), name_key(surname)
    else:
        words = name_key(full).split()
        first_key, surname_key = (words[0], words[-1]) if len(words) > 1 else (" ".join(words), "")
    return first_key.split(" ")[0] if first_key else "", surname_key


def _consent(value: str) -> bool | None:
    value = value.strip().lower()
    if value in CONSENT_YES:
        return True
    if value in CONSENT_NO:
        return False
    return None
