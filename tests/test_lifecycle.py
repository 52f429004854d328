"""Alert lifecycle (ack, resolve), escalation and the daily digest, with an injected clock."""

from __future__ import annotations

import email
from datetime import timedelta
from email import policy
from pathlib import Path

import pytest
from monitor.cli import main
from monitor.config import ConfigError, load_settings
from monitor.lifecycle import AlertLifecycle, Outcome
from monitor.lifecycle_jobs import services
from storage.custody import CustodyLog
from storage.lifecycle import AlertLifecycleRow, LifecycleError
from storage.tables import AlertRow
from tests.evidence_support import poll_again, seed
from tests.exports import archive_config, comment, post, write_export

LIFECYCLE = """
[lifecycle]
escalate_after_hours = 4
max_escalations = 2
dsl = ["dsl@test.invalid"]
deputy_dsl = ["deputy@test.invalid"]
digest_recipients = ["head@test.invalid"]
"""


def outbox(s) -> list[email.message.EmailMessage]:  # type: ignore[no-untyped-def]
    folder = s.app.settings.state_dir / "outbox"
    return [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted(folder.glob("*.eml"))]  # type: ignore[misc]


def test_ack_and_resolve_record_who_when_and_why(tmp_path: Path, database_url: str) -> None:
    s = seed(tmp_path, database_url)
    life = AlertLifecycle(s.app.database, s.app.clock, s.app.events())
    s.clock.advance(timedelta(minutes=90))
    change = life.acknowledge(1, "Ms Head\r\n", "phoning the parent")
    assert (change.before.value, change.after.value) == ("open", "acknowledged")
    with pytest.raises(LifecycleError, match="already acknowledged"):
        life.acknowledge(1, "Mr Deputy")
    s.clock.advance(timedelta(hours=1))
    life.resolve(1, "Ms Head", Outcome.POST_REMOVED, "comment deleted on the platform")
    with pytest.raises(LifecycleError, match="already resolved"):
        life.resolve(1, "Ms Head", Outcome.ACTIONED)
    with pytest.raises(LifecycleError, match="no alert 42"):
        life.acknowledge(42, "Ms Head")

    with s.app.database.sessions() as session:
        alert = session.get(AlertRow, 1)
        row = session.get(AlertLifecycleRow, 1)
        entries = CustodyLog(session).entries("alert", [1])
    assert alert is not None and row is not None
    assert (alert.state, alert.state_changed_by) == ("resolved", "Ms Head")
    assert row.acknowledged_by == "Ms Head" and row.ack_note == "phoning the parent"
    assert (row.outcome, row.resolved_by, row.resolve_note) == ("post-removed", "Ms Head", "comment deleted on the platform")
    assert [(e.event, e.actor) for e in entries if e.actor != "system"] == [("acknowledged", "Ms Head"), ("resolved", "Ms Head")]
    assert entries[-1].at - entries[-2].at == timedelta(hours=1)
    s.app.close()


def test_cli_ack_and_resolve(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    s = seed(tmp_path, f"sqlite:///{tmp_path / 'hallmon.db'}")
    config = str(s.app.settings.path)
    assert main(["alerts", "ack", "1", "--as", "Ms Head", "--note", "seen", "--config", config]) == 0
    assert "Alert 1 acknowledged by Ms Head" in capsys.readouterr().out
    assert main(["alerts", "--config", config, "resolve", "1", "--as", "Ms Head", "--outcome", "false-positive"]) == 0
    assert "resolved (false-positive)" in capsys.readouterr().out
    assert main(["alerts", "resolve", "1", "--as", "Ms Head", "--outcome", "actioned", "--config", config]) == 1
    assert "already resolved" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["alerts", "resolve", "1", "--as", "Ms Head", "--outcome", "ignored", "--config", config])
    s.app.close()


