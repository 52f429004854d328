"""The alert lifecycle: open -> acknowledged -> resolved, and escalation of alerts nobody has
acknowledged in time.

Every change is committed first and then written to the custody log with the named user, so the
log always describes what the database holds. Settings come from the ``[lifecycle]`` table of
the config file (``monitor.evidence_settings``; see docs/evidence.md).
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from email.message import EmailMessage
from enum import StrEnum

from monitor.clock import Clock
from monitor.evidence_settings import LifecycleSettings
from monitor.custody import clean_actor
from monitor.domain import Alert
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


class Outcome(StrEnum):
    POST_REMOVED = "post-removed"
    FALSE_POSITIVE = "false-positive"
    ACTIONED = "actioned"


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
    "LifecycleError",
    "Outcome",
    "escalation_message",
]
