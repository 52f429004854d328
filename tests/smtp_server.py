"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, collecting what it receives.

It can be stopped and started again on the same port (an outage), require AUTH (plain
connection, ``auth_require_tls=False``), offer STARTTLS or implicit TLS with a throwaway
self-signed certificate, refuse chosen recipients, answer DATA with a chosen reply, and hold its
reply to DATA for N seconds so a test can kill a sender while it is "sending".

Use it as a context manager, via ``running_smtp_server(...)``, or through the ``smtp_server``
pytest fixture defined here (import it into a conftest to share it).
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import socket
import ssl
import threading
import time
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

HOST = "127.0.0.1"


@dataclass(frozen=True)
class ReceivedMessage:
    """One message as the server got it: envelope, raw bytes and the parsed email."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    message: EmailMessage
    login: str | None
    received_at: float

    @property
    def message_id(self) -> str:
        return str(self.message.get("Message-ID", ""))


@dataclass(frozen=True)
class TlsFiles:
    """A throwaway self-signed certificate for 127.0.0.1/localhost and contexts that use it."""

    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts exactly this certificate (hostname checked)."""
        return ssl.create_default_context(cafile=str(self.cert))


def make_self_signed(directory: Path, common_name: str = "localhost") -> TlsFiles:
    """Generate a short-lived self-signed certificate valid for localhost and 127.0.0.1."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return TlsFiles(cert_path, key_path)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


class _Handler:
    def __init__(self, server: LocalSmtpServer) -> None:
        self.server = server

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        reply = self.server.rcpt_replies.get(address.lower())
        if reply is not None and not reply.startswith("250"):
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.server.data_started.set()
        if self.server.data_reply is not None:
            return self.server.data_reply
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        login = session.auth_data if session.authenticated else None
        received = ReceivedMessage(
            mail_from=str(envelope.mail_from),
            rcpt_tos=tuple(envelope.rcpt_tos),
            raw=raw,
            message=BytesParser(policy=policy.default).parsebytes(raw),
            login=login.decode() if isinstance(login, bytes) else login,
            received_at=time.monotonic(),
        )
        # A real server has the message once DATA is in, even if the client vanishes before our
        # reply: record first, then (optionally) keep the client waiting.
        self.server._record(received)
        if self.server.data_delay > 0:
            await asyncio.sleep(self.server.data_delay)
        return "250 2.0.0 Message accepted for delivery"


class _QuietController(Controller):
    # AUTH without TLS is deliberate here (a test server on loopback); hush aiosmtpd's warning.
    def factory(self) -> SMTP:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")
            server: SMTP = super().factory()  # type: ignore[no-untyped-call]
            return server


class LocalSmtpServer:
    """aiosmtpd on 127.0.0.1 that collects messages; stop() and start() keep the same port."""

    def __init__(
        self,
        port: int | None = None,
        auth: tuple[str, str] | None = None,
        data_delay: float = 0.0,
        starttls: TlsFiles | None = None,
        implicit_tls: TlsFiles | None = None,
        rcpt_replies: Mapping[str, str] | None = None,
        data_reply: str | None = None,
    ) -> None:
        self.host = HOST
        self.port = port or free_port()
        self.auth = auth
        self.data_delay = data_delay
        self.starttls = starttls
        self.implicit_tls = implicit_tls
        self.rcpt_replies = {k.lower(): v for k, v in (rcpt_replies or {}).items()}
        self.data_reply = data_reply
        self.data_started = threading.Event()
        self.auth_attempts: list[str] = []
        self._messages: list[ReceivedMessage] = []
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._controller: Controller | None = None

    # --- lifecycle ---

    def start(self) -> LocalSmtpServer:
        """Start listening (again) on the same port."""
        if self._controller is not None:
            return self
        kwargs: dict[str, Any] = {"hostname": self.host, "port": self.port}
        if self.auth is not None:
            kwargs.update(authenticator=self._authenticate, auth_required=True, auth_require_tls=False)
        if self.starttls is not None:
            kwargs.update(tls_context=self.starttls.server_context(), require_starttls=True)
        if self.implicit_tls is not None:
            kwargs.update(ssl_context=self.implicit_tls.server_context())
        controller = _QuietController(_Handler(self), server_hostname="localhost", **kwargs)
        deadline = time.monotonic() + 5
        while True:  # the port may linger for a moment after a stop()
            try:
                controller.start()
                break
            except (OSError, RuntimeError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self._controller = controller
        return self

    def stop(self) -> None:
        """Stop listening: clients now get 'connection refused'."""
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    @property
    def running(self) -> bool:
        return self._controller is not None

    def __enter__(self) -> LocalSmtpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- what arrived ---

    def _record(self, message: ReceivedMessage) -> None:
        with self._arrived:
            self._messages.append(message)
            self._arrived.notify_all()

    @property
    def messages(self) -> list[ReceivedMessage]:
        with self._lock:
            return list(self._messages)

    def message_ids(self) -> list[str]:
        return [m.message_id for m in self.messages]

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()
        self.data_started.clear()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[ReceivedMessage]:
        """Block until at least ``count`` messages arrived; AssertionError after ``timeout``."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self._messages) >= count, timeout):
                raise AssertionError(f"expected {count} message(s) within {timeout} s, got {len(self._messages)}")
            return list(self._messages)

    # --- AUTH ---

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if self.auth is None or not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode("utf-8", "replace")
        password = auth_data.password.decode("utf-8", "replace")
        self.auth_attempts.append(login)
        ok = (login, password) == self.auth
        return AuthResult(success=ok, handled=False, auth_data=login if ok else None)


@contextmanager
def running_smtp_server(**options: Any) -> Iterator[LocalSmtpServer]:
    """A started LocalSmtpServer, stopped on exit; options as for LocalSmtpServer."""
    server = LocalSmtpServer(**options)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def smtp_server() -> Iterator[LocalSmtpServer]:
    """A plain (no AUTH, no TLS) SMTP server on 127.0.0.1 for one test."""
    with running_smtp_server() as server:
        yield server
