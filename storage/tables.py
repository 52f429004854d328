"""Database tables (SQLAlchemy 2 ORM). Only the storage package imports SQLAlchemy.

Schema changes go through Alembic migrations in ``storage/migrations``; the daemon upgrades the
schema on start.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


UtcDateTime = DateTime(timezone=True)


class AccountRow(Base):
    """Configured accounts, their cursor and their health (shown by ``hallmon status``)."""

    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)
    platform: Mapped[str] = mapped_column(String(50))
    handle: Mapped[str] = mapped_column(String(250))
    cursor: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(30), default="new")
    last_poll_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error_class: Mapped[str | None] = mapped_column(String(50))
    last_error_message: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    paused_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    polls_ok: Mapped[int] = mapped_column(Integer, default=0)
    polls_failed: Mapped[int] = mapped_column(Integer, default=0)


class PollLogRow(Base):
    """One row per poll: outcome, error class, duration and cost (for the weekly report)."""

    __tablename__ = "poll_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_key: Mapped[str] = mapped_column(String(300), index=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str] = mapped_column(String(50))  # ok | <error kind>
    error_message: Mapped[str | None] = mapped_column(Text)
    items_new: Mapped[int] = mapped_column(Integer, default=0)
    api_calls: Mapped[int] = mapped_column(Integer, default=0)
    quota_units: Mapped[int] = mapped_column(Integer, default=0)
    billed_reads: Mapped[int] = mapped_column(Integer, default=0)


class UsageRow(Base):
    """Per-account, per-UTC-day platform usage ledger (quota units, billed reads)."""

    __tablename__ = "usage_ledger"
    __table_args__ = (UniqueConstraint("account_key", "day"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_key: Mapped[str] = mapped_column(String(300))
    day: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD (UTC)
    api_calls: Mapped[int] = mapped_column(Integer, default=0)
    quota_units: Mapped[int] = mapped_column(Integer, default=0)
    billed_reads: Mapped[int] = mapped_column(Integer, default=0)


class BlobRow(Base):
    """A file in the content-addressed evidence store, with where and when it was captured."""

    __tablename__ = "evidence_blobs"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(200))
    source_url: Mapped[str] = mapped_column(Text, default="")
    captured_at: Mapped[datetime] = mapped_column(UtcDateTime)
    http_status: Mapped[int] = mapped_column(Integer, default=200)
    purged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ItemRow(Base):
    """One revision of a post, comment or reply. An edit is a new row with revision + 1."""

    __tablename__ = "items"
    __table_args__ = (
        UniqueConstraint("platform", "account_key", "external_id", "revision"),
        Index("ix_items_current", "platform", "account_key", "external_id", "is_current"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(50))
    account_key: Mapped[str] = mapped_column(String(300))
    external_id: Mapped[str] = mapped_column(String(300))
    revision: Mapped[int] = mapped_column(Integer, default=1)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(500), default="")
    author_is_school: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    edited_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    permalink: Mapped[str] = mapped_column(Text, default="")
    parent_external_id: Mapped[str | None] = mapped_column(String(300))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    content_hash: Mapped[str] = mapped_column(String(64))
    raw_sha256: Mapped[str | None] = mapped_column(ForeignKey("evidence_blobs.sha256"))
    captured_at: Mapped[datetime] = mapped_column(UtcDateTime)
    scanned_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class MediaRow(Base):
    __tablename__ = "media"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(20))
    url: Mapped[str] = mapped_column(Text, default="")
    external_id: Mapped[str] = mapped_column(String(300), default="")
    alt_text: Mapped[str] = mapped_column(Text, default="")
    sha256: Mapped[str | None] = mapped_column(ForeignKey("evidence_blobs.sha256"))
    download_error: Mapped[str | None] = mapped_column(Text)


class MediaAnalysisRow(Base):
    """Faces, OCR, hashes and metadata of one file, computed once and reused by every detector."""

    __tablename__ = "media_analysis"
    __table_args__ = (UniqueConstraint("sha256", "analyser_version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    analyser_version: Mapped[str] = mapped_column(String(100))
    analysis: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class FindingRow(Base):
    __tablename__ = "findings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    clause: Mapped[str] = mapped_column(String(20))
    category: Mapped[str] = mapped_column(String(100))
    severity: Mapped[str] = mapped_column(String(20))
    confidence: Mapped[float] = mapped_column(Float)
    detector: Mapped[str] = mapped_column(String(100))
    detector_version: Mapped[str] = mapped_column(String(50))
    explanation: Mapped[str] = mapped_column(Text)
    spans: Mapped[list[Any]] = mapped_column(JSON, default=list)
    regions: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class DetectorErrorRow(Base):
    """A detector that crashed on an item: recorded, while the other detectors still ran."""

    __tablename__ = "detector_errors"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    detector: Mapped[str] = mapped_column(String(100))
    error: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AlertRow(Base):
    """The outbox: at most one alert per finding (unique), delivered by the sender."""

    __tablename__ = "alerts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    finding_id: Mapped[int] = mapped_column(
        ForeignKey("findings.id", ondelete="CASCADE"), unique=True
    )
    message_id: Mapped[str] = mapped_column(String(300), unique=True)
    severity: Mapped[str] = mapped_column(String(20))
    route: Mapped[str] = mapped_column(String(20), default="immediate")  # immediate | digest
    status: Mapped[str] = mapped_column(String(20), index=True)
    state: Mapped[str] = mapped_column(String(30), default="open")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    sending_since: Mapped[datetime | None] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    state_changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    state_changed_by: Mapped[str | None] = mapped_column(String(200))
    state_note: Mapped[str | None] = mapped_column(Text)


class RosterRow(Base):
    """A keyed hash of one normalised name form; plaintext names are never stored."""

    __tablename__ = "roster"
    __table_args__ = (Index("ix_roster_kind_form", "kind", "form_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # pupil | staff
    form_key: Mapped[str] = mapped_column(String(100))
    person_ref: Mapped[str] = mapped_column(String(100))
    year_group: Mapped[str] = mapped_column(String(50), default="")
    photo_consent: Mapped[bool | None] = mapped_column(Boolean)
    role: Mapped[str] = mapped_column(String(100), default="")


class KnownMediaRow(Base):
    """The media register: the school's own library (allowlist) and known third-party media."""

    __tablename__ = "known_media"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    own: Mapped[bool] = mapped_column(Boolean)
    label: Mapped[str] = mapped_column(String(300), default="")
    hashes: Mapped[dict[str, Any]] = mapped_column(JSON)
    registered_at: Mapped[datetime] = mapped_column(UtcDateTime)