def test_unacknowledged_high_alert_is_escalated_to_the_dsl_and_deputy(tmp_path: Path, database_url: str) -> None:
    s = seed(tmp_path, database_url, extra=LIFECYCLE)
    s.app.sender().send_due()
    escalator = services(s.app).escalator
    s.clock.advance(timedelta(hours=3, minutes=59))
    assert escalator.run().escalated == ()

    s.clock.advance(timedelta(minutes=2))
    assert escalator.run().escalated == (1,)
    original, escalated = sorted(outbox(s), key=lambda m: "escalation" in str(m["Message-ID"]))
    assert "escalation-1" in escalated["Message-ID"] and escalated["In-Reply-To"] == original["Message-ID"]
    assert {a.addr_spec for a in escalated["To"].addresses} == {"head@test.invalid", "dsl@test.invalid", "deputy@test.invalid"}
    assert escalated["Subject"].startswith("[Hall Monitor] NOT ACKNOWLEDGED")
    body = escalated.get_body(("plain",))
    assert body is not None and body.get_content().startswith("NOT YET ACKNOWLEDGED")
    assert "screen-print-alert-1.pdf" in [p.get_filename() for p in escalated.iter_attachments()]

    s.clock.advance(timedelta(hours=1))
    assert escalator.run().escalated == (), "a repeat waits a full period"
    s.clock.advance(timedelta(hours=4))
    assert escalator.run().escalated == (1,)
    s.clock.advance(timedelta(hours=5))
    assert escalator.run().escalated == (), "at most max_escalations"
    with s.app.database.sessions() as session:
        assert [e.details["number"] for e in CustodyLog(session).entries("alert", [1], event="escalated")] == [1, 2]
    s.app.close()


def test_an_acknowledged_alert_is_not_escalated(tmp_path: Path) -> None:
    s = seed(tmp_path, f"sqlite:///{tmp_path / 'hallmon.db'}", extra=LIFECYCLE)
    AlertLifecycle(s.app.database, s.app.clock, s.app.events()).acknowledge(1, "Ms Head")
    s.clock.advance(timedelta(hours=10))
    assert services(s.app).escalator.run().escalated == ()
    s.app.close()


def test_daily_digest_tells_medium_findings_and_removals_once(tmp_path: Path, database_url: str) -> None:
    s = seed(tmp_path, database_url, extra=LIFECYCLE)
    digest = services(s.app).digest
    first = digest.run()
    assert [(line.severity, line.clause) for line in first.findings] == [("medium", "4.1(d)")]
    assert first.removals == ()
    assert digest.run().empty, "nothing is told twice"

    # The abusive comment disappears from the platform: the alert is remediated and the head told.
    write_export(s.export, [post("p1", "Year 5 trip to the museum", media=["images/trip.png"]), post("p2", "Cake sale on Friday, maybe bring a friend"), post("p3", "Harvest festival thank you")])
    s.clock.advance(timedelta(days=1))
    poll_again(s)
    second = digest.run()
    assert [line.ref for line in second.removals] == ["alert 1"]
    digests = [m for m in outbox(s) if "digest" in str(m["Message-ID"])]
    assert len(digests) == 2
    html = digests[-1].get_body(("html",))
    assert html is not None and "Removed from the platform (1)" in html.get_content()
    with s.app.database.sessions() as session:
        assert [e.event for e in CustodyLog(session).entries("alert", [1])][-1] == "removal_notified"
    s.app.close()


def test_digest_escapes_platform_text(tmp_path: Path) -> None:
    s = seed(tmp_path, f"sqlite:///{tmp_path / 'hallmon.db'}", [post("p1", "maybe <script>alert(1)</script>", [comment("c1", "ok")])])
    digest = services(s.app).digest
    message = digest.message(digest.collect())
    html = message.get_body(("html",))
    assert html is not None
    assert "<script>" not in html.get_content() and "&lt;script&gt;" in html.get_content()
    s.app.close()


def test_bad_lifecycle_settings_are_clear_errors(tmp_path: Path) -> None:
    export = write_export(tmp_path / "export", [])
    extra = '[lifecycle]\nescalate_after_hours = 0\ndsl = ["not an address"]\ndigest_time = "7.30"\n[report]\nday = "someday"\n[retention]\nx_deleted_hours = 48\n'
    with pytest.raises(ConfigError) as caught:  # found when the file is read, so check-config says it
        load_settings(archive_config(tmp_path, f"sqlite:///{tmp_path / 'h.db'}", {"school": export}, extra=extra))
    text = caught.value.report()
    for expected in (
        "'escalate_after_hours' must be a whole number from 1",
        "'dsl' must be a list of email addresses",
        "'digest_time' must be a time of day",
        "'day' must be a day of the week",
        "'x_deleted_hours' must be a whole number from 0 to 23",
    ):
        assert expected in text
