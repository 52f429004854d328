"""Delivering an alert email: by SMTP, or as an .eml file in a folder (the demo, no mail server).

A transport either delivers the message or raises :class:`DeliveryFailed`, which says whether
trying again later can help (``permanent=False``: server down, timeout, 4xx) or IT must change
something first (``permanent=True``: wrong password, address refused). Messages name the server
and what to fix, never the password.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import smtplib
import socket
import ssl
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol, runtime_checkable

log = logging.getLogger(__name__)

SECURITY_MODES = ("starttls", "ssl", "none")


class DeliveryFailed(Exception):
    """The message was not delivered; ``permanent`` means retrying unchanged will not help."""

    def __init__(self, message: str, permanent: bool, smtp_code: int | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.smtp_code = smtp_code


@runtime_checkable
class Transport(Protocol):
    """Delivers one composed alert email, or raises DeliveryFailed."""

    def send(self, message: EmailMessage) -> None:
        """Deliver the message; raise DeliveryFailed if it was not delivered."""

    def describe(self) -> str:
        """Where messages go, for logs (never a secret)."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 587
    security: str = "starttls"
    username: str = ""
    # Filled from a secret by the composition root; hidden from repr so it never reaches a log.
    password: str = field(default="", repr=False)
    timeout_seconds: float = 30
    helo_name: str = ""

    def __post_init__(self) -> None:
        if self.security not in SECURITY_MODES:
            raise ValueError(f"SMTP security must be one of {', '.join(SECURITY_MODES)}, not {self.security!r}")
        if not self.host or any(c.isspace() for c in self.host):
            raise ValueError(f"SMTP host {self.host!r} is not a host name")
        if not 0 < self.port < 65536:
            raise ValueError(f"SMTP port {self.port} is not between 1 and 65535")
        if self.timeout_seconds <= 0:
            raise ValueError("SMTP timeout_seconds must be positive")


Connect = Callable[..., smtplib.SMTP]


