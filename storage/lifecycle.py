"""Alert lifecycle, legal holds, digests and retention: tables and the queries behind them.

The alert's headline ``state`` lives on the ``alerts`` row (open, acknowledged, resolved,
removed_from_platform); who acknowledged or resolved it, when, why and how often it was
escalated live here, beside the legal holds and the record of what each digest contained.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, Select, String, Text, UniqueConstraint, delete, exists, select
from sqlalchemy.orm import Mapped, Session, aliased, mapped_column

from monitor.domain import AlertState, Severity
from storage.repository import as_utc, utc
from storage.tables import AlertRow, Base, FindingRow, ItemRow, UtcDateTime


class AlertLifecycleRow(Base):
    __tablename__ = "alert_lifecycle"
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))
    ack_note: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(200))
    outcome: Mapped[str | None] = mapped_column(String(30))
    resolve_note: Mapped[str | None] = mapped_column(Text)
    escalations: Mapped[int] = mapped_column(Integer, default=0)
    escalated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class LegalHoldRow(Base):
    """Evidence of one item kept beyond retention, for a recorded reason, until lifted."""

    __tablename__ = "legal_holds"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    alert_id: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    placed_by: Mapped[str] = mapped_column(String(200))
    placed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    lifted_by: Mapped[str | None] = mapped_column(String(200))
    lifted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    lift_note: Mapped[str | None] = mapped_column(Text)


class DigestEntryRow(Base):
    """What a daily digest has already told the headteacher, so nothing is told twice."""

    __tablename__ = "digest_entries"
    __table_args__ = (UniqueConstraint("kind", "subject_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # finding | removal
    subject_id: Mapped[int] = mapped_column(Integer)
    digest: Mapped[str] = mapped_column(String(100))
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ItemPurgeRow(Base):
    """An item whose captured content was purged under the retention rules."""

    __tablename__ = "item_purges"
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), primary_key=True)
    purged_at: Mapped[datetime] = mapped_column(UtcDateTime)
    rule: Mapped[str] = mapped_column(String(40))


class LifecycleError(Exception):
    """A lifecycle change that cannot be made (unknown alert, wrong state); says why."""


@dataclass(frozen=True)
class Transition:
    alert_id: int
    item_id: int
    before: AlertState
    after: AlertState
    at: datetime


@dataclass(frozen=True)
class EscalationDue:
    alert_id: int
    severity: Severity
    created_at: datetime
    escalations: int


class LifecycleStore:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _alert(self, alert_id: int) -> tuple[AlertRow, AlertLifecycleRow, int]:
        alert = self.session.get(AlertRow, alert_id, with_for_update=self._for_update())
        if alert is None:
            raise LifecycleError(f"There is no alert {alert_id}. `hallmon alerts list` shows the alerts there are.")
        life = self.session.get(AlertLifecycleRow, alert_id)
        if life is None:
            life = AlertLifecycleRow(alert_id=alert_id, escalations=0)
            self.session.add(life)
        item_id = self.session.scalar(select(FindingRow.item_id).where(FindingRow.id == alert.finding_id))
        return alert, life, int(item_id or 0)

    def _for_update(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"

    def acknowledge(self, alert_id: int, by: str, note: str, now: datetime) -> Transition:
        alert, life, item_id = self._alert(alert_id)
        before = AlertState(alert.state)
        if before not in (AlertState.OPEN, AlertState.REMOVED_FROM_PLATFORM):
            who = life.acknowledged_by or life.resolved_by or alert.state_changed_by or "someone"
            raise LifecycleError(f"Alert {alert_id} is already {before.value.replace('_', ' ')} (by {who}); nothing to do.")
        life.acknowledged_at, life.acknowledged_by, life.ack_note = now, by, note or None
        if before == AlertState.OPEN:
            alert.state = AlertState.ACKNOWLEDGED.value
        alert.state_changed_at, alert.state_changed_by, alert.state_note = now, by, note or None
        return Transition(alert_id, item_id, before, AlertState(alert.state), now)

    def resolve(self, alert_id: int, by: str, outcome: str, note: str, now: datetime) -> Transition:
        alert, life, item_id = self._alert(alert_id)
        before = AlertState(alert.state)
        if before == AlertState.RESOLVED:
            raise LifecycleError(f"Alert {alert_id} was already resolved by {life.resolved_by} ({life.outcome}).")
        life.resolved_at, life.resolved_by, life.outcome, life.resolve_note = now, by, outcome, note or None
        alert.state = AlertState.RESOLVED.value
        alert.state_changed_at, alert.state_changed_by, alert.state_note = now, by, note or None
        return Transition(alert_id, item_id, before, AlertState.RESOLVED, now)

    # --- escalation ---

    def due_escalations(self, cutoff: datetime, severities: Sequence[Severity], max_escalations: int) -> list[EscalationDue]:
        """Open alerts of these severities created before ``cutoff`` and escalated fewer times."""
        rows = self.session.execute(
            select(AlertRow.id, AlertRow.severity, AlertRow.created_at, AlertLifecycleRow.escalations, AlertLifecycleRow.escalated_at)
            .outerjoin(AlertLifecycleRow, AlertLifecycleRow.alert_id == AlertRow.id)
            .where(AlertRow.state == AlertState.OPEN.value, AlertRow.severity.in_([str(s) for s in severities]))
            .where(AlertRow.created_at <= cutoff)
            .order_by(AlertRow.id)
        ).all()
        due = []
        for alert_id, severity, created_at, escalations, escalated_at in rows:
            count = int(escalations or 0)
            # A repeat escalation waits a full period after the previous one.
            if count >= max_escalations or (escalated_at is not None and utc(escalated_at) > cutoff):
                continue
            due.append(EscalationDue(alert_id, Severity(severity), utc(created_at), count))
        return due

    def mark_escalated(self, alert_id: int, now: datetime) -> int:
        life = self.session.get(AlertLifecycleRow, alert_id)
        if life is None:
            life = AlertLifecycleRow(alert_id=alert_id, escalations=0)
            self.session.add(life)
        life.escalations = (life.escalations or 0) + 1
        life.escalated_at = now
        return life.escalations

    def lifecycle(self, alert_id: int) -> AlertLifecycleRow | None:
        return self.session.get(AlertLifecycleRow, alert_id)

    # --- digests ---

    def undigested_findings(self, severities: Sequence[Severity], since: datetime) -> list[int]:
        """Findings of these severities not yet in a digest and not already emailed as an alert."""
        told = select(DigestEntryRow.subject_id).where(DigestEntryRow.kind == "finding")
        return list(
            self.session.scalars(
                select(FindingRow.id)
                .where(FindingRow.severity.in_([str(s) for s in severities]), FindingRow.created_at >= since)
                .where(FindingRow.id.not_in(told), FindingRow.id.not_in(select(AlertRow.finding_id)))
                .order_by(FindingRow.id)
            ).all()
        )

    def untold_removals(self) -> list[int]:
        """Alerts remediated by the platform item disappearing, not yet in a digest."""
        told = select(DigestEntryRow.subject_id).where(DigestEntryRow.kind == "removal")
        return list(
            self.session.scalars(
                select(AlertRow.id)
                .where(AlertRow.state == AlertState.REMOVED_FROM_PLATFORM.value, AlertRow.id.not_in(told))
                .order_by(AlertRow.id)
            ).all()
        )

    def mark_digested(self, kind: str, subject_ids: Sequence[int], digest: str, now: datetime) -> None:
        for subject_id in subject_ids:
            self.session.add(DigestEntryRow(kind=kind, subject_id=subject_id, digest=digest, sent_at=now))
        self.session.flush()

    # --- legal holds ---

    def place_hold(self, item_id: int, alert_id: int | None, reason: str, by: str, now: datetime) -> int:
        row = LegalHoldRow(item_id=item_id, alert_id=alert_id, reason=reason, placed_by=by, placed_at=now)
        self.session.add(row)
        self.session.flush()
        return row.id

    def lift_holds(self, item_id: int, by: str, note: str, now: datetime) -> list[int]:
        rows = self.session.scalars(
            select(LegalHoldRow).where(LegalHoldRow.item_id == item_id, LegalHoldRow.lifted_at.is_(None))
        ).all()
        for row in rows:
            row.lifted_at, row.lifted_by, row.lift_note = now, by, note or None
        return [row.id for row in rows]

    def held_item_ids(self) -> set[int]:
        return set(self.session.scalars(select(LegalHoldRow.item_id).where(LegalHoldRow.lifted_at.is_(None))).all())

    def active_holds(self, item_id: int) -> list[LegalHoldRow]:
        return list(
            self.session.scalars(
                select(LegalHoldRow).where(LegalHoldRow.item_id == item_id, LegalHoldRow.lifted_at.is_(None))
            ).all()
        )


def item_id_for_alert(session: Session, alert_id: int) -> int | None:
    return session.scalar(
        select(FindingRow.item_id).join(AlertRow, AlertRow.finding_id == FindingRow.id).where(AlertRow.id == alert_id)
    )


def deleted_at(session: Session, item_id: int) -> datetime | None:
    return as_utc(session.scalar(select(ItemRow.deleted_at).where(ItemRow.id == item_id)))


# --- retention ---


@dataclass(frozen=True)
class PurgeCandidate:
    item_id: int
    platform: str
    account_key: str
    external_id: str
    rule: str  # no_finding | finding_no_alert | alert_closed | x_deleted


@dataclass(frozen=True)
class PurgedItem:
    candidate: PurgeCandidate
    blobs: tuple[str, ...]


class RetentionStore:
    """Finds what the retention rules say must go, and redacts it in the database."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _base(self) -> Select[int, str, str, str]:
        purged = select(ItemPurgeRow.item_id)
        held = select(LegalHoldRow.item_id).where(LegalHoldRow.lifted_at.is_(None))
        return (
            select(ItemRow.id, ItemRow.platform, ItemRow.account_key, ItemRow.external_id)
            .where(ItemRow.id.not_in(purged), ItemRow.id.not_in(held))
            .order_by(ItemRow.id)
        )

    def candidates(
        self, now: datetime, no_finding_before: datetime, finding_before: datetime, closed_before: datetime, x_deleted_before: datetime
    ) -> list[PurgeCandidate]:
        found: dict[int, PurgeCandidate] = {}

        def collect(query: Select[int, str, str, str], rule: str) -> None:
            for item_id, platform, account_key, external_id in self.session.execute(query).all():
                found.setdefault(item_id, PurgeCandidate(item_id, platform, account_key, external_id, rule))

        with_findings = select(FindingRow.item_id)
        alerted = select(FindingRow.item_id).join(AlertRow, AlertRow.finding_id == FindingRow.id)
        # X's developer terms: content deleted on X goes, whatever it showed, unless held.
        collect(
            self._base().where(ItemRow.platform == "x", ItemRow.deleted_at.is_not(None), ItemRow.deleted_at <= x_deleted_before),
            "x_deleted",
        )
        # A post whose comment raised an alert is that alert's context: it stays while the comment does.
        child = aliased(ItemRow)
        context_of_alert = exists().where(
            child.platform == ItemRow.platform,
            child.account_key == ItemRow.account_key,
            child.parent_external_id == ItemRow.external_id,
            child.id.in_(alerted),
            child.id.not_in(select(ItemPurgeRow.item_id)),
        )
        collect(
            self._base().where(
                ItemRow.scanned_at.is_not(None), ItemRow.captured_at <= no_finding_before, ItemRow.id.not_in(with_findings), ~context_of_alert
            ),
            "no_finding",
        )
        collect(
            self._base().where(
                ItemRow.captured_at <= finding_before, ItemRow.id.in_(with_findings), ItemRow.id.not_in(alerted), ~context_of_alert
            ),
            "finding_no_alert",
        )
        # Alert evidence goes a set time after the last of the item's alerts was closed.
        still_open = (
            select(FindingRow.item_id)
            .join(AlertRow, AlertRow.finding_id == FindingRow.id)
            .where(
                (AlertRow.state.in_([AlertState.OPEN.value, AlertState.ACKNOWLEDGED.value]))
                | (AlertRow.state_changed_at.is_(None))
                | (AlertRow.state_changed_at > closed_before)
            )
        )
        collect(self._base().where(ItemRow.id.in_(alerted), ItemRow.id.not_in(still_open)), "alert_closed")
        return [found[key] for key in sorted(found)]

    def purge(self, candidates: Sequence[PurgeCandidate], now: datetime) -> list[PurgedItem]:
        """Redact the items and mark their blobs purged, keeping blobs other kept items still use."""
        from storage.tables import BlobRow, MediaAnalysisRow, MediaRow

        ids = [c.item_id for c in candidates]
        if not ids:
            return []
        blobs_of: dict[int, set[str]] = {i: set() for i in ids}
        for item_id, raw in self.session.execute(select(ItemRow.id, ItemRow.raw_sha256).where(ItemRow.id.in_(ids))).all():
            if raw:
                blobs_of[item_id].add(raw)
        for item_id, sha in self.session.execute(select(MediaRow.item_id, MediaRow.sha256).where(MediaRow.item_id.in_(ids))).all():
            if sha:
                blobs_of[item_id].add(sha)
        wanted = set().union(*blobs_of.values())
        purged_items = select(ItemPurgeRow.item_id)
        kept = ItemRow.id.not_in(ids) & ItemRow.id.not_in(purged_items)
        still_used = set(self.session.scalars(select(ItemRow.raw_sha256).where(kept, ItemRow.raw_sha256.in_(wanted))).all())
        still_used |= set(
            self.session.scalars(
                select(MediaRow.sha256).join(ItemRow, ItemRow.id == MediaRow.item_id).where(kept, MediaRow.sha256.in_(wanted))
            ).all()
        )
        doomed = wanted - still_used
        for sha in doomed:
            blob = self.session.get(BlobRow, sha)
            if blob is not None and blob.purged_at is None:
                blob.purged_at = now
        if doomed:
            self.session.execute(delete(MediaAnalysisRow).where(MediaAnalysisRow.sha256.in_(doomed)))
        for row in self.session.scalars(select(ItemRow).where(ItemRow.id.in_(ids))).all():
            row.text, row.author, row.attributes = "", "", {}
        for media in self.session.scalars(select(MediaRow).where(MediaRow.item_id.in_(ids))).all():
            media.alt_text = ""
        result = []
        for candidate in candidates:
            self.session.add(ItemPurgeRow(item_id=candidate.item_id, purged_at=now, rule=candidate.rule))
            result.append(PurgedItem(candidate, tuple(sorted(blobs_of[candidate.item_id] & doomed))))
        self.session.flush()
        return result

    def purged_blobs_on_disk(self) -> list[str]:
        from storage.tables import BlobRow

        return list(self.session.scalars(select(BlobRow.sha256).where(BlobRow.purged_at.is_not(None))).all())

    def is_purged(self, item_id: int) -> bool:
        return self.session.get(ItemPurgeRow, item_id) is not None
