"""Alert delivery through a real SMTP server (aiosmtpd on 127.0.0.1): escaping, outages, kills."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

from PIL import Image
from sqlalchemy import create_engine, select, text

from monitor.app import App
from monitor.clock import ManualClock
from monitor.config import load_settings
from monitor.daemon import Daemon
from storage.tables import AlertRow
from tests.exports import archive_config, comment, post, write_export
from tests.smtp_server import LocalSmtpServer
from tests.test_pipeline import KeywordDetector

START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
HOSTILE_AUTHOR = 'Evil\r\nBcc: everyone@victim.invalid\r\nX-Injected: yes <script>alert(1)</script>'
HOSTILE_TEXT = 'forbidden <img src=x onerror="alert(1)"> <a href="javascript:alert(2)">click</a>\u200b'


def smtp_extra(server: LocalSmtpServer, timeout: float = 10) -> str:
    return f'\n[smtp]\nhost = "{server.host}"\nport = {server.port}\nsecurity = "none"\ntimeout_seconds = {timeout}\n'


def build_app(tmp_path: Path, database_url: str, server: LocalSmtpServer, posts: list[dict], clock: ManualClock) -> App:
    export = tmp_path / "export"
    (export / "images").mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (40, 30), (10, 120, 200)).save(export / "images" / "pic.png")
    write_export(export, posts)
    settings = load_settings(archive_config(tmp_path, database_url, {"school": export}, smtp_extra(server)))
    app = App.build(settings, clock=clock, environ={})
    app._detectors = [KeywordDetector()]
    app._analyser_loaded = True
    return app


def parts(message: EmailMessage) -> tuple[str, str, list[str]]:
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None and html is not None
    names = [part.get_filename() or "" for part in message.iter_attachments()]
    return plain.get_content(), html.get_content(), names


def test_alert_email_arrives_with_both_parts_attachments_and_escaped_platform_text(tmp_path: Path, database_url: str) -> None:
    clock = ManualClock(START)
    with LocalSmtpServer() as server:
        hostile = post("p1", "Sports day", [comment("c1", HOSTILE_TEXT, author=HOSTILE_AUTHOR)], media=["images/pic.png"])
        app = build_app(tmp_path, database_url, server, [hostile, post("p2", "forbidden", media=["images/pic.png"])], clock)
        report = Daemon(app).cycle_once()
        assert len(report.send.sent) == 2
        received = server.wait_for(2)
        with app.database.sessions() as session:
            ids = set(session.scalars(select(AlertRow.message_id)).all())
        assert {m.message_id for m in received} == ids
        by_text = {m.message.get("X-Hallmon-Alert-Id"): m for m in received}
        assert len(by_text) == 2
        for message in received:
            email = message.message
            assert email["To"] == "head@test.invalid" and message.rcpt_tos == ("head@test.invalid",)
            assert "Bcc" not in email and "X-Injected" not in email
            assert "\n" not in email["Subject"] and "\r" not in email["Subject"]
            plain, html, names = parts(email)
            assert "appendix-1" in plain.lower() or "appendix 1" in plain.lower()
            assert "evidence-summary.json" in names
            assert "<script" not in html.lower() and "<img" not in html.lower()
            assert 'href="javascript:' not in html.lower()
        comment_mail = next(m.message for m in received if "c1" in parts(m.message)[0] or "Evil" in parts(m.message)[0])
        plain, html, names = parts(comment_mail)
        assert "&lt;img" in html or "&lt;img".lower() in html.lower()
        post_mail = next(m.message for m in received if m.message is not comment_mail)
        assert any(name.endswith(".png") for name in parts(post_mail)[2]), "the captured media is attached"
        app.close()


def test_smtp_down_keeps_alerts_queued_then_delivers_each_exactly_once(tmp_path: Path, database_url: str) -> None:
    clock = ManualClock(START)
    server = LocalSmtpServer()  # not started: connection refused
    app = build_app(tmp_path, database_url, server, [post(f"p{i}", f"forbidden {i}") for i in range(3)], clock)
    daemon = Daemon(app)
    report = daemon.cycle_once()
    assert len(report.scan.alerts) == 3 and report.send.sent == () and len(report.send.failed) == 1
    for _ in range(3):  # retries while down back off; nothing is lost or marked sent
        clock.advance(timedelta(minutes=5))
        assert daemon.sender.send_due().sent == ()
    with app.database.sessions() as session:
        rows = session.scalars(select(AlertRow)).all()
        assert all(row.status == "queued" and row.sent_at is None for row in rows)
        first = next(row for row in rows if row.attempts)
        assert first.next_attempt_at is not None and first.last_error
    server.start()
    try:
        clock.advance(timedelta(hours=2))
        assert len(daemon.sender.send_due().sent) == 3
        clock.advance(timedelta(hours=2))
        assert daemon.sender.send_due().sent == ()
        assert daemon.cycle_once().send.sent == ()
        ids = server.message_ids()
        assert len(ids) == 3 and len(set(ids)) == 3
    finally:
        server.stop()
        app.close()


def test_backoff_grows_exponentially_while_the_server_is_down(tmp_path: Path) -> None:
    clock = ManualClock(START)
    server = LocalSmtpServer()
    app = build_app(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}", server, [post("p1", "forbidden")], clock)
    daemon = Daemon(app)
    daemon.cycle_once()
    delays = []
    for _ in range(4):
        with app.database.sessions() as session:
            row = session.scalars(select(AlertRow)).one()
            due = row.next_attempt_at.replace(tzinfo=UTC) if row.next_attempt_at.tzinfo is None else row.next_attempt_at
        delays.append((due - clock()).total_seconds())
        clock.current = due
        daemon.sender.send_due()
    assert delays == [30, 60, 120, 240]
    app.close()


# --- killed processes ---


def child_config(tmp_path: Path, server_port: int, export: Path, timeout: float = 20) -> Path:
    db = f"sqlite:///{tmp_path / 'state' / 'hallmon.db'}"
    extra = f'\n[smtp]\nhost = "127.0.0.1"\nport = {server_port}\nsecurity = "none"\ntimeout_seconds = {timeout}\n'
    return archive_config(tmp_path, db, {"school": export}, extra)


def abusive_export(tmp_path: Path) -> Path:
    return write_export(
        tmp_path / "export",
        [
            post("p1", "Harvest festival", [comment("c1", "Mr Hartley is a useless idiot and should be sacked")]),
            post("p2", "Call Sam's mum on 07700 900123 about the lost coat"),
            post("p3", "Our library is open on Thursdays"),
        ],
    )


def start_child(config: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "HALLMON_CONFIG": str(config)}
    return subprocess.Popen([sys.executable, "-m", "monitor.cli", "poll", "--once"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def db_scalar(config_dir: Path, sql: str) -> int:
    engine = create_engine(f"sqlite:///{config_dir / 'state' / 'hallmon.db'}")
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(sql)).scalar() or 0)
    except Exception:
        return 0
    finally:
        engine.dispose()


def wait_until(predicate, timeout: float = 120.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("condition not reached in time")


class SilentServer:
    """Accepts TCP connections and never says a word: a sender hangs in its SMTP greeting."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = int(self.sock.getsockname()[1])
        self.accepted = threading.Event()
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            self.accepted.set()

    def close(self) -> None:
        for conn in self.conns:
            conn.close()
        self.sock.close()


