"""Settings from one TOML file, checked with errors that say where the problem is.

Secrets never live here: API tokens and the SMTP password come from the environment or from
files in ``$CREDENTIALS_DIRECTORY`` (see ``monitor.secrets``). A secret-looking key in the file
is an error, so nobody is tempted to put one there.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from monitor.domain import Account, Severity
from monitor.evidence_settings import EvidenceConfig, parse_evidence_settings

SECRET_KEY_PATTERN = re.compile(r"(password|secret|token|api_key|apikey|bearer)", re.IGNORECASE)
SMTP_SECURITY = ("starttls", "ssl", "none")


class ConfigError(Exception):
    """A problem in the configuration file; ``problems`` lists every one found, located."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))

    def report(self) -> str:
        lines = [f"Configuration file {self.path} has {len(self.problems)} problem(s):"]
        lines += [f"  - {problem}" for problem in self.problems]
        return "\n".join(lines)


@dataclass(frozen=True)
class SchoolSettings:
    name: str = "Our School"
    other_names: tuple[str, ...] = ()
    domain: str = "hallmon.invalid"
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    websites: tuple[str, ...] = ()
    postcodes: tuple[str, ...] = ()
    address_lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class SmtpConfig:
    host: str = ""
    port: int = 587
    security: str = "starttls"
    username: str = ""
    timeout_seconds: float = 30.0


@dataclass(frozen=True)
class AlertSettings:
    min_severity: Severity = Severity.HIGH
    recipients: tuple[str, ...] = ()
    sender: str = "hall-monitor@localhost"
    outbox_dir: Path | None = None
    send_every_seconds: int = 60
    attach_max_bytes: int = 10 * 1024 * 1024


@dataclass(frozen=True)
class MediaSettings:
    max_download_bytes: int = 50 * 1024 * 1024
    download_timeout_seconds: float = 30.0
    ocr: bool = True


@dataclass(frozen=True)
class Settings:
    path: Path
    state_dir: Path
    database_url: str
    school: SchoolSettings
    alerts: AlertSettings
    smtp: SmtpConfig
    media: MediaSettings
    accounts: tuple[Account, ...]
    detectors: tuple[str, ...] | None = None
    log_level: str = "INFO"
    evidence: EvidenceConfig = field(default_factory=EvidenceConfig)  # [lifecycle] [retention] [report]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def evidence_dir(self) -> Path:
        return self.state_dir / "evidence"


def _line_of(text: str, needle: str) -> int | None:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip().startswith(needle):
            return number
    return None


class _Reader:
    """Pulls typed values out of the parsed TOML and collects located problems."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.text = text
        self.problems: list[str] = []

    def problem(self, where: str, message: str, key: str = "") -> None:
        line = _line_of(self.text, key) if key else None
        location = f"line {line}, {where}" if line else where
        self.problems.append(f"{location}: {message}")

    def get(self, table: dict[str, Any], where: str, key: str, kind: type, default: Any) -> Any:
        if key not in table:
            return default
        value = table[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.problem(where, f"'{key}' must be {kind.__name__}, not {type(value).__name__}", key)
            return default
        return value

    def strings(self, table: dict[str, Any], where: str, key: str) -> tuple[str, ...]:
        value = table.get(key, [])
        if isinstance(value, str):
            return (value,)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problem(where, f"'{key}' must be a list of strings", key)
            return ()
        return tuple(value)

    def table(self, data: dict[str, Any], key: str) -> dict[str, Any]:
        value = data.get(key, {})
        if not isinstance(value, dict):
            self.problem(f"[{key}]", "must be a table", key)
            return {}
        return value

    def reject_secrets(self, table: dict[str, Any], where: str) -> None:
        for key in table:
            if SECRET_KEY_PATTERN.search(key) and key not in ("password_env",):
                self.problem(
                    where,
                    f"'{key}' looks like a secret. Secrets never go in this file: set an environment "
                    "variable or a systemd credential instead (see README, 'Secrets').",
                    key,
                )


def load_settings(path: Path, known_platforms: set[str] | None = None) -> Settings:
    """Read and check a config file; raises :class:`ConfigError` listing every problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(path, [f"cannot read the file: {exc.strerror or exc}"]) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, [f"not valid TOML: {exc}"]) from exc
    return parse_settings(path, text, data, known_platforms)


