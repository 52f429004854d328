"""The daemon: APScheduler 3 decides *when*; the pipeline and sender decide *what*.

Each account is polled at its own interval with jitter; the alert sender runs every minute. Jobs
never overlap themselves (``max_instances=1``), missed runs coalesce into one, and a run that is
late by less than the grace time still happens. SIGTERM lets the current item finish and commit,
then the process exits 0. Under systemd it reports READY and pings the watchdog.
"""

from __future__ import annotations

import logging
import os
import random
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from types import FrameType

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from monitor.app import App, ConnectedAccount
from monitor.pipeline import Pipeline, PollOutcome, ScanOutcome
from monitor.sender import AlertSender, SendOutcome

log = logging.getLogger(__name__)


class SystemdNotifier:
    """sd_notify over $NOTIFY_SOCKET; does nothing when not started by systemd."""

    def __init__(self) -> None:
        self.enabled = bool(os.environ.get("NOTIFY_SOCKET"))
        self._notifier = None
        if self.enabled:
            import sdnotify

            self._notifier = sdnotify.SystemdNotifier()

    def notify(self, state: str) -> None:
        if self._notifier is not None:
            self._notifier.notify(state)

    @staticmethod
    def watchdog_interval() -> float | None:
        usec = os.environ.get("WATCHDOG_USEC")
        return int(usec) / 2_000_000 if usec and usec.isdigit() else None


@dataclass(frozen=True)
class CycleReport:
    polls: tuple[PollOutcome, ...] = ()
    disabled: tuple[ConnectedAccount, ...] = ()
    scan: ScanOutcome = ScanOutcome()
    send: SendOutcome = SendOutcome()


@dataclass
class Daemon:
    app: App
    extra_jobs: list[tuple[str, Callable[[], object], dict[str, object]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.pipeline: Pipeline = self.app.pipeline()
        self.sender: AlertSender = self.app.sender()
        self.health = self.app.health_notifier()
        self.accounts = self.app.connect_accounts()

    def poll_account(self, entry: ConnectedAccount) -> PollOutcome | None:
        if entry.connector is None or self.app.stop.is_set():
            return None
        outcome = self.pipeline.poll(entry.account, entry.connector)
        self.health.notify(outcome)
        self.pipeline.scan_pending()
        return outcome

    def cycle_once(self) -> CycleReport:
        """One pass over every account, then scan and send: ``hallmon poll --once`` and the demo."""
        self.sender.recover()
        polls = [
            self.pipeline.poll(entry.account, entry.connector)
            for entry in self.accounts
            if entry.connector is not None and not self.app.stop.is_set()
        ]
        for poll in polls:
            self.health.notify(poll)
        scan = self.pipeline.scan_pending()
        send = self.sender.send_due()
        disabled = tuple(entry for entry in self.accounts if entry.connector is None)
        return CycleReport(tuple(polls), disabled, scan, send)

    def build_scheduler(self) -> BackgroundScheduler:
        scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=2)},
            job_defaults={"max_instances": 1, "coalesce": True},
            timezone="UTC",
        )
        now = self.app.clock()
        for entry in self.accounts:
            if entry.connector is None:
                continue
            interval = entry.account.poll_interval
            # Stagger first polls so accounts do not all hit the network at the same moment.
            first = now + timedelta(seconds=random.uniform(1, min(30.0, interval.total_seconds() / 4)))
            scheduler.add_job(
                self.poll_account,
                IntervalTrigger(seconds=interval.total_seconds(), jitter=min(60, int(interval.total_seconds() / 10))),
                args=[entry],
                id=f"poll:{entry.account.key}",
                name=f"poll {entry.account.key}",
                next_run_time=first,
                misfire_grace_time=int(interval.total_seconds() / 2),
                max_instances=1,
                coalesce=True,
            )
        scheduler.add_job(
            self.sender.send_due,
            IntervalTrigger(seconds=self.app.settings.alerts.send_every_seconds),
            id="send-alerts",
            name="send alerts",
            next_run_time=now + timedelta(seconds=1),
            misfire_grace_time=60,
            max_instances=1,
            coalesce=True,
        )
        for job_id, func, trigger_args in self.extra_jobs:
            scheduler.add_job(func, id=job_id, name=job_id, misfire_grace_time=3600, max_instances=1, coalesce=True, **trigger_args)
        return scheduler

    def run(self) -> int:
        """Run until SIGTERM/SIGINT; returns the process exit code."""
        notifier = SystemdNotifier()

        def request_stop(signum: int, _frame: FrameType | None) -> None:
            log.info("received %s: finishing the current item, then stopping", signal.Signals(signum).name)
            self.app.stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        self.sender.recover()
        scheduler = self.build_scheduler()
        scheduler.start()
        active = sum(1 for entry in self.accounts if entry.connector is not None)
        log.info("Hall Monitor is running: %d account(s) polled, %d disabled", active, len(self.accounts) - active)
        notifier.notify("READY=1")
        notifier.notify(f"STATUS=monitoring {active} account(s)")
        ping_every = notifier.watchdog_interval() or 30.0
        while not self.app.stop.wait(ping_every):
            notifier.notify("WATCHDOG=1")
        notifier.notify("STOPPING=1")
        scheduler.shutdown(wait=True)
        self.app.close()
        log.info("Hall Monitor stopped cleanly")
        return 0
