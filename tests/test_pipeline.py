"""The spine end to end on SQLite and PostgreSQL: poll -> capture -> store -> scan -> outbox."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from connectors.base import AuthFailed, ConnectorEnv, RateLimited
from detectors.base import SchoolContext
from monitor.app import App
from monitor.clock import ManualClock
from monitor.config import load_settings
from monitor.daemon import Daemon
from monitor.domain import (
    Account,
    Clause,
    Cursor,
    Evidence,
    FetchResult,
    Finding,
    ScanItem,
    Severity,
    TextSpan,
)
from monitor.pipeline import Pipeline
from storage.outbox import Outbox
from storage.repository import Repository
from storage.tables import AlertRow, BlobRow, DetectorErrorRow, FindingRow, ItemRow
from tests.exports import archive_config, comment, post, write_export

START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


class KeywordDetector:
    """A plugin written the way outsiders write one: flags the word 'forbidden'."""

    name = "keyword"
    version = "1"

    def detect(self, item: ScanItem, context: SchoolContext) -> Sequence[Finding]:
        text = item.item.text
        at = text.find("forbidden")
        if at < 0:
            return []
        return [
            Finding(
                Clause.STAFF_ABUSE,
                "abuse.test",
                Severity.HIGH,
                0.9,
                self.name,
                self.version,
                Evidence("The word 'forbidden' was used.", (TextSpan(at, at + 9),)),
            )
        ]


class CrashingDetector:
    name = "crasher"
    version = "0"

    def detect(self, item: ScanItem, context: SchoolContext) -> Sequence[Finding]:
        raise RuntimeError("model file is corrupt")


def build(tmp_path: Path, database_url: str, exports: dict[str, Path], clock: ManualClock) -> tuple[App, Pipeline]:
    settings = load_settings(archive_config(tmp_path, database_url, exports))
    app = App.build(settings, clock=clock, environ={})
    app._detectors = [CrashingDetector(), KeywordDetector()]
    app._analyser_loaded = True  # text-only pipeline for these tests
    return app, app.pipeline()


def count(app: App, model: type, *where: object) -> int:
    with app.database.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_ingest_is_idempotent_edits_are_revisions_and_deletions_are_recorded(tmp_path: Path, database_url: str) -> None:
    clock = ManualClock(START)
    export = write_export(
        tmp_path / "export",
        [post("p1", "Harvest festival today", [comment("c1", "This is forbidden nonsense")])],
    )
    app, pipeline = build(tmp_path, database_url, {"school": export}, clock)
    account = app.settings.accounts[0]
    connector = app.connect_accounts()[0].connector
    assert connector is not None

    first = pipeline.poll(account, connector)
    assert (first.status, first.items_new) == ("ok", 2)
    scan = pipeline.scan_pending()
    assert scan.items == 2 and len(scan.alerts) == 1

    clock.advance(timedelta(minutes=5))
    again = pipeline.poll(account, connector)
    assert again.items_new == 0
    assert pipeline.scan_pending().items == 0, "nothing may be scanned twice"
    assert count(app, ItemRow) == 2

    # An edited caption is a new revision and is scanned again.
    write_export(export, [post("p1", "Harvest festival: forbidden edit", [comment("c1", "This is forbidden nonsense")])])
    clock.advance(timedelta(minutes=5))
    assert pipeline.poll(account, connector).items_new == 1
    assert pipeline.scan_pending().items == 1
    with app.database.sessions() as session:
        revisions = session.scalars(select(ItemRow.revision).where(ItemRow.external_id == "p1").order_by(ItemRow.revision)).all()
        current = session.scalars(select(ItemRow.revision).where(ItemRow.external_id == "p1", ItemRow.is_current.is_(True))).all()
    assert list(revisions) == [1, 2] and list(current) == [2]

    # The comment disappears from the platform: recorded as deleted, its open alert remediated.
    write_export(export, [post("p1", "Harvest festival: forbidden edit")])
    clock.advance(timedelta(minutes=5))
    outcome = pipeline.poll(account, connector)
    assert outcome.items_gone == 1
    with app.database.sessions() as session:
        deleted = session.scalar(select(ItemRow.deleted_at).where(ItemRow.external_id == "c1"))
        states = session.scalars(select(AlertRow.state).order_by(AlertRow.id)).all()
    assert deleted is not None
    assert states[0] == "removed_from_platform"
    app.close()


def test_evidence_survives_the_post_being_deleted(tmp_path: Path, database_url: str) -> None:
    clock = ManualClock(START)
    export = tmp_path / "export"
    (export / "images").mkdir(parents=True)
    Image.new("RGB", (64, 48), (200, 30, 30)).save(export / "images" / "a.png")
    original = (export / "images" / "a.png").read_bytes()
    write_export(export, [post("p9", "A forbidden picture", media=["images/a.png"])])
    app, pipeline = build(tmp_path, database_url, {"school": export}, clock)
    connector = app.connect_accounts()[0].connector
    assert connector is not None
    pipeline.poll(app.settings.accounts[0], connector)
    raw = (export / "posts.json").read_bytes()
    (export / "images" / "a.png").unlink()
    (export / "posts.json").unlink()

    digest = hashlib.sha256(original).hexdigest()
    assert app.evidence.read(digest) == original
    assert app.evidence.read(hashlib.sha256(raw).hexdigest()) == raw
    with app.database.sessions() as session:
        blob = session.get(BlobRow, digest)
        assert blob is not None and blob.source_url == "archive:images/a.png"
        assert blob.captured_at is not None
    assert app.evidence.verify(digest)
    app.close()


def test_a_crashing_detector_is_recorded_and_the_others_still_run(tmp_path: Path, database_url: str) -> None:
    clock = ManualClock(START)
    export = write_export(tmp_path / "export", [post("p1", "forbidden words here")])
    app, pipeline = build(tmp_path, database_url, {"school": export}, clock)
    connector = app.connect_accounts()[0].connector
    assert connector is not None
    pipeline.poll(app.settings.accounts[0], connector)
    outcome = pipeline.scan_pending()
    assert outcome.detector_errors == 1 and outcome.findings == 1
    with app.database.sessions() as session:
        errors = session.scalars(select(DetectorErrorRow.error)).all()
        detectors = session.scalars(select(FindingRow.detector)).all()
    assert errors == ["RuntimeError: model file is corrupt"]
    assert detectors == ["keyword"]
    app.close()


class BrokenConnector:
    platform = "broken"
    version = "0"

    def __init__(self, error: Exception) -> None:
        self.error = error

    def fetch(self, since: Cursor | None) -> FetchResult:
        raise self.error


def test_a_failing_connector_does_not_stop_other_accounts(tmp_path: Path, database_url: str, caplog: pytest.LogCaptureFixture) -> None:
    clock = ManualClock(START)
    good = write_export(tmp_path / "good", [post("p1", "forbidden fruit")])
    app, pipeline = build(tmp_path, database_url, {"good": good, "missing": tmp_path / "nope"}, clock)
    connected = app.connect_accounts()
    assert connected[0].connector is not None
    assert connected[1].connector is None and "does not exist" in connected[1].problem

    auth = Account("broken", "auth")
    limited = Account("broken", "limited")
    reset = START + timedelta(hours=1)
    for _ in range(3):
        assert pipeline.poll(auth, BrokenConnector(AuthFailed("token revoked"))).status == "auth_failed"
        assert pipeline.poll(limited, BrokenConnector(RateLimited("slow down", reset))).status in ("rate_limited", "skipped")
        assert pipeline.poll(connected[0].account, connected[0].connector).status == "ok"
        clock.advance(timedelta(minutes=5))
    assert pipeline.scan_pending().findings == 1
    # A rate-limited account is paused until the reset time, and logged once, not every poll.
    assert sum("token revoked" in r.getMessage() for r in caplog.records) == 1
    clock.current = reset + timedelta(seconds=1)
    assert pipeline.poll(limited, BrokenConnector(RateLimited("again", None))).status == "rate_limited"
    app.close()


def test_daemon_cycle_and_connector_usage_ledger(tmp_path: Path, database_url: str) -> None:
    clock = ManualClock(START)
    export = write_export(tmp_path / "export", [post("p1", "Nothing to see"), post("p2", "forbidden")])
    settings = load_settings(archive_config(tmp_path, database_url, {"school": export}))
    app = App.build(settings, clock=clock, environ={})
    app._detectors = [KeywordDetector()]
    app._analyser_loaded = True
    daemon = Daemon(app)
    report = daemon.cycle_once()
    assert [p.status for p in report.polls] == ["ok"]
    assert len(report.scan.alerts) == 1 and report.send.sent == report.scan.alerts
    outbox = settings.state_dir / "outbox"
    assert len(list(outbox.glob("*.eml"))) == 1
    env: ConnectorEnv = app.connector_env(settings.accounts[0])
    assert env.usage_so_far("day").api_calls == 1
    # A second cycle sends nothing new.
    assert daemon.cycle_once().send.sent == ()
    assert len(list(outbox.glob("*.eml"))) == 1
    with app.database.sessions() as session:
        summaries = Outbox(session, Repository(session, app.evidence)).list()
    assert [s.status for s in summaries] == ["sent"]
    app.close()


def test_archive_export_with_a_malformed_file_keeps_the_rest(tmp_path: Path, database_url: str) -> None:
    clock = ManualClock(START)
    export = write_export(tmp_path / "export", [post("p1", "first")])
    (export / "broken.json").write_text("{ not json", encoding="utf-8")
    (export / "odd.json").write_text(json.dumps({"posts": [{"text": "no id"}]}), encoding="utf-8")
    app, pipeline = build(tmp_path, database_url, {"school": export}, clock)
    connector = app.connect_accounts()[0].connector
    assert connector is not None
    outcome = pipeline.poll(app.settings.accounts[0], connector)
    assert outcome.status == "ok" and outcome.items_new == 1
    # With a file unreadable, nothing may be declared deleted.
    write_export(export, [])
    assert pipeline.poll(app.settings.accounts[0], connector).items_gone == 0
    app.close()


def test_it_is_told_once_when_an_account_fails_and_once_when_it_recovers(tmp_path: Path) -> None:
    from monitor.health_notice import AccountHealthNotifier
    from monitor.transports import OutboxDirTransport

    clock = ManualClock(START)
    export = write_export(tmp_path / "export", [post("p1", "hello")])
    app, pipeline = build(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}", {"school": export}, clock)
    outbox = tmp_path / "it-outbox"
    notifier = AccountHealthNotifier(lambda: OutboxDirTransport(outbox), "Test School", "monitor@test.invalid", ["it@test.invalid"], clock)
    account = Account("broken", "flaky")
    for _ in range(3):
        notifier.notify(pipeline.poll(account, BrokenConnector(AuthFailed("token expired"))))
        clock.advance(timedelta(minutes=5))
    mails = sorted(outbox.glob("*.eml"))
    assert len(mails) == 1
    body = mails[0].read_text()
    assert "has stopped working (auth failed)" in body and "token expired" in body and "it@test.invalid" in body
    good = app.connect_accounts()[0]
    assert good.connector is not None
    recovered = pipeline.poll(Account("archive", "school", options=good.account.options), good.connector)
    assert recovered.status == "ok" and recovered.status_changed is False  # a new account was never failing
    notifier.notify(pipeline.poll(account, _Recovering()))
    assert len(list(outbox.glob("*.eml"))) == 2
    app.close()


class _Recovering:
    platform = "broken"
    version = "0"

    def fetch(self, since: Cursor | None) -> FetchResult:
        return FetchResult((), Cursor("{}"))
