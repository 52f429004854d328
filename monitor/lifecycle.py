"""The alert lifecycle: open -> acknowledged -> resolved, and escalation of alerts nobody has
acknowledged in time.

Every change is committed first and then written to the custody log with the named user, so the
log always describes what the database holds. Settings come from the ``[lifecycle]``,
``[retention]`` and ``[report]`` tables of the config file (see docs/evidence.md).
"""

from __future__ import annotations

import html
import logging
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import time, timedelta
from email.message import EmailMessage
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from monitor.clock import Clock
from monitor.config import ConfigError, Settings
from monitor.custody import clean_actor
from monitor.domain import Alert, Severity
from monitor.email import Attachment, EmailSettings, compose_alert_email
from monitor.sender import AttachmentBuilder
from monitor.events import EventRecorder
from monitor.transports import Transport
from storage.database import Database
from storage.evidence import EvidenceStore
from storage.lifecycle import LifecycleError, LifecycleStore, Transition
from storage.outbox import Outbox
from storage.repository import Repository

log = logging.getLogger(__name__)
_BODY_TAG = re.compile(r"<body[^>]*>", re.IGNORECASE)

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Outcome(StrEnum):
    POST_REMOVED = "post-removed"
    FALSE_POSITIVE = "false-positive"
    ACTIONED = "actioned"


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
    recipients: tuple[str, ...] = ()
    out_dir: Path | None = None


@dataclass(frozen=True)
class EvidenceConfig:
    lifecycle: LifecycleSettings
    retention: RetentionSettings
    report: ReportSettings

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
        if not isinstance(value, list) or not all(isinstance(v, str) and "@" in v and not any(c in v for c in "\r\n <>,") for v in value):
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


def parse_evidence_config(settings: Settings, data: dict[str, Any]) -> EvidenceConfig:
    """Read ``[lifecycle]``, ``[retention]`` and ``[report]``; raises ConfigError listing problems."""
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
    head = settings.alerts.recipients or (settings.alerts.sender,)
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
    report = ReportSettings(
        day=day,
        time=t.clock_time(pt, "report", "time", time(7, 0)),
        recipients=t.emails(pt, "report", "recipients") or head,
        out_dir=(settings.path.parent / str(out_dir)).resolve() if out_dir else None,
    )
    if t.problems:
        raise ConfigError(settings.path, t.problems)
    return EvidenceConfig(lifecycle, retention, report)


