"""The daemon under a real notify socket: READY, WATCHDOG, SIGTERM -> clean exit 0; job wiring."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from monitor.app import App
from monitor.clock import ManualClock
from monitor.config import load_settings
from monitor.daemon import Daemon
from tests.exports import archive_config, post, write_export


def test_run_notifies_systemd_pings_the_watchdog_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    export = write_export(tmp_path / "export", [post("p1", "Welcome back after half term")])
    config = archive_config(tmp_path, f"sqlite:///{tmp_path / 'state' / 'hallmon.db'}", {"school": export})
    notify_path = str(tmp_path / "notify.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(notify_path)
    listener.settimeout(1.0)
    env = {**os.environ, "NOTIFY_SOCKET": notify_path, "WATCHDOG_USEC": "400000", "HALLMON_CONFIG": str(config)}
    child = subprocess.Popen([sys.executable, "-m", "monitor.cli", "run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    messages: list[str] = []
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and not ("READY=1" in messages and messages.count("WATCHDOG=1") >= 2):
            try:
                messages.append(listener.recv(4096).decode())
            except TimeoutError:
                assert child.poll() is None, child.stderr.read().decode() if child.stderr else ""
        assert "READY=1" in messages
        assert messages.count("WATCHDOG=1") >= 2
        child.send_signal(signal.SIGTERM)
        _, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
        listener.close()
    assert child.returncode == 0, err.decode()
    assert "stopped cleanly" in err.decode()


def test_scheduler_jobs_never_overlap_coalesce_and_jitter(tmp_path: Path) -> None:
    exports = {name: write_export(tmp_path / name, [post("p", "hello")]) for name in ("one", "two")}
    settings = load_settings(archive_config(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}", exports))
    app = App.build(settings, clock=ManualClock(datetime(2026, 11, 24, tzinfo=UTC)), environ={})
    app._detectors = []
    app._analyser_loaded = True
    scheduler = Daemon(app).build_scheduler()
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"poll:archive:one", "poll:archive:two", "send-alerts"}
    for job_id in ("poll:archive:one", "poll:archive:two"):
        job = jobs[job_id]
        assert job.max_instances == 1 and job.coalesce is True
        assert job.trigger.interval.total_seconds() == 300 and job.trigger.jitter == 30
        assert job.misfire_grace_time == 150
    assert jobs["send-alerts"].trigger.interval.total_seconds() == 60
    app.close()
