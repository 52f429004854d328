"""The daily digest for the headteacher: medium and low findings, and alerts remediated because
the item disappeared from the platform ("removed from platform"), each told once.

Critical and high findings are emailed at once by the sender; everything quieter waits for this
digest so the headteacher gets one calm email a day instead of a stream of them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import policy as email_policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from zoneinfo import ZoneInfo

from monitor.clock import Clock
from monitor.domain import Severity
from monitor.email import EmailSettings, header_text, platform_name, safe_link
from monitor.events import EventRecorder
from monitor.evidence_settings import LifecycleSettings, RetentionSettings
from monitor.templates import render
from monitor.transports import Transport
from storage.database import Database
from storage.evidence import EvidenceStore
from storage.lifecycle import LifecycleStore
from storage.outbox import Outbox
from storage.repository import Repository

log = logging.getLogger(__name__)

DIGEST_SEVERITIES = (Severity.MEDIUM, Severity.LOW)
LOOKBACK = timedelta(days=7)  # a first digest does not dig up years of history


@dataclass(frozen=True)
class DigestLine:
    """One finding or removal as the digest shows it (already plain text; templates escape it)."""

    ref: str
    severity: str
    clause: str
    category: str
    where: str
    kind: str
    excerpt: str
    link: str | None
    when: datetime
    note: str = ""


@dataclass(frozen=True)
class Digest:
    day: str
    findings: tuple[DigestLine, ...]
    removals: tuple[DigestLine, ...]
    finding_ids: tuple[int, ...]
    removal_ids: tuple[int, ...]

    @property
    def empty(self) -> bool:
        return not self.findings and not self.removals


def _excerpt(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class DigestBuilder:
    """Collects medium and low findings and 'removed from platform' notices for the daily email."""

    database: Database
    evidence: EvidenceStore
    transport: Transport
    email: EmailSettings
    settings: LifecycleSettings
    retention: RetentionSettings
    clock: Clock
    events: EventRecorder

    def collect(self) -> Digest:
        """Everything not yet told to the headteacher."""
        now = self.clock()
        findings: list[DigestLine] = []
        removals: list[DigestLine] = []
        with self.database.sessions() as session:
            repo = Repository(session, self.evidence)
            store = LifecycleStore(session)
            finding_ids = store.undigested_findings(DIGEST_SEVERITIES, now - LOOKBACK)
            for finding_id in finding_ids:
                stored = repo.finding(finding_id)
                item = repo.item(stored.item_id)
                f = stored.finding
                findings.append(
                    DigestLine(
                        ref=f"finding {finding_id}",
                        severity=str(f.severity),
                        clause=str(f.clause),
                        category=f.category,
                        where=f"{platform_name(item.item.platform)} {item.item.account_key}",
                        kind=str(item.item.kind),
                        excerpt=_excerpt(item.item.text),
                        link=safe_link(item.item.permalink),
                        when=item.captured_at,
                        note=f.evidence.explanation,
                    )
                )
            removal_ids = store.untold_removals()
            outbox = Outbox(session, repo)
            for alert_id in removal_ids:
                alert = outbox.load(alert_id)
                item = alert.item
                note = "The item is no longer on the platform; the evidence captured beforehand is kept."
                if item.item.platform == "x" and item.deleted_at is not None:
                    purge_at = item.deleted_at + timedelta(hours=self.retention.x_deleted_hours)
                    note = (
                        "Deleted on X. X's terms require us to delete our copy: the evidence will be purged "
                        f"after {purge_at:%Y-%m-%d %H:%M} UTC unless a legal hold is placed "
                        f"(hallmon evidence hold {alert_id} --as NAME --reason ...)."
                    )
                removals.append(
                    DigestLine(
                        ref=f"alert {alert_id}",
                        severity=str(alert.finding.finding.severity),
                        clause=str(alert.finding.finding.clause),
                        category=alert.finding.finding.category,
                        where=f"{platform_name(item.item.platform)} {item.item.account_key}",
                        kind=str(item.item.kind),
                        excerpt=_excerpt(item.item.text),
                        link=safe_link(item.item.permalink),
                        when=item.deleted_at or now,
                        note=note,
                    )
                )
        day = now.astimezone(self.zone()).strftime("%Y-%m-%d")
        return Digest(day, tuple(findings), tuple(removals), tuple(finding_ids), tuple(removal_ids))

    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.settings.timezone)

    def message(self, digest: Digest) -> EmailMessage:
        """The digest email: plain text and HTML, headers built only from our own words."""
        message = EmailMessage(policy=email_policy.SMTP)
        count = len(digest.findings) + len(digest.removals)
        message["Subject"] = header_text(f"{self.email.subject_prefix} Daily digest {digest.day}: {count} item(s) to look at", 140)
        message["From"] = Address(header_text(f"Hall Monitor ({self.email.school_name})", 100), addr_spec=self.email.from_address)
        message["To"] = ", ".join(self.settings.digest_recipients or self.email.to_addresses)
        message["Date"] = format_datetime(self.clock())
        domain = self.email.from_address.rpartition("@")[2] or "hallmon.invalid"
        message["Message-ID"] = f"<hallmon.digest-{digest.day}@{domain}>"
        message["Auto-Submitted"] = "auto-generated"
        context = {"digest": digest, "school": self.email.school_name}
        message.set_content(render("digest.txt.j2", **context), subtype="plain", charset="utf-8")
        message.add_alternative(render("digest.html.j2", **context), subtype="html", charset="utf-8")
        return message

    def run(self) -> Digest:
        """Collect, send (when there is anything to say) and remember what was told."""
        digest = self.collect()
        if digest.empty:
            log.info("daily digest: nothing to report")
            return digest
        message = self.message(digest)
        self.transport.send(message)
        with self.database.sessions.begin() as session:
            store = LifecycleStore(session)
            store.mark_digested("finding", digest.finding_ids, digest.day, self.clock())
            store.mark_digested("removal", digest.removal_ids, digest.day, self.clock())
        for alert_id in digest.removal_ids:
            self.events.record("removal_notified", "alert", alert_id, {"digest": digest.day, "to": list(self.settings.digest_recipients)})
        log.info("daily digest sent: %d finding(s), %d removal(s)", len(digest.findings), len(digest.removals))
        return digest
