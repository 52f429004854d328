"""The figures behind the weekly audit report, for one window of time, as plain dataclasses."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from monitor.domain import AlertState
from storage.lifecycle import AlertLifecycleRow
from storage.repository import utc
from storage.tables import AccountRow, AlertRow, FindingRow, ItemRow, PollLogRow, UsageRow


@dataclass(frozen=True)
class PlatformLine:
    platform: str
    accounts: int
    items_scanned: int
    items_removed: int


@dataclass(frozen=True)
class FindingCount:
    clause: str
    severity: str
    count: int


@dataclass(frozen=True)
class AlertFigures:
    opened: int
    opened_by_severity: tuple[tuple[str, int], ...]
    acknowledged: int
    resolved: int
    removed_from_platform: int
    outcomes: tuple[tuple[str, int], ...]
    ack_hours: tuple[float, ...]
    still_open: int

    @property
    def false_positive_rate(self) -> float | None:
        resolved = sum(count for _, count in self.outcomes)
        if not resolved:
            return None
        return dict(self.outcomes).get("false-positive", 0) / resolved


@dataclass(frozen=True)
class AccountHealth:
    account_key: str
    status: str
    polls_ok: int
    polls_failed: int
    errors: tuple[tuple[str, int], ...]
    rate_limited: int
    api_calls: int
    quota_units: int
    billed_reads: int


@dataclass(frozen=True)
class DayPolls:
    day: str
    ok: int
    failed: int


@dataclass(frozen=True)
class WeekFigures:
    platforms: tuple[PlatformLine, ...]
    findings: tuple[FindingCount, ...]
    alerts: AlertFigures
    health: tuple[AccountHealth, ...]
    days: tuple[DayPolls, ...]
    detectors_seen: tuple[str, ...]


def week_figures(session: Session, start: datetime, end: datetime) -> WeekFigures:
    """Everything the report counts between ``start`` (inclusive) and ``end`` (exclusive), UTC."""

    def within(column: InstrumentedAttribute[Any]) -> ColumnElement[bool]:
        return (column >= start) & (column < end)

    accounts = dict(session.execute(select(AccountRow.platform, func.count()).group_by(AccountRow.platform)).all())
    scanned = dict(session.execute(select(ItemRow.platform, func.count()).where(within(ItemRow.scanned_at)).group_by(ItemRow.platform)).all())
    removed = dict(session.execute(select(ItemRow.platform, func.count()).where(within(ItemRow.deleted_at)).group_by(ItemRow.platform)).all())
    platforms = tuple(
        PlatformLine(p, int(accounts.get(p, 0)), int(scanned.get(p, 0)), int(removed.get(p, 0)))
        for p in sorted(set(accounts) | set(scanned) | set(removed))
    )
    findings = tuple(
        FindingCount(clause, severity, int(count))
        for clause, severity, count in session.execute(
            select(FindingRow.clause, FindingRow.severity, func.count())
            .where(within(FindingRow.created_at))
            .group_by(FindingRow.clause, FindingRow.severity)
            .order_by(FindingRow.clause, FindingRow.severity)
        ).all()
    )
    detectors = tuple(
        f"{name}@{ver}"
        for name, ver in session.execute(
            select(FindingRow.detector, FindingRow.detector_version)
            .where(within(FindingRow.created_at))
            .distinct()
            .order_by(FindingRow.detector, FindingRow.detector_version)
        ).all()
    )
    return WeekFigures(platforms, findings, _alerts(session, start, end), _health(session, start, end), _days(session, start, end), detectors)


def _alerts(session: Session, start: datetime, end: datetime) -> AlertFigures:
    opened = session.execute(
        select(AlertRow.severity, func.count()).where(AlertRow.created_at >= start, AlertRow.created_at < end).group_by(AlertRow.severity)
    ).all()
    acked = session.execute(
        select(AlertLifecycleRow.acknowledged_at, AlertRow.created_at)
        .join(AlertRow, AlertRow.id == AlertLifecycleRow.alert_id)
        .where(AlertLifecycleRow.acknowledged_at >= start, AlertLifecycleRow.acknowledged_at < end)
    ).all()
    outcomes = session.execute(
        select(AlertLifecycleRow.outcome, func.count())
        .where(AlertLifecycleRow.resolved_at >= start, AlertLifecycleRow.resolved_at < end)
        .group_by(AlertLifecycleRow.outcome)
    ).all()
    removed = session.scalar(
        select(func.count()).select_from(AlertRow).where(
            AlertRow.state == AlertState.REMOVED_FROM_PLATFORM.value, AlertRow.state_changed_at >= start, AlertRow.state_changed_at < end
        )
    )
    still_open = session.scalar(
        select(func.count()).select_from(AlertRow).where(AlertRow.state == AlertState.OPEN.value, AlertRow.created_at < end)
    )
    hours = tuple(sorted(round((utc(a) - utc(c)).total_seconds() / 3600, 2) for a, c in acked if a is not None))
    return AlertFigures(
        opened=sum(int(n) for _, n in opened),
        opened_by_severity=tuple(sorted((str(s), int(n)) for s, n in opened)),
        acknowledged=len(hours),
        resolved=sum(int(n) for _, n in outcomes),
        removed_from_platform=int(removed or 0),
        outcomes=tuple(sorted((str(o), int(n)) for o, n in outcomes)),
        ack_hours=hours,
        still_open=int(still_open or 0),
    )


def _health(session: Session, start: datetime, end: datetime) -> tuple[AccountHealth, ...]:
    statuses = dict(session.execute(select(AccountRow.key, AccountRow.status)).all())
    outcomes: dict[str, Counter[str]] = defaultdict(Counter)
    for key, outcome, count in session.execute(
        select(PollLogRow.account_key, PollLogRow.outcome, func.count())
        .where(PollLogRow.started_at >= start, PollLogRow.started_at < end)
        .group_by(PollLogRow.account_key, PollLogRow.outcome)
    ).all():
        outcomes[key][outcome] += int(count)
    first, last = start.strftime("%Y-%m-%d"), (end - timedelta(microseconds=1)).strftime("%Y-%m-%d")
    usage = {
        key: (int(a or 0), int(q or 0), int(b or 0))
        for key, a, q, b in session.execute(
            select(UsageRow.account_key, func.sum(UsageRow.api_calls), func.sum(UsageRow.quota_units), func.sum(UsageRow.billed_reads))
            .where(UsageRow.day >= first, UsageRow.day <= last)
            .group_by(UsageRow.account_key)
        ).all()
    }
    lines = []
    for key in sorted(set(statuses) | set(outcomes)):
        counts = outcomes.get(key, Counter())
        errors = tuple(sorted((kind, n) for kind, n in counts.items() if kind != "ok"))
        api, quota, billed = usage.get(key, (0, 0, 0))
        lines.append(
            AccountHealth(
                account_key=key,
                status=str(statuses.get(key, "unknown")),
                polls_ok=counts.get("ok", 0),
                polls_failed=sum(n for _, n in errors),
                errors=errors,
                rate_limited=counts.get("rate_limited", 0),
                api_calls=api,
                quota_units=quota,
                billed_reads=billed,
            )
        )
    return tuple(lines)


def _days(session: Session, start: datetime, end: datetime) -> tuple[DayPolls, ...]:
    """Polls per day of the window (days counted from ``start``, which is local midnight)."""
    count = max(1, round((end - start).total_seconds() / 86400))
    ok, failed = [0] * count, [0] * count
    for started_at, outcome in session.execute(
        select(PollLogRow.started_at, PollLogRow.outcome).where(PollLogRow.started_at >= start, PollLogRow.started_at < end)
    ).all():
        index = min(count - 1, int((utc(started_at) - start).total_seconds() // 86400))
        if outcome == "ok":
            ok[index] += 1
        else:
            failed[index] += 1
    # Label at midday: a window that starts at local midnight in summer time starts at 23:00 UTC.
    return tuple(DayPolls((start + timedelta(days=i, hours=12)).strftime("%a %d"), ok[i], failed[i]) for i in range(count))
