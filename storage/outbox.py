"""The alert outbox: alerts are created in the same transaction as their findings and delivered
by the sender, which claims one alert at a time so that two senders never send the same one.

Delivery states: queued -> sending -> sent. A failed attempt goes back to queued with a later
``next_attempt_at`` (exponential backoff). An alert found in ``sending`` after a crash is sent
again with the *same* Message-ID, so mail systems treat the repeat as the same message.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from monitor.domain import Alert, AlertState, AlertStatus, Severity, StoredFinding
from storage.repository import Repository, as_utc, utc
from storage.tables import AlertRow, FindingRow, ItemRow

BACKOFF_START = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)
# A 'sending' claim older than this was left by a process that died mid-send.
STALE_SENDING = timedelta(minutes=5)


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, ... capped at one hour."""
    delay = BACKOFF_START * (1 << min(20, max(0, attempts - 1)))
    return min(delay, BACKOFF_CAP)


def message_id_for(finding: StoredFinding, item_key: str, domain: str) -> str:
    token = hashlib.sha256(f"{finding.id}:{item_key}:{finding.finding.category}".encode()).hexdigest()[:16]
    return f"<hallmon.finding-{finding.id}.{token}@{domain}>"


@dataclass(frozen=True)
class AlertSummary:
    id: int
    severity: Severity
    clause: str
    category: str
    status: AlertStatus
    state: AlertState
    created_at: datetime
    account_key: str
    attempts: int


class Outbox:
    def __init__(self, session: Session, repository: Repository) -> None:
        self.session = session
        self.repository = repository

    def enqueue(
        self,
        findings: Sequence[StoredFinding],
        item_key: str,
        threshold: Severity,
        now: datetime,
        domain: str,
    ) -> list[int]:
        """Queue an alert for every finding at or above ``threshold``; returns the alert ids."""
        ids: list[int] = []
        for stored in findings:
            if not stored.finding.severity.at_least(threshold):
                continue
            existing = self.session.scalar(select(AlertRow.id).where(AlertRow.finding_id == stored.id))
            if existing is not None:
                ids.append(existing)
                continue
            row = AlertRow(
                finding_id=stored.id,
                message_id=message_id_for(stored, item_key, domain),
                severity=str(stored.finding.severity),
                route="immediate",
                status=AlertStatus.QUEUED.value,
                state=AlertState.OPEN.value,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
            self.session.add(row)
            self.session.flush()
            ids.append(row.id)
        return ids

    def due(self, now: datetime, limit: int = 50) -> list[int]:
        stale = now - STALE_SENDING
        rows = self.session.scalars(
            select(AlertRow.id)
            .where(
                or_(
                    (AlertRow.status.in_([AlertStatus.QUEUED.value, AlertStatus.FAILED.value]))
                    & ((AlertRow.next_attempt_at.is_(None)) | (AlertRow.next_attempt_at <= now)),
                    (AlertRow.status == AlertStatus.SENDING.value) & (AlertRow.sending_since <= stale),
                )
            )
            .order_by(AlertRow.id)
            .limit(limit)
        ).all()
        return list(rows)

    def recover_interrupted(self, now: datetime) -> int:
        """At start-up no send can be in flight: make every 'sending' claim due at once."""
        result = self.session.execute(
            update(AlertRow)
            .where(AlertRow.status == AlertStatus.SENDING.value)
            .values(status=AlertStatus.QUEUED.value, next_attempt_at=now, sending_since=None)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def claim(self, alert_id: int, now: datetime) -> bool:
        """Atomically move one due alert to 'sending'; False if another sender got it first."""
        stale = now - STALE_SENDING
        result = self.session.execute(
            update(AlertRow)
            .where(
                AlertRow.id == alert_id,
                or_(
                    AlertRow.status.in_([AlertStatus.QUEUED.value, AlertStatus.FAILED.value]),
                    (AlertRow.status == AlertStatus.SENDING.value) & (AlertRow.sending_since <= stale),
                ),
            )
            .values(status=AlertStatus.SENDING.value, sending_since=now, attempts=AlertRow.attempts + 1)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def mark_sent(self, alert_id: int, now: datetime) -> None:
        self.session.execute(
            update(AlertRow)
            .where(AlertRow.id == alert_id)
            .values(status=AlertStatus.SENT.value, sent_at=now, sending_since=None, last_error=None)
        )

    def mark_failed(self, alert_id: int, now: datetime, error: str, permanent: bool) -> datetime:
        row = self.session.get(AlertRow, alert_id)
        if row is None:
            raise KeyError(f"no alert {alert_id}")
        retry_at = now + backoff(row.attempts)
        row.status = AlertStatus.FAILED.value if permanent else AlertStatus.QUEUED.value
        row.next_attempt_at = retry_at
        row.sending_since = None
        row.last_error = error[:2000]
        return retry_at

    def load(self, alert_id: int) -> Alert:
        row = self.session.get(AlertRow, alert_id)
        if row is None:
            raise KeyError(f"no alert {alert_id}")
        finding = self.repository.finding(row.finding_id)
        item = self.repository.item(finding.item_id)
        return Alert(
            id=row.id,
            finding=finding,
            item=item,
            account=None,
            message_id=row.message_id,
            status=AlertStatus(row.status),
            state=AlertState(row.state),
            attempts=row.attempts,
            created_at=utc(row.created_at),
            next_attempt_at=as_utc(row.next_attempt_at),
            sent_at=as_utc(row.sent_at),
            last_error=row.last_error or "",
            media_files=tuple(m.local_path for m in item.item.media if m.local_path is not None),
        )

    def list(self, limit: int = 50, status: str | None = None) -> list[AlertSummary]:
        query = (
            select(AlertRow, FindingRow, ItemRow.account_key)
            .join(FindingRow, FindingRow.id == AlertRow.finding_id)
            .join(ItemRow, ItemRow.id == FindingRow.item_id)
            .order_by(AlertRow.id.desc())
            .limit(limit)
        )
        if status:
            query = query.where((AlertRow.status == status) | (AlertRow.state == status))
        summaries = []
        for alert, finding, account_key in self.session.execute(query).all():
            summaries.append(
                AlertSummary(
                    id=alert.id,
                    severity=Severity(alert.severity),
                    clause=finding.clause,
                    category=finding.category,
                    status=AlertStatus(alert.status),
                    state=AlertState(alert.state),
                    created_at=utc(alert.created_at),
                    account_key=account_key,
                    attempts=alert.attempts,
                )
            )
        return summaries