def load_evidence_config(settings: Settings) -> EvidenceConfig:
    """The settings of this module, read from the raw config file (monitor.config ignores them)."""
    try:
        data = tomllib.loads(settings.path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(settings.path, [f"cannot read the file: {exc}"]) from exc
    return parse_evidence_config(settings, data)


# --- acknowledge and resolve ---


class AlertLifecycle:
    def __init__(self, database: Database, clock: Clock, events: EventRecorder) -> None:
        self.database = database
        self.clock = clock
        self.events = events

    def acknowledge(self, alert_id: int, by: str, note: str = "") -> Transition:
        """Mark an open alert acknowledged by a named person; raises LifecycleError."""
        actor = clean_actor(by)
        with self.database.sessions.begin() as session:
            change = LifecycleStore(session).acknowledge(alert_id, actor, note, self.clock())
        self.events.record("acknowledged", "alert", alert_id, {"from": change.before.value, "to": change.after.value, "note": note}, actor=actor)
        return change

    def resolve(self, alert_id: int, by: str, outcome: Outcome, note: str = "") -> Transition:
        """Close an alert with its outcome (post removed, false positive, actioned)."""
        actor = clean_actor(by)
        with self.database.sessions.begin() as session:
            change = LifecycleStore(session).resolve(alert_id, actor, outcome.value, note, self.clock())
        self.events.record(
            "resolved", "alert", alert_id, {"from": change.before.value, "outcome": outcome.value, "note": note}, actor=actor
        )
        return change


# --- escalation ---


@dataclass(frozen=True)
class EscalationOutcome:
    escalated: tuple[int, ...] = ()
    failed: tuple[int, ...] = ()


@dataclass
class Escalator:
    """Re-sends critical and high alerts nobody acknowledged in time, to the DSL and deputy too."""

    database: Database
    evidence: EvidenceStore
    transport: Transport
    email: EmailSettings
    settings: LifecycleSettings
    clock: Clock
    events: EventRecorder
    attachments: AttachmentBuilder

    def run(self) -> EscalationOutcome:
        now = self.clock()
        with self.database.sessions() as session:
            due = LifecycleStore(session).due_escalations(
                now - self.settings.escalate_after, self.settings.escalate_severities, self.settings.max_escalations
            )
        done: list[int] = []
        failed: list[int] = []
        for entry in due:
            try:
                self._escalate(entry.alert_id, entry.escalations + 1)
                done.append(entry.alert_id)
            except Exception as exc:  # try again next round; the alert stays open
                log.error("could not escalate alert %d: %s", entry.alert_id, exc)
                failed.append(entry.alert_id)
        return EscalationOutcome(tuple(done), tuple(failed))

    def _escalate(self, alert_id: int, number: int) -> None:
        with self.database.sessions() as session:
            alert = Outbox(session, Repository(session, self.evidence)).load(alert_id)
        recipients = tuple(dict.fromkeys(self.email.to_addresses + self.settings.escalate_to))
        settings = replace(self.email, to_addresses=recipients, subject_prefix="[Hall Monitor] NOT ACKNOWLEDGED")
        attachments: Sequence[Attachment] = self.attachments(alert, self.evidence, self.database)
        message = escalation_message(alert, settings, attachments, number, self.settings.escalate_after)
        # Send, then record: a crash in between re-sends with the same Message-ID (deduplicated).
        self.transport.send(message)
        with self.database.sessions.begin() as session:
            LifecycleStore(session).mark_escalated(alert_id, self.clock())
        self.events.record(
            "escalated", "alert", alert_id, {"number": number, "to": list(recipients), "message_id": str(message["Message-ID"])}
        )
        log.warning("alert %d was not acknowledged in time: escalated (%d) to %s", alert_id, number, ", ".join(recipients))


def escalation_message(
    alert: Alert, settings: EmailSettings, attachments: Sequence[Attachment], number: int, after: timedelta
) -> EmailMessage:
    """The alert email again, with a note on top and its own Message-ID threaded to the original."""
    message = compose_alert_email(alert, settings, attachments)
    original = alert.message_id
    local, _, domain = original.strip("<>").partition("@")
    message.replace_header("Message-ID", f"<{local}.escalation-{number}@{domain}>")
    message["In-Reply-To"] = original
    message["References"] = original
    message["X-Hallmon-Escalation"] = str(number)
    hours = int(after.total_seconds() // 3600)
    note = (
        f"NOT YET ACKNOWLEDGED. This alert was raised more than {hours} hour(s) ago and nobody has "
        "acknowledged it, so it has been sent again, to the designated safeguarding lead and deputy "
        f"as well. Acknowledge it with: hallmon alerts ack {alert.id} --as \"Your Name\""
    )
    for part in message.walk():
        if part.get_content_disposition() == "attachment":
            continue
        if part.get_content_type() == "text/plain":
            part.set_content(note + "\n\n" + part.get_content(), subtype="plain", charset="utf-8")
        elif part.get_content_type() == "text/html":
            banner = f'<p style="border:2px solid #b00;padding:8px;font-weight:bold">{html.escape(note)}</p>'
            body = part.get_content()
            match = _BODY_TAG.search(body)
            body = body[: match.end()] + banner + body[match.end() :] if match else banner + body
            part.set_content(body, subtype="html", charset="utf-8")
    return message


__all__ = [
    "AlertLifecycle",
    "EscalationOutcome",
    "Escalator",
    "EvidenceConfig",
    "LifecycleError",
    "LifecycleSettings",
    "Outcome",
    "ReportSettings",
    "RetentionSettings",
    "escalation_message",
    "load_evidence_config",
    "parse_evidence_config",
]
