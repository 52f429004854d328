"""Scheduled evidence work the daemon adds to its scheduler: the weekly report, the daily digest,
escalation of unacknowledged alerts, and retention purges.

Times of day are in the school's time zone (``[lifecycle] timezone``, default Europe/London), so
the report arrives at 07:00 on Monday in both GMT and BST.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from monitor.app import App
from monitor.digest import DigestBuilder
from monitor.email import EmailSettings
from monitor.evidence_settings import EvidenceConfig
from monitor.lifecycle import Escalator
from monitor.report import WeeklyReporter
from monitor.retention import RetentionPurger

log = logging.getLogger(__name__)

Job = tuple[str, Callable[[], object], dict[str, object]]


@dataclass(frozen=True)
class Services:
    config: EvidenceConfig
    escalator: Escalator
    digest: DigestBuilder
    reporter: WeeklyReporter
    purger: RetentionPurger


def email_settings(app: App) -> EmailSettings:
    alerts = app.settings.alerts
    return EmailSettings(
        school_name=app.settings.school.name,
        from_address=alerts.sender,
        to_addresses=alerts.recipients or (alerts.sender,),
    )


def services(app: App, config: EvidenceConfig | None = None) -> Services:
    """Wire the lifecycle services from the app (the composition root's objects)."""
    config = config or app.settings.evidence
    events = app.events()
    email = email_settings(app)
    transport = app.transport()
    return Services(
        config=config,
        escalator=Escalator(app.database, app.evidence, transport, email, config.lifecycle, app.clock, events, app.attachment_builder()),
        digest=DigestBuilder(app.database, app.evidence, transport, email, config.lifecycle, config.retention, app.clock, events),
        reporter=WeeklyReporter(
            app.database, app.evidence, app.settings.school.name, config.zone, app.clock, app.transport, email.from_address, config.report.recipients
        ),
        purger=RetentionPurger(app.database, app.evidence, config.retention, app.clock, events),
    )


def _guarded(name: str, func: Callable[[], object]) -> Callable[[], object]:
    def run() -> object:
        try:
            return func()
        except Exception as exc:  # keep the daemon up; the next run tries again
            log.error("%s failed: %s: %s", name, type(exc).__name__, exc)
            return None

    run.__name__ = name
    return run


def scheduled_jobs(app: App) -> list[Job]:
    """(job id, function, APScheduler trigger arguments) for the daemon to add."""
    s = services(app)
    life, report, retention = s.config.lifecycle, s.config.report, s.config.retention
    zone = s.config.zone
    return [
        (
            "weekly-report",
            _guarded("weekly report", lambda: s.reporter.run(out_dir=report.out_dir or app.settings.state_dir / "reports")),
            {"trigger": CronTrigger(day_of_week=report.day, hour=report.time.hour, minute=report.time.minute, timezone=zone)},
        ),
        (
            "daily-digest",
            _guarded("daily digest", s.digest.run),
            {"trigger": CronTrigger(hour=life.digest_time.hour, minute=life.digest_time.minute, timezone=zone)},
        ),
        (
            "escalate-alerts",
            _guarded("escalation", s.escalator.run),
            {"trigger": IntervalTrigger(minutes=life.check_every_minutes, timezone=zone)},
        ),
        (
            "retention-purge",
            _guarded("retention purge", s.purger.run),
            {"trigger": IntervalTrigger(minutes=retention.purge_every_minutes, timezone=zone)},
        ),
    ]
