"""The weekly audit report: HTML and a 4-page PDF from a seeded database, and its schedule."""

from __future__ import annotations

import email
import io
from datetime import UTC, datetime, timedelta
from email import policy
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from connectors.base import RateLimited
from monitor.cli import main
from monitor.daemon import Daemon
from monitor.domain import Account, Cursor, FetchResult
from monitor.lifecycle import AlertLifecycle, Outcome
from monitor.lifecycle_jobs import scheduled_jobs, services
from monitor.report import ReportError, build_report, parse_week, previous_week, render_report_html
from tests.evidence_support import START, seed

LONDON = ZoneInfo("Europe/London")


class Throttled:
    platform = "x"
    version = "test"

    def fetch(self, since: Cursor | None) -> FetchResult:
        raise RateLimited("too many requests", START + timedelta(minutes=15))


def seeded_week(tmp_path: Path, database_url: str, extra: str = ""):  # type: ignore[no-untyped-def]
    s = seed(tmp_path, database_url, extra=extra)
    s.app.sender().send_due()
    life = AlertLifecycle(s.app.database, s.app.clock, s.app.events())
    s.clock.advance(timedelta(hours=3))
    life.acknowledge(1, "Ms Head")
    s.clock.advance(timedelta(days=1))
    life.resolve(1, "Ms Head", Outcome.FALSE_POSITIVE, "a quotation from a book")
    s.pipeline.poll(Account("x", "school"), Throttled())
    return s


def test_weeks_are_iso_weeks_in_the_school_time_zone() -> None:
    week = parse_week("2026-W47", LONDON)
    assert (week.start, week.end) == (datetime(2026, 11, 16, tzinfo=LONDON), datetime(2026, 11, 23, tzinfo=LONDON))
    summer = parse_week("2026-W27", LONDON)
    assert summer.start.astimezone(UTC) == datetime(2026, 6, 28, 23, 0, tzinfo=UTC)
    assert previous_week(datetime(2026, 11, 23, 7, 0, tzinfo=UTC), LONDON).label == "2026-W47"
    for bad in ("2026-47", "W47", "2026-W54", ""):
        with pytest.raises(ReportError):
            parse_week(bad, LONDON)


def test_report_renders_html_and_a_four_page_pdf(tmp_path: Path, database_url: str) -> None:
    s = seeded_week(tmp_path, database_url)
    svc = services(s.app)
    out = svc.reporter.run(parse_week("2026-W47", svc.config.zone), out_dir=tmp_path / "reports", send=True)
    assert out.verify_ok and out.html is not None and out.pdf is not None

    html = out.html.read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") == 3
    reader = PdfReader(str(out.pdf))
    assert len(reader.pages) == 4
    pages = [" ".join(page.extract_text().split()) for page in reader.pages]
    assert "Weekly audit report \u2013 Test Primary School" in pages[0]
    assert "Week 2026-W47: Monday 16 November 2026 to Sunday 22 November 2026" in pages[0]
    assert "Items scanned 4" in pages[0] and "Findings 2" in pages[0]
    assert "Alerts opened / acknowledged / resolved 1 / 1 / 1" in pages[0]
    assert "Median time to acknowledge 3.0 hours" in pages[0]
    assert "False-positive rate (of alerts resolved) 100%" in pages[0]
    assert "All 2 evidence files and" in pages[0]
    assert "Findings by policy clause and severity" in pages[1] and "appendix-1 high 1" in pages[1] and "4.1(d) medium 1" in pages[1]
    assert "outcome: false-positive 1" in pages[1]
    assert "Connector health" in pages[2] and "archive:school ok 1 0" in pages[2]
    assert "x:school rate_limited 0 1 rate_limited: 1 1" in pages[2]
    assert "Evidence, custody and retention" in pages[3] and "hallmon verify: everything matches." in pages[3]
    assert "detector used this week: keyword@1.2" in pages[3]
    assert all(f"Page {n} of 4" in page for n, page in enumerate(pages, start=1))

    [sent] = list((s.app.settings.state_dir / "outbox").glob("hallmon.report-2026-W47*.eml"))
    message = email.message_from_bytes(sent.read_bytes(), policy=policy.default)
    assert message["Subject"] == "[Hall Monitor] Weekly audit report 2026-W47 - Test Primary School"
    body = message.get_body(("html",))
    assert body is not None and body.get_content().count('src="cid:chart-') == 3
    attachments = {p.get_filename(): p.get_content() for p in message.iter_attachments()}
    assert len(PdfReader(io.BytesIO(attachments["hallmon-report-2026-W47.pdf"])).pages) == 4
    s.app.close()