def test_killed_after_queuing_then_restarted_sends_every_alert_exactly_once(tmp_path: Path) -> None:
    export = abusive_export(tmp_path)
    silent = SilentServer()
    config = child_config(tmp_path, silent.port, export)
    child = start_child(config)
    try:
        assert silent.accepted.wait(180), child.stderr.read().decode() if child.poll() is not None else "no connection"
        queued = db_scalar(tmp_path, "select count(*) from alerts")
        assert queued >= 2
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    finally:
        silent.close()
    items_before = db_scalar(tmp_path, "select count(*) from items")
    with LocalSmtpServer() as server:
        config = child_config(tmp_path, server.port, export)
        rerun = start_child(config)
        _, err = rerun.communicate(timeout=300)
        assert rerun.returncode == 0, err.decode()
        ids = server.message_ids()
        assert len(ids) == queued and len(set(ids)) == queued, "each alert exactly once"
    assert db_scalar(tmp_path, "select count(*) from items") == items_before, "nothing ingested twice"
    assert db_scalar(tmp_path, "select count(*) from alerts where status = 'sent'") == queued


def test_killed_while_sending_then_restarted_delivers_every_alert_once_by_message_id(tmp_path: Path) -> None:
    export = abusive_export(tmp_path)
    server = LocalSmtpServer(data_delay=60).start()
    try:
        config = child_config(tmp_path, server.port, export, timeout=90)
        child = start_child(config)
        assert server.data_started.wait(180), "the child never reached DATA"
        child.send_signal(signal.SIGKILL)  # the server has the message; the child never heard back
        child.wait(30)
        in_flight = server.message_ids()
        assert len(in_flight) == 1
        items_before = db_scalar(tmp_path, "select count(*) from items")
        alerts = db_scalar(tmp_path, "select count(*) from alerts")
        server.data_delay = 0
        rerun = start_child(config)
        _, err = rerun.communicate(timeout=300)
        assert rerun.returncode == 0, err.decode()
        ids = server.message_ids()
        # Every alert arrived; the one interrupted mid-send is repeated with the *same* Message-ID,
        # which mail systems merge, and no alert ever went out under two identities.
        assert len(set(ids)) == alerts
        assert len(ids) <= alerts + 1 and all(ids.count(i) == 1 for i in set(ids) - set(in_flight))
        assert db_scalar(tmp_path, "select count(*) from items") == items_before
        assert db_scalar(tmp_path, "select count(*) from alerts where status = 'sent'") == alerts
        # A third run sends nothing at all.
        third = start_child(config)
        third.communicate(timeout=300)
        assert len(server.message_ids()) == len(ids)
    finally:
        server.stop()