def parse_settings(
    path: Path, text: str, data: dict[str, Any], known_platforms: set[str] | None
) -> Settings:
    r = _Reader(path, text)
    base = path.parent

    def resolve(value: str) -> Path:
        candidate = Path(os.path.expandvars(value)).expanduser()
        return candidate if candidate.is_absolute() else (base / candidate).resolve()

    school_t = r.table(data, "school")
    r.reject_secrets(school_t, "[school]")
    school = SchoolSettings(
        name=r.get(school_t, "[school]", "name", str, "Our School"),
        other_names=r.strings(school_t, "[school]", "other_names"),
        domain=r.get(school_t, "[school]", "domain", str, "hallmon.invalid"),
        phones=r.strings(school_t, "[school]", "phones"),
        emails=r.strings(school_t, "[school]", "emails"),
        websites=r.strings(school_t, "[school]", "websites"),
        postcodes=r.strings(school_t, "[school]", "postcodes"),
        address_lines=r.strings(school_t, "[school]", "address_lines"),
    )

    storage_t = r.table(data, "storage")
    r.reject_secrets(storage_t, "[storage]")
    state_default = os.environ.get("STATE_DIRECTORY", "").split(":")[0] or "state"
    state_dir = resolve(r.get(storage_t, "[storage]", "state_dir", str, state_default))
    database_url = r.get(storage_t, "[storage]", "database_url", str, "")
    if database_url and re.search(r"://[^/@]*:[^/@]+@", database_url):
        r.problem(
            "[storage]",
            "'database_url' contains a password. Leave it out and set HALLMON_DATABASE_PASSWORD "
            "(environment or systemd credential) instead.",
            "database_url",
        )
    if not database_url:
        database_url = f"sqlite:///{state_dir / 'hallmon.db'}"

    alerts_t = r.table(data, "alerts")
    severity_text = r.get(alerts_t, "[alerts]", "min_severity", str, "high")
    try:
        min_severity = Severity(severity_text)
    except ValueError:
        r.problem("[alerts]", f"'min_severity' must be one of low, medium, high, critical (got '{severity_text}')", "min_severity")
        min_severity = Severity.HIGH
    outbox = r.get(alerts_t, "[alerts]", "outbox_dir", str, "")
    alerts = AlertSettings(
        min_severity=min_severity,
        recipients=r.strings(alerts_t, "[alerts]", "recipients"),
        sender=r.get(alerts_t, "[alerts]", "from", str, "hall-monitor@localhost"),
        outbox_dir=resolve(outbox) if outbox else None,
        send_every_seconds=r.get(alerts_t, "[alerts]", "send_every_seconds", int, 60),
    )
    for address in (*alerts.recipients, alerts.sender):
        if "@" not in address or any(c in address for c in "\r\n <>"):
            r.problem("[alerts]", f"'{address}' is not an email address", "recipients")

    smtp_t = r.table(data, "smtp")
    r.reject_secrets(smtp_t, "[smtp]")
    smtp = SmtpConfig(
        host=r.get(smtp_t, "[smtp]", "host", str, ""),
        port=r.get(smtp_t, "[smtp]", "port", int, 587),
        security=r.get(smtp_t, "[smtp]", "security", str, "starttls"),
        username=r.get(smtp_t, "[smtp]", "username", str, ""),
        timeout_seconds=r.get(smtp_t, "[smtp]", "timeout_seconds", float, 30.0),
    )
    if smtp.security not in SMTP_SECURITY:
        r.problem("[smtp]", f"'security' must be one of {', '.join(SMTP_SECURITY)}", "security")
    if not smtp.host and alerts.outbox_dir is None:
        alerts = AlertSettings(**{**alerts.__dict__, "outbox_dir": state_dir / "outbox"})
    if smtp.host and not alerts.recipients:
        r.problem("[alerts]", "'recipients' is empty: nobody would receive the alerts", "recipients")

    evidence, problems = parse_evidence_settings(data, base, alerts.recipients or (alerts.sender,))
    r.problems.extend(problems)

    media_t = r.table(data, "media")
    media = MediaSettings(
        max_download_bytes=r.get(media_t, "[media]", "max_download_mb", int, 50) * 1024 * 1024,
        download_timeout_seconds=r.get(media_t, "[media]", "download_timeout_seconds", float, 30.0),
        ocr=r.get(media_t, "[media]", "ocr", bool, True),
    )

    detectors_t = r.table(data, "detectors")
    enabled = r.strings(detectors_t, "[detectors]", "enabled") if "enabled" in detectors_t else None

    accounts: list[Account] = []
    raw_accounts = data.get("accounts", [])
    if not isinstance(raw_accounts, list):
        r.problem("[[accounts]]", "accounts must be written as [[accounts]] tables", "accounts")
        raw_accounts = []
    seen: set[str] = set()
    for index, entry in enumerate(raw_accounts, start=1):
        where = f"[[accounts]] #{index}"
        if not isinstance(entry, dict):
            r.problem(where, "must be a table")
            continue
        r.reject_secrets(entry, where)
        platform = r.get(entry, where, "platform", str, "")
        handle = r.get(entry, where, "handle", str, "")
        if not platform:
            r.problem(where, "'platform' is missing", "[[accounts]]")
        elif known_platforms is not None and platform not in known_platforms:
            r.problem(where, f"platform '{platform}' is not installed (known: {', '.join(sorted(known_platforms))})", "platform")
        if not handle:
            r.problem(where, "'handle' is missing", "[[accounts]]")
        minutes = r.get(entry, where, "poll_minutes", int, 15)
        if minutes < 1:
            r.problem(where, "'poll_minutes' must be at least 1", "poll_minutes")
            minutes = 15
        options_t = entry.get("options", {})
        if not isinstance(options_t, dict):
            r.problem(where, "'options' must be a table", "options")
            options_t = {}
        r.reject_secrets(options_t, where + ".options")
        options = {str(k): str(v) for k, v in options_t.items()}
        if "path" in options:
            options["path"] = str(resolve(options["path"]))
        account = Account(
            platform=platform,
            handle=handle,
            poll_interval=timedelta(minutes=minutes),
            display_name=r.get(entry, where, "display_name", str, ""),
            options=options,
        )
        if account.key in seen:
            r.problem(where, f"account {account.key} is listed twice", "handle")
        seen.add(account.key)
        accounts.append(account)

    if r.problems:
        raise ConfigError(path, r.problems)
    return Settings(
        path=path,
        state_dir=state_dir,
        database_url=database_url,
        school=school,
        alerts=alerts,
        smtp=smtp,
        media=media,
        accounts=tuple(accounts),
        detectors=enabled,
        log_level=str(data.get("log_level", "INFO")),
        evidence=evidence,
    )