def test_report_shows_a_failed_verification(tmp_path: Path) -> None:
    s = seeded_week(tmp_path, f"sqlite:///{tmp_path / 'hallmon.db'}")
    raw = next(iter(s.app.evidence.root.glob("*/*/*")))
    raw.chmod(0o640)
    raw.write_bytes(b"tampered")
    report = build_report(s.app.database, s.app.evidence, "Test Primary School", parse_week("2026-W47", LONDON), s.clock())
    html = render_report_html(report, lambda name: "about:blank")
    assert "CHANGES FOUND" in html and raw.name in html
    s.app.close()


def test_weekly_job_fires_at_the_configured_time_and_writes_the_report(tmp_path: Path) -> None:
    extra = '[report]\nday = "fri"\ntime = "16:30"\nrecipients = ["it@test.invalid"]\n[lifecycle]\ndigest_time = "07:45"\n'
    s = seeded_week(tmp_path, f"sqlite:///{tmp_path / 'hallmon.db'}", extra=extra)
    jobs = {job_id: (func, trigger) for job_id, func, trigger in scheduled_jobs(s.app)}
    assert set(jobs) == {"weekly-report", "daily-digest", "escalate-alerts", "retention-purge"}
    weekly = jobs["weekly-report"][1]["trigger"]
    winter = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # a Monday
    assert weekly.get_next_fire_time(None, winter) == datetime(2026, 11, 27, 16, 30, tzinfo=LONDON)  # type: ignore[attr-defined]
    summer = datetime(2026, 6, 29, 12, 0, tzinfo=UTC)
    assert weekly.get_next_fire_time(None, summer).astimezone(UTC) == datetime(2026, 7, 3, 15, 30, tzinfo=UTC)  # type: ignore[attr-defined]
    digest = jobs["daily-digest"][1]["trigger"]
    assert digest.get_next_fire_time(None, winter) == datetime(2026, 11, 24, 7, 45, tzinfo=LONDON)  # type: ignore[attr-defined]

    scheduler = Daemon(s.app, extra_jobs=scheduled_jobs(s.app)).build_scheduler()  # as `hallmon run` does
    assert {"weekly-report", "daily-digest", "escalate-alerts", "retention-purge"} <= {job.id for job in scheduler.get_jobs()}

    s.clock.current = datetime(2026, 11, 27, 16, 30, tzinfo=UTC)  # the job runs: it reports the last full week
    jobs["weekly-report"][0]()
    assert (s.app.settings.state_dir / "reports" / "hallmon-report-2026-W47.pdf").exists()
    [sent] = list((s.app.settings.state_dir / "outbox").glob("hallmon.report-2026-W47*.eml"))
    assert "it@test.invalid" in sent.read_text()
    s.app.close()


def test_report_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    s = seeded_week(tmp_path, f"sqlite:///{tmp_path / 'hallmon.db'}")
    config = str(s.app.settings.path)
    assert main(["report", "--week", "2026-W47", "--out", str(tmp_path / "r"), "--config", config]) == 0
    assert "Weekly report 2026-W47" in capsys.readouterr().out
    assert len(PdfReader(str(tmp_path / "r" / "hallmon-report-2026-W47.pdf")).pages) == 4
    assert not list((s.app.settings.state_dir / "outbox").glob("hallmon.report-*.eml")), "not sent without --send"
    assert main(["report", "--week", "2026-47", "--config", config]) == 2
    assert "write it as YEAR-Wnn" in capsys.readouterr().out
    s.app.close()