class SmtpTransport:
    """Sends by SMTP with STARTTLS, implicit TLS (SSL) or no encryption, and optional AUTH."""

    def __init__(
        self,
        settings: SmtpSettings,
        connect: Connect | None = None,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.settings = settings
        self._tls = tls_context or ssl.create_default_context()
        self._connect = connect or self._default_connect

    def describe(self) -> str:
        """'SMTP mail.example.org:587 (STARTTLS, user alerts)' — no password."""
        s = self.settings
        user = f", user {s.username}" if s.username else ""
        return f"SMTP {s.host}:{s.port} ({s.security.upper()}{user})"

    def _default_connect(self, host: str, port: int, timeout: float, local_hostname: str | None) -> smtplib.SMTP:
        if self.settings.security == "ssl":
            return smtplib.SMTP_SSL(host, port, local_hostname=local_hostname, timeout=timeout, context=self._tls)
        return smtplib.SMTP(host, port, local_hostname=local_hostname, timeout=timeout)

    def send(self, message: EmailMessage) -> None:
        """Deliver the message; raise DeliveryFailed saying whether a retry can help."""
        try:
            self._send(message)
        except DeliveryFailed:
            raise
        except Exception as exc:
            raise self._classify(exc) from exc

    def _send(self, message: EmailMessage) -> None:
        s = self.settings
        smtp = self._connect(
            host=s.host,
            port=s.port,
            timeout=s.timeout_seconds,
            local_hostname=s.helo_name or None,
        )
        try:
            smtp.ehlo_or_helo_if_needed()
            if s.security == "starttls":
                smtp.starttls(context=self._tls)
                smtp.ehlo()
            if s.username:
                smtp.login(s.username, s.password)
            refused = smtp.send_message(message)
        except BaseException:
            smtp.close()
            raise
        # The server has accepted the message: a failure from here on must not make the
        # caller send it again, so QUIT problems are ignored.
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()
        if refused:
            # Some recipients took it; re-sending would duplicate it for them, so only warn.
            log.warning(
                "alert %s was refused for %s by %s; check [alerts] recipients",
                message.get("Message-ID", "?"),
                ", ".join(sorted(refused)),
                self.describe(),
            )

    def _classify(self, exc: Exception) -> DeliveryFailed:
        where = self.describe()
        text = self._scrub(_reply_text(exc))
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            return DeliveryFailed(
                f"{where} rejected the username or password ({text}). IT: check the SMTP "
                "username in the config and the SMTP password secret.",
                permanent=True,
                smtp_code=exc.smtp_code,
            )
        if isinstance(exc, smtplib.SMTPNotSupportedError):
            return DeliveryFailed(
                f"{where} does not support what the configuration asks for ({text}). IT: check "
                "'security' (starttls / ssl / none) and whether the server needs a login.",
                permanent=True,
            )
        if isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code == 530:
            return DeliveryFailed(
                f"{where} requires a login or an encrypted connection first ({text}). IT: set "
                "'username' and the SMTP password secret, or security = \"starttls\".",
                permanent=True,
                smtp_code=530,
            )
        if isinstance(exc, smtplib.SMTPRecipientsRefused):
            codes = [code for code, _ in exc.recipients.values()]
            refused = ", ".join(sorted(exc.recipients))
            permanent = bool(codes) and all(code >= 500 for code in codes)
            detail = "; ".join(f"{addr}: {code} {_decode(msg)}" for addr, (code, msg) in exc.recipients.items())
            return DeliveryFailed(
                f"{where} refused every recipient ({self._scrub(detail)}). "
                + (f"IT: check [alerts] recipients ({refused})." if permanent else "Will retry."),
                permanent=permanent,
                smtp_code=max(codes) if codes else None,
            )
        if isinstance(exc, smtplib.SMTPSenderRefused):
            permanent = exc.smtp_code >= 500
            return DeliveryFailed(
                f"{where} refused the sender address {exc.sender} ({text}). "
                + ("IT: check [alerts] sender." if permanent else "Will retry."),
                permanent=permanent,
                smtp_code=exc.smtp_code,
            )
        if isinstance(exc, smtplib.SMTPResponseException):
            permanent = exc.smtp_code >= 500
            return DeliveryFailed(
                f"{where} answered {text}" + (" and will not accept this message." if permanent else "; will retry."),
                permanent=permanent,
                smtp_code=exc.smtp_code,
            )
        if isinstance(exc, ssl.SSLCertVerificationError):
            return DeliveryFailed(
                f"{where}: the server's TLS certificate could not be verified ({exc.verify_message}"
                "). IT: use the server's proper host name, or install its CA certificate.",
                permanent=True,
            )
        if _timed_out(exc):
            return DeliveryFailed(
                f"{where} did not answer within {self.settings.timeout_seconds:g} s; will retry.",
                permanent=False,
            )
        if isinstance(exc, ConnectionRefusedError):
            return DeliveryFailed(f"{where} refused the connection (is it running?); will retry.", False)
        if isinstance(exc, socket.gaierror):
            return DeliveryFailed(
                f"{where}: the host name could not be looked up ({exc.strerror}); will retry. "
                "IT: check 'host' if this persists.",
                permanent=False,
            )
        if isinstance(exc, (smtplib.SMTPException, OSError)):
            return DeliveryFailed(f"{where}: {type(exc).__name__}: {text}; will retry.", False)
        return DeliveryFailed(f"{where}: unexpected {type(exc).__name__}: {text}", permanent=False)

    def _scrub(self, text: str) -> str:
        # Belt and braces: nothing we pass on may contain the password, whatever a server echoes.
        password = self.settings.password
        return text.replace(password, "***") if password else text


def _timed_out(exc: BaseException) -> bool:
    # smtplib turns a read timeout into SMTPServerDisconnected; the timeout is its context.
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, TimeoutError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _decode(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _reply_text(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_decode(exc.smtp_error)}".strip()
    return str(exc) or type(exc).__name__


class OutboxDirTransport:
    """Writes each message to ``<directory>/<Message-ID>.eml``; the same alert overwrites its file."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def describe(self) -> str:
        """'folder /var/lib/hallmon/outbox'."""
        return f"folder {self.directory}"

    def path_for(self, message: EmailMessage) -> Path:
        """Where this message is (or will be) written."""
        message_id = message.get("Message-ID")
        if not message_id:
            raise DeliveryFailed("the alert email has no Message-ID header", permanent=True)
        return self.directory / (safe_eml_name(str(message_id)))

    def send(self, message: EmailMessage) -> None:
        """Write the message atomically (temporary file, then rename over any earlier copy)."""
        target = self.path_for(message)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            data = message.as_bytes()
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".", suffix=".eml.tmp")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except PermissionError as exc:
            raise DeliveryFailed(
                f"cannot write to {self.directory}: permission denied. IT: make the folder "
                "writable by the Hall Monitor user.",
                permanent=True,
            ) from exc
        except OSError as exc:
            raise DeliveryFailed(f"cannot write {target}: {exc.strerror or exc}; will retry.", False) from exc


_UNSAFE = re.compile(r"[^A-Za-z0-9._@+-]+")


def safe_eml_name(message_id: str) -> str:
    """A file name from a Message-ID: safe characters only, plus a hash so it stays unique."""
    stem = _UNSAFE.sub("_", message_id.strip().strip("<>")).strip("._") or "message"
    digest = hashlib.sha256(message_id.encode("utf-8")).hexdigest()[:8]
    return f"{stem[:120]}-{digest}.eml"
