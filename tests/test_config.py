"""Configuration errors are clear and located; secrets never reach the config file or the logs."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.app import App, database_url
from monitor.config import ConfigError, load_settings
from monitor.secrets import RedactingFilter, SecretSource
from tests.conftest import write_config
from tests.exports import archive_config, post, write_export


def problems(tmp_path: Path, body: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(write_config(tmp_path, body), {"archive", "x"})
    return caught.value.problems


def test_bad_toml_says_where(tmp_path: Path) -> None:
    found = problems(tmp_path, "[school]\nname = \n")
    assert len(found) == 1 and "not valid TOML" in found[0] and "line 2" in found[0]


def test_every_problem_is_listed_with_its_line(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        """
        [alerts]
        min_severity = "urgent"
        recipients = ["not-an-address"]

        [smtp]
        host = "smtp.example.invalid"
        security = "tls"
        password = "hunter2hunter2"

        [[accounts]]
        platform = "tiktok"
        handle = "school"

        [[accounts]]
        platform = "x"
        poll_minutes = "often"
        """,
    )
    text = "\n".join(found)
    assert "line 3, [alerts]: 'min_severity' must be one of low, medium, high, critical" in text
    assert "'not-an-address' is not an email address" in text
    assert "[smtp]: 'security' must be one of starttls, ssl, none" in text
    assert "'password' looks like a secret" in text
    assert "[[accounts]] #1: platform 'tiktok' is not installed (known: archive, x)" in text
    assert "[[accounts]] #2: 'handle' is missing" in text
    assert "'poll_minutes' must be int, not str" in text


def test_database_password_in_url_is_refused(tmp_path: Path) -> None:
    found = problems(tmp_path, '[storage]\ndatabase_url = "postgresql://hallmon:s3cret@db/hallmon"\n')
    assert any("contains a password" in p and "HALLMON_DATABASE_PASSWORD" in p for p in found)


def check_config(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor.cli", "check-config", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_config_command_prints_located_errors(tmp_path: Path) -> None:
    result = check_config(write_config(tmp_path, '[alerts]\nmin_severity = "urgent"\n'))
    assert result.returncode == 2
    assert "has 1 problem(s)" in result.stderr and "line 2, [alerts]" in result.stderr


def test_secrets_come_from_credentials_and_environment(tmp_path: Path) -> None:
    credentials = tmp_path / "creds"
    credentials.mkdir()
    (credentials / "hallmon_SMTP_PASSWORD").write_text("from-systemd-credential\n")
    source = SecretSource({"X_BEARER_TOKEN": "from-environment"}, credentials_dir=credentials, state_dir=tmp_path / "state")
    assert source.get("SMTP_PASSWORD") == "from-systemd-credential"
    assert source.get("X_BEARER_TOKEN") == "from-environment"
    assert source.get("YOUTUBE_API_KEY") is None
    source.save("INSTAGRAM_ACCESS_TOKEN", "refreshed-token-value")
    saved = tmp_path / "state" / "secrets" / "INSTAGRAM_ACCESS_TOKEN"
    assert saved.stat().st_mode & 0o777 == 0o600
    assert source.get("INSTAGRAM_ACCESS_TOKEN") == "refreshed-token-value"


def test_secrets_never_appear_in_logs(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    export = write_export(tmp_path / "export", [post("p1", "hello")])
    settings = load_settings(
        archive_config(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}", {"school": export}),
        {"archive"},
    )
    environ = {"SMTP_PASSWORD": "pa55word-do-not-log", "HALLMON_DATABASE_PASSWORD": "db-secret-xyz"}
    handler_filter = RedactingFilter()
    caplog.handler.addFilter(handler_filter)
    with caplog.at_level(logging.DEBUG):
        app = App.build(settings, environ=environ)
        password = app.secrets.get("SMTP_PASSWORD")
        # Code that carelessly logs a secret still does not leak it.
        logging.getLogger("hallmon.test").warning("connecting with password %s", password)
        logging.getLogger("hallmon.test").error("url was postgresql://u:%s@db/x", app.secrets.get("HALLMON_DATABASE_PASSWORD"))
        app.close()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "connecting with password ***" in logged
    assert "pa55word-do-not-log" not in logged and "db-secret-xyz" not in logged


def test_database_password_is_added_from_the_secret(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[storage]\nstate_dir = "s"\ndatabase_url = "postgresql://hallmon@db.invalid/school"\n')
    settings = load_settings(path)
    url = database_url(settings, SecretSource({"HALLMON_DATABASE_PASSWORD": "pw-from-secret"}))
    assert url == "postgresql://hallmon:pw-from-secret@db.invalid/school"


def test_check_config_reads_the_lifecycle_tables_too(tmp_path: Path) -> None:
    result = check_config(write_config(tmp_path, '[lifecycle]\ndigest_time = "7.30"\ntimezone = "Europe/Londn"\n'))
    assert result.returncode == 2
    assert "'digest_time' must be a time of day" in result.stderr and "'Europe/Londn'" in result.stderr


def test_account_failures_go_only_to_listed_it_recipients(tmp_path: Path) -> None:
    quiet = load_settings(write_config(tmp_path, '[alerts]\nrecipients = ["head@school.example"]\n'))
    assert quiet.evidence.report.recipients == ("head@school.example",)  # the weekly report falls back
    assert quiet.evidence.report.it_recipients == ()  # account failures do not
    (tmp_path / "it").mkdir()
    listed = load_settings(write_config(tmp_path / "it", '[report]\nrecipients = ["it@school.example"]\n'))
    assert listed.evidence.report.it_recipients == ("it@school.example",)
