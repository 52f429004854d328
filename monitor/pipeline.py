"""One poll of one account, end to end: fetch -> capture evidence -> store -> scan -> queue alerts.

The scheduler decides *when*; this module decides *what*. A connector's failure is recorded and
the account paused or retried; one detector's crash is recorded against the item while the other
detectors still run.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from connectors.base import Connector, ConnectorError, QuotaExhausted, RateLimited
from detectors.base import Detector, SchoolContext
from monitor.capture import DownloadedMedia, MediaCapturer
from monitor.clock import Clock
from monitor.domain import (
    Account,
    FetchResult,
    Finding,
    MediaAnalysis,
    MediaKind,
    RawCapture,
    ScanItem,
    ScanMedia,
    Severity,
    StoredItem,
    Usage,
)
from monitor.events import EventRecorder, NullRecorder
from storage.database import Database
from storage.evidence import EvidenceStore
from storage.outbox import Outbox
from storage.repository import CapturedMedia, Repository, as_utc

log = logging.getLogger(__name__)


class MediaAnalyser(Protocol):
    version: str

    def analyse(self, path: Path, sha256: str) -> MediaAnalysis: ...


@dataclass(frozen=True)
class PollOutcome:
    account_key: str
    status: str  # ok | skipped | <connector error kind>
    items_new: int = 0
    items_gone: int = 0
    usage: Usage = Usage()
    message: str = ""
    status_changed: bool = False  # from working to failing or back: worth telling IT once


@dataclass(frozen=True)
class ScanOutcome:
    items: int = 0
    findings: int = 0
    alerts: tuple[int, ...] = ()
    detector_errors: int = 0


@dataclass
class DetectorRun:
    findings: list[Finding] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)


def run_detectors(detectors: Sequence[Detector], item: ScanItem, context: SchoolContext) -> DetectorRun:
    """Every detector runs; a crash or a malformed answer is recorded and the rest carry on."""
    run = DetectorRun()
    for detector in detectors:
        name = getattr(detector, "name", type(detector).__name__)
        try:
            produced = list(detector.detect(item, context))
        except Exception as exc:
            run.errors.append((name, f"{type(exc).__name__}: {exc}"))
            log.warning("detector %s failed on %s/%s: %s", name, item.item.account_key, item.item.external_id, exc)
            log.debug("%s", traceback.format_exc())
            continue
        bad = [f for f in produced if not isinstance(f, Finding)]
        if bad:
            run.errors.append((name, f"returned {len(bad)} value(s) that are not findings"))
        run.findings.extend(f for f in produced if isinstance(f, Finding))
    return run


class Pipeline:
    def __init__(
        self,
        database: Database,
        evidence: EvidenceStore,
        capturer: MediaCapturer,
        detectors: Sequence[Detector],
        context: Callable[[], SchoolContext],
        clock: Clock,
        alert_threshold: Severity = Severity.HIGH,
        message_domain: str = "hallmon.invalid",
        analyser: MediaAnalyser | None = None,
        stop: threading.Event | None = None,
        events: EventRecorder | None = None,
    ) -> None:
        self.events: EventRecorder = events or NullRecorder()
        self.database = database
        self.evidence = evidence
        self.capturer = capturer
        self.detectors = list(detectors)
        self.context = context
        self.clock = clock
        self.alert_threshold = alert_threshold
        self.message_domain = message_domain
        self.analyser = analyser
        self.stop = stop or threading.Event()
        self._scan_lock = threading.Lock()

    # --- polling ---

    def poll(self, account: Account, connector: Connector) -> PollOutcome:
        started = self.clock()
        with self.database.sessions.begin() as session:
            repo = Repository(session, self.evidence)
            row = repo.account_row(account.key, account.platform, account.handle)
            paused_until = as_utc(row.paused_until)
            if paused_until is not None and paused_until > started:
                return PollOutcome(account.key, "skipped", message=f"paused until {paused_until.isoformat()}")
            cursor = repo.cursor(account.key)
        try:
            result = connector.fetch(cursor)
        except ConnectorError as exc:
            return self._record_failure(account, started, exc.kind, str(exc), _resume_at(exc), exc.usage)
        except Exception as exc:  # a connector bug must not stop the other accounts
            log.debug("%s", traceback.format_exc())
            return self._record_failure(account, started, "crash", f"{type(exc).__name__}: {exc}", None)
        return self._store(account, started, result)

    def _store(self, account: Account, started: datetime, result: FetchResult) -> PollOutcome:
        captured_at = self.clock()
        with self.database.sessions() as session:
            repo = Repository(session, self.evidence)
            fresh = [item for item in result.items if not repo.is_unchanged(item)]
        # Network and disk work happens outside the database transaction.
        raw_blobs = {id(c): (c, self.evidence.put_bytes(c.body)) for c in self._captures(result)}
        media: dict[int, list[DownloadedMedia]] = {
            index: [self.capturer.capture(m) for m in item.media] for index, item in enumerate(fresh)
        }
        with self.database.sessions.begin() as session:
            repo = Repository(session, self.evidence)
            for capture, blob in raw_blobs.values():
                repo.record_blob(blob, capture.content_type, capture.uri, capture.captured_at, capture.status)
            new_items = 0
            stored_items = []
            for index, item in enumerate(fresh):
                captured_media = []
                for downloaded in media[index]:
                    if downloaded.blob is not None:
                        repo.record_blob(
                            downloaded.blob,
                            downloaded.content_type or "application/octet-stream",
                            downloaded.media.url,
                            captured_at,
                            downloaded.status or 200,
                        )
                    captured_media.append(CapturedMedia(downloaded.media, downloaded.blob, downloaded.error))
                raw_sha = raw_blobs[id(item.raw)][1].sha256 if item.raw is not None else None
                stored = repo.ingest(item, captured_at, raw_sha, captured_media)
                if stored is not None:
                    new_items += 1
                    stored_items.append((stored, raw_sha))
            gone = repo.mark_gone(account.platform, account.key, result.gone_external_ids, captured_at)
            row = repo.account_row(account.key, account.platform, account.handle)
            row.cursor = result.cursor.value
            was_failing = row.status not in ("ok", "new")
            row.status = "ok"
            row.last_poll_at = started
            row.last_success_at = captured_at
            row.consecutive_failures = 0
            row.paused_until = None
            row.polls_ok += 1
            repo.add_usage(account.key, captured_at, result.usage)
            repo.log_poll(account.key, started, self.clock() - started, "ok", None, new_items, result.usage)
        for stored, raw_sha in stored_items:
            self.events.record(
                "captured",
                "item",
                stored.id,
                {
                    "account": account.key,
                    "external_id": stored.item.external_id,
                    "revision": stored.revision,
                    "raw_sha256": raw_sha,
                    "media_sha256": [m.sha256 for m in stored.item.media if m.sha256],
                    "captured_at": captured_at.isoformat(),
                },
            )
        for item_id in gone:
            self.events.record("removed", "item", item_id, {"account": account.key, "noticed_at": captured_at.isoformat()})
        if was_failing:
            log.info("account %s is working again", account.key)
        log.debug("polled %s: %d new or changed, %d gone", account.key, new_items, len(gone))
        return PollOutcome(account.key, "ok", new_items, len(gone), result.usage, status_changed=was_failing)

    @staticmethod
    def _captures(result: FetchResult) -> list[RawCapture]:
        captures: dict[int, RawCapture] = {id(c): c for c in result.captures}
        for item in result.items:
            if item.raw is not None:
                captures.setdefault(id(item.raw), item.raw)
        return list(captures.values())

    def _record_failure(
        self,
        account: Account,
        started: datetime,
        kind: str,
        message: str,
        resume_at: datetime | None,
        usage: Usage | None = None,
    ) -> PollOutcome:
        usage = usage or Usage()
        with self.database.sessions.begin() as session:
            repo = Repository(session, self.evidence)
            row = repo.account_row(account.key, account.platform, account.handle)
            changed = row.status != kind
            row.status = kind
            row.last_poll_at = started
            row.last_error_at = self.clock()
            row.last_error_class = kind
            row.last_error_message = message[:2000]
            row.consecutive_failures += 1
            row.polls_failed += 1
            row.paused_until = resume_at
            repo.add_usage(account.key, started, usage)
            repo.log_poll(account.key, started, self.clock() - started, kind, message[:2000], 0, usage)
        if changed:  # log the change from working to failing, not every failed poll
            suffix = f"; paused until {resume_at.isoformat()}" if resume_at else ""
            log.warning("account %s: %s: %s%s", account.key, kind, message, suffix)
        return PollOutcome(account.key, kind, message=message, status_changed=changed)

    # --- scanning ---

    def scan_pending(self, batch: int = 50) -> ScanOutcome:
        """Scan every stored revision not yet scanned; stops early when asked to stop."""
        with self._scan_lock:
            total_items = total_findings = total_errors = 0
            alert_ids: list[int] = []
            context = self.context()  # rosters and the media register: read once per run, not per item
            while not self.stop.is_set():
                with self.database.sessions() as session:
                    pending = Repository(session, self.evidence).unscanned(batch)
                if not pending:
                    break
                for stored in pending:
                    if self.stop.is_set():
                        break
                    findings, errors, alerts = self.scan_one(stored, context)
                    total_items += 1
                    total_findings += findings
                    total_errors += errors
                    alert_ids.extend(alerts)
            return ScanOutcome(total_items, total_findings, tuple(alert_ids), total_errors)

    def scan_one(self, stored: StoredItem, context: SchoolContext | None = None) -> tuple[int, int, list[int]]:
        context = context or self.context()
        scan_item = self._scan_item(stored)
        run = run_detectors(self.detectors, scan_item, context)
        now = self.clock()
        with self.database.sessions.begin() as session:
            repo = Repository(session, self.evidence)
            saved = repo.save_scan(stored.id, run.findings, run.errors, now)
            if saved is None:
                return 0, 0, []
            alerts = Outbox(session, repo).enqueue(
                saved, stored.item.account_key, self.alert_threshold, now, self.message_domain
            )
        self.events.record(
            "analysed",
            "item",
            stored.id,
            {
                "findings": [f.id for f in saved],
                "detectors": [f"{getattr(d, 'name', '?')}@{getattr(d, 'version', '?')}" for d in self.detectors],
                "errors": [name for name, _ in run.errors],
            },
        )
        for alert_id in alerts:
            self.events.record("alerted", "alert", alert_id, {"item_id": stored.id})
        return len(saved), len(run.errors), alerts

    def _scan_item(self, stored: StoredItem) -> ScanItem:
        scan_media: list[ScanMedia] = []
        for media in stored.item.media:
            path = media.local_path if media.local_path is not None and media.local_path.exists() else None
            analysis = None
            if path is not None and media.sha256 and media.kind in (MediaKind.IMAGE, MediaKind.VIDEO):
                analysis = self._analysis(path, media.sha256)
            scan_media.append(ScanMedia(media, path, analysis))
        with self.database.sessions() as session:
            parent_text = Repository(session, self.evidence).parent_text(stored.item)
        return ScanItem(stored.item, tuple(scan_media), parent_text)

    def _analysis(self, path: Path, sha256: str) -> MediaAnalysis | None:
        if self.analyser is None:
            return None
        with self.database.sessions() as session:
            cached = Repository(session, self.evidence).analysis(sha256, self.analyser.version)
        if cached is not None:
            return cached
        try:
            analysis = self.analyser.analyse(path, sha256)
        except Exception as exc:  # the analyser promises not to raise; keep the daemon up if it does
            analysis = MediaAnalysis(sha256=sha256, analyser_version=self.analyser.version, error=f"{type(exc).__name__}: {exc}")
        with self.database.sessions.begin() as session:
            Repository(session, self.evidence).save_analysis(analysis, self.clock())
        return analysis


def _resume_at(exc: ConnectorError) -> datetime | None:
    if isinstance(exc, RateLimited):
        return exc.retry_after
    if isinstance(exc, QuotaExhausted):
        return exc.resets_at
    return None
