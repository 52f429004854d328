"""Delivers queued alerts: claim one, compose the email, send it, record the result.

The claim is committed before the send and the result right after it, so a crash can leave at
most one alert in 'sending'; at the next start it is sent again with the same Message-ID (mail
systems treat that as the same message). An SMTP outage backs off exponentially and loses nothing.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from monitor.clock import Clock
from monitor.domain import Account, Alert
from monitor.email import Attachment, EmailSettings, compose_alert_email
from monitor.events import EventRecorder, NullRecorder
from monitor.transports import DeliveryFailed, Transport
from storage.database import Database
from storage.evidence import EvidenceStore
from storage.outbox import Outbox
from storage.repository import Repository

log = logging.getLogger(__name__)

AttachmentBuilder = Callable[[Alert, EvidenceStore, Database], Sequence[Attachment]]


@dataclass(frozen=True)
class SendOutcome:
    sent: tuple[int, ...] = ()
    failed: tuple[int, ...] = ()


def evidence_attachments(
    alert: Alert, evidence: EvidenceStore, database: Database, max_bytes: int = 10 * 1024 * 1024
) -> list[Attachment]:
    """The captured media (within a size budget) and a JSON summary of the evidence."""
    attachments: list[Attachment] = []
    budget = max_bytes
    media_summary = []
    for index, media in enumerate(alert.item.item.media, start=1):
        entry = {"kind": str(media.kind), "url": media.url, "sha256": media.sha256, "attached": False}
        path = media.local_path
        if path is not None and path.exists() and path.stat().st_size <= budget:
            data = path.read_bytes()
            budget -= len(data)
            extension = _extension(data)
            attachments.append(Attachment(f"media-{index}{extension}", _mime(extension), data))
            entry["attached"] = True
        media_summary.append(entry)
    with database.sessions() as session:
        raw_sha = Repository(session, evidence).raw_sha256(alert.item.id)
    finding = alert.finding.finding
    summary = {
        "alert_id": alert.id,
        "message_id": alert.message_id,
        "clause": str(finding.clause),
        "category": finding.category,
        "severity": str(finding.severity),
        "confidence": round(finding.confidence, 3),
        "detector": finding.detector_ref,
        "explanation": finding.evidence.explanation,
        "excerpts": [
            alert.item.item.text[s.start : s.end] for s in finding.evidence.spans if s.source == "text"
        ],
        "regions": [
            {"media_sha256": r.media_sha256, "box": [r.box.x, r.box.y, r.box.w, r.box.h], "label": r.label}
            for r in finding.evidence.regions
        ],
        "item": {
            "platform": alert.item.item.platform,
            "account": alert.item.item.account_key,
            "external_id": alert.item.item.external_id,
            "kind": str(alert.item.item.kind),
            "author": alert.item.item.author,
            "text": alert.item.item.text,
            "permalink": alert.item.item.permalink,
            "posted_at": alert.item.item.created_at.isoformat(),
            "captured_at": alert.item.captured_at.isoformat(),
            "revision": alert.item.revision,
            "raw_payload_sha256": raw_sha,
        },
        "media": media_summary,
    }
    attachments.append(
        Attachment("evidence-summary.json", "application/json", json.dumps(summary, indent=2, ensure_ascii=False).encode("utf-8"))
    )
    return attachments


def _extension(data: bytes) -> str:
    if data.startswith(b"\xff\xd8"):
        return ".jpg"
    if data.startswith(b"\x89PNG"):
        return ".png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return ".gif"
    if data[4:8] == b"ftyp":
        return ".mp4"
    return ".bin"


def _mime(extension: str) -> str:
    return {".jpg": "image/jpeg", ".png": "image/png", ".gif": "image/gif", ".mp4": "video/mp4"}.get(
        extension, "application/octet-stream"
    )


class AlertSender:
    def __init__(
        self,
        database: Database,
        evidence: EvidenceStore,
        transport: Transport,
        email_settings: EmailSettings,
        clock: Clock,
        accounts: Mapping[str, Account] | None = None,
        attachments: AttachmentBuilder = evidence_attachments,
        stop: threading.Event | None = None,
        events: EventRecorder | None = None,
    ) -> None:
        self.events: EventRecorder = events or NullRecorder()
        self.database = database
        self.evidence = evidence
        self.transport = transport
        self.email_settings = email_settings
        self.clock = clock
        self.accounts = dict(accounts or {})
        self.attachments = attachments
        self.stop = stop or threading.Event()
        self._lock = threading.Lock()
        self._failing = False

    def recover(self) -> int:
        """Called once at start-up: sends interrupted by a crash become due again."""
        with self.database.sessions.begin() as session:
            count = Outbox(session, Repository(session, self.evidence)).recover_interrupted(self.clock())
        if count:
            log.warning("%d alert(s) were being sent when Hall Monitor stopped; sending them again", count)
        return count

    def send_due(self) -> SendOutcome:
        with self._lock:
            sent: list[int] = []
            failed: list[int] = []
            tried: set[int] = set()
            while not self.stop.is_set() and not failed:
                with self.database.sessions() as session:
                    due = [a for a in Outbox(session, Repository(session, self.evidence)).due(self.clock()) if a not in tried]
                if not due:
                    break
                for alert_id in due:
                    if self.stop.is_set():
                        break
                    tried.add(alert_id)
                    result = self._send_one(alert_id)
                    if result is True:
                        sent.append(alert_id)
                    elif result is False:
                        failed.append(alert_id)
                        break  # the server is unhappy: leave the rest queued for the next round
            return SendOutcome(tuple(sent), tuple(failed))

    def _send_one(self, alert_id: int) -> bool | None:
        with self.database.sessions.begin() as session:
            outbox = Outbox(session, Repository(session, self.evidence))
            if not outbox.claim(alert_id, self.clock()):
                return None
            alert = outbox.load(alert_id)
        alert = _with_account(alert, self.accounts.get(alert.item.item.account_key))
        try:
            message = compose_alert_email(alert, self.email_settings, self.attachments(alert, self.evidence, self.database))
            self.transport.send(message)
        except DeliveryFailed as exc:
            with self.database.sessions.begin() as session:
                retry_at = Outbox(session, Repository(session, self.evidence)).mark_failed(
                    alert_id, self.clock(), str(exc), exc.permanent
                )
            if not self._failing:
                log.error("could not deliver alert %d via %s: %s (retrying from %s)", alert_id, self.transport.describe(), exc, retry_at.isoformat())
            self._failing = True
            return False
        except Exception as exc:  # a bad alert must not block the queue forever
            with self.database.sessions.begin() as session:
                Outbox(session, Repository(session, self.evidence)).mark_failed(
                    alert_id, self.clock(), f"{type(exc).__name__}: {exc}", True
                )
            log.exception("alert %d could not be prepared", alert_id)
            return False
        with self.database.sessions.begin() as session:
            Outbox(session, Repository(session, self.evidence)).mark_sent(alert_id, self.clock())
        self.events.record(
            "delivered", "alert", alert_id, {"message_id": alert.message_id, "transport": self.transport.describe()}
        )
        if self._failing:
            log.info("alert delivery via %s is working again", self.transport.describe())
        self._failing = False
        log.info("alert %d delivered (%s)", alert_id, alert.message_id)
        return True


def _with_account(alert: Alert, account: Account | None) -> Alert:
    from dataclasses import replace

    return replace(alert, account=account) if account is not None else alert
