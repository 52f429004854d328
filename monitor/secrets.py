"""Secrets from the environment or systemd credentials; never from the config file or logs.

Lookup order for a secret NAME: the newer of a token the daemon refreshed itself
(``<state>/secrets/NAME``) and ``$CREDENTIALS_DIRECTORY/NAME`` (systemd ``LoadCredential=``), then
the environment variable NAME. Every secret read is registered with :class:`RedactingFilter`, which blanks it out of any log
record.
"""

from __future__ import annotations

import logging
import os
import secrets as token_source
from collections.abc import Mapping
from pathlib import Path

_KNOWN_SECRET_VALUES: set[str] = set()


def _remember(value: str) -> str:
    if len(value) >= 6:
        _KNOWN_SECRET_VALUES.add(value)
    return value


class SecretSource:
    def __init__(
        self,
        environ: Mapping[str, str] | None = None,
        credentials_dir: Path | None = None,
        state_dir: Path | None = None,
    ) -> None:
        self.environ = dict(os.environ if environ is None else environ)
        cred = credentials_dir or (Path(self.environ["CREDENTIALS_DIRECTORY"]) if self.environ.get("CREDENTIALS_DIRECTORY") else None)
        self.credentials_dir = cred
        self.saved_dir = state_dir / "secrets" if state_dir else None

    def get(self, name: str) -> str | None:
        candidates = []
        if self.saved_dir is not None:
            candidates.append(self.saved_dir / name)
        if self.credentials_dir is not None:
            # LoadCredential=hallmon:/etc/hallmon/credentials names each file hallmon_<NAME>.
            candidates += [self.credentials_dir / name, self.credentials_dir / f"hallmon_{name}"]
        # A token refreshed by the daemon and one IT installed later: the newer file wins.
        existing = sorted((c for c in candidates if c.is_file()), key=lambda c: c.stat().st_mtime, reverse=True)
        for candidate in existing:
            value = candidate.read_text(encoding="utf-8").strip()
            if value:
                return _remember(value)
        value = self.environ.get(name, "").strip()
        return _remember(value) if value else None

    def save(self, name: str, value: str) -> None:
        """Persist a refreshed token (owner-only file, written atomically)."""
        if self.saved_dir is None:
            raise RuntimeError("no state directory to save secrets in")
        self.saved_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        target = self.saved_dir / name
        tmp = target.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(value)
        os.replace(tmp, target)
        _remember(value)

    def get_or_create(self, name: str, length: int = 32) -> str:
        """A secret the school need not supply (e.g. the roster hashing key): made once, kept."""
        existing = self.get(name)
        if existing:
            return existing
        value = token_source.token_hex(length)
        self.save(name, value)
        return value


class RedactingFilter(logging.Filter):
    """Replaces every known secret value in a log record with '***'."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not _KNOWN_SECRET_VALUES:
            return True
        message = record.getMessage()
        redacted = message
        for value in _KNOWN_SECRET_VALUES:
            if value in redacted:
                redacted = redacted.replace(value, "***")
        if redacted != message:
            record.msg = redacted
            record.args = None
        return True
