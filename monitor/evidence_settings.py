"""Settings of the evidence lifecycle: the ``[lifecycle]``, ``[retention]`` and ``[report]`` tables.

Read by :func:`monitor.config.parse_settings` with the rest of the file, so ``hallmon
check-config`` reports a mistyped digest time or an unknown time zone before the daemon starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from monitor.domain import Severity

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class LifecycleSettings:
    escalate_after: timedelta = timedelta(hours=4)
    escalate_severities: tuple[Severity, ...] = (Severity.CRITICAL, Severity.HIGH)
    max_escalations: int = 3
    escalate_to: tuple[str, ...] = ()  # the DSL and deputy DSL
    digest_time: time = time(7, 30)
    digest_recipients: tuple[str, ...] = ()  # the headteacher
    timezone: str = "Europe/London"
    check_every_minutes: int = 15


@dataclass(frozen=True)
class RetentionSettings:
    no_finding_days: int = 30
    finding_days: int = 90
    resolved_days: int = 365
    x_deleted_hours: int = 12
    purge_every_minutes: int = 60


@dataclass(frozen=True)
class ReportSettings:
    day: str = "mon"
    time: time = time(7, 0)
    recipients: tuple[str, ...] = ()  # the listed ones, else the headteacher
    out_dir: Path | None = None
    # Only the addresses listed in [report]: IT hears about a broken account from these, and
    # nobody (but the log) when none are listed, never the headteacher by default.
    it_recipients: tuple[str, ...] = ()


@dataclass(frozen=True)
class EvidenceConfig:
    lifecycle: LifecycleSettings = field(default_factory=LifecycleSettings)
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    report: ReportSettings = field(default_factory=ReportSettings)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.lifecycle.timezone)


class _Tables:
    """Typed reads from the raw TOML tables, collecting located problems."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.problems: list[str] = []

    def table(self, name: str) -> dict[str, Any]:
        value = self.data.get(name, {})
        if not isinstance(value, dict):
            self.problems.append(f"[{name}] must be a table")
            return {}
        return value

    def number(self, table: dict[str, Any], where: str, key: str, default: int, low: int, high: int) -> int:
        value = table.get(key, default)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            self.problems.append(f"[{where}] '{key}' must be a whole number from {low} to {high} (got {value!r})")
            return default
        return value

    def emails(self, table: dict[str, Any], where: str, key: str) -> tuple[str, ...]:
        value = table.get(key, [])
        value = [value] if isinstance(value, str) else value
        if not isinstance(value, list) or not all(
            isinstance(v, str) and "@" in v and not any(c in v for c in "\r\n <>,") for v in value
        ):
            self.problems.append(f"[{where}] '{key}' must be a list of email addresses")
            return ()
        return tuple(value)

    def clock_time(self, table: dict[str, Any], where: str, key: str, default: time) -> time:
        value = table.get(key)
        if value is None:
            return default
        if isinstance(value, time):
            return value
        try:
            hours, minutes = str(value).split(":")
            return time(int(hours), int(minutes))
        except ValueError:
            self.problems.append(f"[{where}] '{key}' must be a time of day such as \"07:30\" (got {value!r})")
            return default


def parse_evidence_settings(
    data: dict[str, Any], config_dir: Path, headteacher: tuple[str, ...]
) -> tuple[EvidenceConfig, list[str]]:
    """Read ``[lifecycle]``, ``[retention]`` and ``[report]``: the settings, and every problem found.

    ``headteacher`` receives the digest and the weekly report unless other addresses are listed."""
    t = _Tables(data)
    lt, rt, pt = t.table("lifecycle"), t.table("retention"), t.table("report")
    severities: list[Severity] = []
    for name in lt.get("escalate_severities", ["critical", "high"]):
        try:
            severities.append(Severity(str(name)))
        except ValueError:
            t.problems.append(f"[lifecycle] 'escalate_severities': '{name}' is not low, medium, high or critical")
    zone = str(lt.get("timezone", "Europe/London"))
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        t.problems.append(f"[lifecycle] 'timezone': '{zone}' is not a known time zone")
        zone = "Europe/London"
    head = headteacher
    lifecycle = LifecycleSettings(
        escalate_after=timedelta(hours=t.number(lt, "lifecycle", "escalate_after_hours", 4, 1, 24 * 14)),
        escalate_severities=tuple(severities),
        max_escalations=t.number(lt, "lifecycle", "max_escalations", 3, 1, 100),
        escalate_to=t.emails(lt, "lifecycle", "dsl") + t.emails(lt, "lifecycle", "deputy_dsl"),
        digest_time=t.clock_time(lt, "lifecycle", "digest_time", time(7, 30)),
        digest_recipients=t.emails(lt, "lifecycle", "digest_recipients") or head,
        timezone=zone,
        check_every_minutes=t.number(lt, "lifecycle", "check_every_minutes", 15, 1, 24 * 60),
    )
    retention = RetentionSettings(
        no_finding_days=t.number(rt, "retention", "no_finding_days", 30, 1, 3650),
        finding_days=t.number(rt, "retention", "finding_days", 90, 1, 3650),
        resolved_days=t.number(rt, "retention", "resolved_days", 365, 1, 36500),
        # X's terms allow at most 24 hours after deletion; the hourly purge needs an hour's margin.
        x_deleted_hours=t.number(rt, "retention", "x_deleted_hours", 12, 0, 23),
        purge_every_minutes=t.number(rt, "retention", "purge_every_minutes", 60, 5, 60),
    )
    day = str(pt.get("day", "mon")).lower()[:3]
    if day not in DAYS:
        t.problems.append(f"[report] 'day' must be a day of the week such as \"mon\" (got {pt.get('day')!r})")
        day = "mon"
    out_dir = pt.get("out_dir")
    listed = t.emails(pt, "report", "recipients")
    report = ReportSettings(
        day=day,
        time=t.clock_time(pt, "report", "time", time(7, 0)),
        recipients=listed or head,
        out_dir=(config_dir / str(out_dir)).resolve() if out_dir else None,
        it_recipients=listed,
    )
    return EvidenceConfig(lifecycle, retention, report), t.problems
