"""The custody log: an append-only, hash-chained record of everything done to the evidence.

Each entry holds the SHA-256 of the entry before it, so editing, deleting or re-ordering any
entry breaks the chain at that point and ``hallmon verify`` names it. ``seq`` is unique: two
writers that read the same tail cannot both append after it (the loser retries), so the chain
stays linear even across processes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Index, Integer, String, Text, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.tables import Base, UtcDateTime

GENESIS = "0" * 64
# Any fixed 64-bit number: the PostgreSQL advisory lock that serialises appends.
ADVISORY_LOCK_KEY = 0x6A11_C057_0D1E_0001 & 0x7FFF_FFFF_FFFF_FFFF


class CustodyRow(Base):
    __tablename__ = "custody_log"
    __table_args__ = (Index("ix_custody_log_subject", "subject_type", "subject_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    event: Mapped[str] = mapped_column(String(40), index=True)
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int] = mapped_column(Integer)
    # Canonical JSON text (not a JSON column) so the hashed bytes are exactly the stored bytes.
    details: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))


@dataclass(frozen=True)
class CustodyEntry:
    seq: int
    at: datetime
    actor: str
    event: str
    subject_type: str
    subject_id: int
    details: Mapping[str, Any]
    prev_hash: str
    entry_hash: str


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    problem: str


def canonical_json(details: Mapping[str, Any]) -> str:
    return json.dumps(details, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _utc_text(moment: datetime) -> str:
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def compute_hash(
    seq: int, at: datetime, actor: str, event: str, subject_type: str, subject_id: int, details: str, prev_hash: str
) -> str:
    """SHA-256 over every field of an entry, including the previous entry's hash."""
    basis = json.dumps(
        [seq, _utc_text(at), actor, event, subject_type, subject_id, details, prev_hash],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()


def _entry(row: CustodyRow) -> CustodyEntry:
    return CustodyEntry(
        seq=row.seq,
        at=row.at.replace(tzinfo=UTC) if row.at.tzinfo is None else row.at.astimezone(UTC),
        actor=row.actor,
        event=row.event,
        subject_type=row.subject_type,
        subject_id=row.subject_id,
        details=json.loads(row.details) if row.details else {},
        prev_hash=row.prev_hash,
        entry_hash=row.entry_hash,
    )


class CustodyLog:
    """Works inside the caller's session; the caller commits (one short transaction per append)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def lock(self) -> None:
        """Serialise appends between processes on PostgreSQL (released at commit/rollback)."""
        if self.session.get_bind().dialect.name == "postgresql":
            self.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})

    def tail(self) -> tuple[int, str]:
        row = self.session.execute(
            select(CustodyRow.seq, CustodyRow.entry_hash).order_by(CustodyRow.seq.desc()).limit(1)
        ).first()
        return (0, GENESIS) if row is None else (int(row[0]), str(row[1]))

    def append(
        self,
        event: str,
        subject_type: str,
        subject_id: int,
        details: Mapping[str, Any],
        actor: str,
        at: datetime,
    ) -> CustodyEntry:
        self.lock()
        last_seq, last_hash = self.tail()
        body = canonical_json(details)
        seq = last_seq + 1
        row = CustodyRow(
            seq=seq,
            at=at,
            actor=actor,
            event=event,
            subject_type=subject_type,
            subject_id=subject_id,
            details=body,
            prev_hash=last_hash,
            entry_hash=compute_hash(seq, at, actor, event, subject_type, subject_id, body, last_hash),
        )
        self.session.add(row)
        self.session.flush()
        return _entry(row)

    def entries(
        self, subject_type: str | None = None, subject_ids: list[int] | None = None, event: str | None = None
    ) -> list[CustodyEntry]:
        query = select(CustodyRow).order_by(CustodyRow.seq)
        if subject_type is not None:
            query = query.where(CustodyRow.subject_type == subject_type)
        if subject_ids is not None:
            query = query.where(CustodyRow.subject_id.in_(subject_ids))
        if event is not None:
            query = query.where(CustodyRow.event == event)
        return [_entry(row) for row in self.session.scalars(query).all()]

    def between(self, start: datetime, end: datetime) -> list[CustodyEntry]:
        rows = self.session.scalars(
            select(CustodyRow).where(CustodyRow.at >= start, CustodyRow.at < end).order_by(CustodyRow.seq)
        ).all()
        return [_entry(row) for row in rows]

    def verify(self) -> tuple[int, str, list[ChainProblem]]:
        """Re-hash the whole chain: (entries checked, head hash, problems found)."""
        problems: list[ChainProblem] = []
        expected_prev, expected_seq, count = GENESIS, 1, 0
        for row in self.session.scalars(select(CustodyRow).order_by(CustodyRow.seq)).yield_per(1000):
            count += 1
            if row.seq != expected_seq:
                problems.append(ChainProblem(row.seq, f"entries {expected_seq} to {row.seq - 1} are missing (deleted)"))
            if row.prev_hash != expected_prev:
                problems.append(ChainProblem(row.seq, "does not follow the entry before it (an entry was removed, inserted or edited)"))
            recomputed = compute_hash(
                row.seq, row.at, row.actor, row.event, row.subject_type, row.subject_id, row.details, row.prev_hash
            )
            if recomputed != row.entry_hash:
                problems.append(ChainProblem(row.seq, f"has been altered: its contents no longer match its hash ({row.event} {row.subject_type} {row.subject_id})"))
            expected_prev, expected_seq = row.entry_hash, row.seq + 1
        return count, expected_prev, problems


@dataclass(frozen=True)
class BlobRecord:
    sha256: str
    size: int
    source_url: str
    captured_at: datetime


def kept_blobs(session: Session) -> list[BlobRecord]:
    """Every evidence file that should be on disk (not purged under the retention rules)."""
    from storage.tables import BlobRow

    rows = session.execute(
        select(BlobRow.sha256, BlobRow.size, BlobRow.source_url, BlobRow.captured_at)
        .where(BlobRow.purged_at.is_(None))
        .order_by(BlobRow.captured_at, BlobRow.sha256)
    ).all()
    return [
        BlobRecord(sha, size, url or "", at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC))
        for sha, size, url, at in rows
    ]


@dataclass(frozen=True)
class BlobInfo:
    sha256: str
    size: int
    content_type: str
    source_url: str
    captured_at: datetime
    http_status: int
    purged_at: datetime | None


def blob_info(session: Session, sha256s: list[str]) -> dict[str, BlobInfo]:
    """Capture metadata of these evidence files (also purged ones, which say when)."""
    from storage.tables import BlobRow

    def aware(moment: datetime | None) -> datetime | None:
        if moment is None:
            return None
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)

    rows = session.scalars(select(BlobRow).where(BlobRow.sha256.in_(sha256s))).all()
    return {
        row.sha256: BlobInfo(
            row.sha256, row.size, row.content_type, row.source_url or "", aware(row.captured_at) or row.captured_at,
            row.http_status, aware(row.purged_at),
        )
        for row in rows
    }


def item_evidence_refs(session: Session) -> dict[int, tuple[str | None, tuple[str, ...]]]:
    """Each item's raw payload and media hashes as the database holds them now."""
    from storage.tables import ItemRow, MediaRow

    refs: dict[int, tuple[str | None, list[str]]] = {
        item_id: (raw, []) for item_id, raw in session.execute(select(ItemRow.id, ItemRow.raw_sha256)).all()
    }
    for item_id, sha in session.execute(select(MediaRow.item_id, MediaRow.sha256).order_by(MediaRow.item_id, MediaRow.position)).all():
        if sha and item_id in refs:
            refs[item_id][1].append(sha)
    return {item_id: (raw, tuple(media)) for item_id, (raw, media) in refs.items()}


def blob_purge_state(session: Session) -> dict[str, bool]:
    """Every recorded evidence file: True when it was purged under the retention rules."""
    from storage.tables import BlobRow

    return {sha: purged is not None for sha, purged in session.execute(select(BlobRow.sha256, BlobRow.purged_at)).all()}
