"""School context held in the database: roster name hashes and the media register."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from detectors.base import KnownMedia, RosterIndex, RosterPerson
from storage.tables import KnownMediaRow, RosterRow


class SchoolStore:
    def __init__(self, session: Session) -> None:
        self.session = session

    def replace_roster(self, kind: str, records: Sequence[tuple[str, RosterPerson]]) -> int:
        """Replace the whole pupil or staff roster (an MIS export is a full snapshot)."""
        self.session.execute(delete(RosterRow).where(RosterRow.kind == kind))
        for form_key, person in records:
            self.session.add(
                RosterRow(
                    kind=kind,
                    form_key=form_key,
                    person_ref=person.ref,
                    year_group=person.year_group,
                    photo_consent=person.photo_consent,
                    role=person.role,
                )
            )
        self.session.flush()
        return len(records)

    def roster_size(self, kind: str) -> int:
        return int(
            self.session.scalar(
                select(func.count(func.distinct(RosterRow.person_ref))).where(RosterRow.kind == kind)
            )
            or 0
        )

    def roster_index(self, kind: str, key: bytes) -> RosterIndex:
        forms: dict[str, list[RosterPerson]] = defaultdict(list)
        for row in self.session.scalars(select(RosterRow).where(RosterRow.kind == kind)):
            person = RosterPerson(row.person_ref, row.kind, row.year_group, row.photo_consent, row.role)
            if person not in forms[row.form_key]:
                forms[row.form_key].append(person)
        return RosterIndex(key=key, forms={k: tuple(v) for k, v in forms.items()})

    def register_media(self, entry: KnownMedia, now: datetime) -> bool:
        """Add or update one register entry; True when it was new."""
        row = self.session.scalar(select(KnownMediaRow).where(KnownMediaRow.sha256 == entry.sha256))
        if row is None:
            self.session.add(
                KnownMediaRow(
                    sha256=entry.sha256, own=entry.own, label=entry.label, hashes=dict(entry.hashes), registered_at=now
                )
            )
            return True
        row.own, row.label, row.hashes = entry.own, entry.label, dict(entry.hashes)
        return False

    def known_media(self) -> tuple[KnownMedia, ...]:
        return tuple(
            KnownMedia(row.sha256, {str(k): str(v) for k, v in row.hashes.items()}, row.own, row.label)
            for row in self.session.scalars(select(KnownMediaRow).order_by(KnownMediaRow.id))
        )
