"""SMTP and outbox-folder delivery against a real local SMTP server and real files."""

from __future__ import annotations

import logging
import smtplib
import time
from collections.abc import Iterator
from email import policy as email_policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest

from monitor.email import compose_alert_email
from monitor.transports import (
    DeliveryFailed,
    OutboxDirTransport,
    SmtpSettings,
    SmtpTransport,
    Transport,
    safe_eml_name,
)
from tests.smtp_server import (
    LocalSmtpServer,
    TlsFiles,
    free_port,
    make_self_signed,
    running_smtp_server,
)
from tests.test_email import SETTINGS, make_alert

USER, PASSWORD = "hallmon-alerts", "correct-horse-7Qz"


@pytest.fixture
def smtp() -> Iterator[LocalSmtpServer]:
    """A plain SMTP server on 127.0.0.1 for one test."""
    with running_smtp_server() as server:
        yield server


def alert_message(alert_id: int = 42) -> EmailMessage:
    alert = make_alert(alert_id=alert_id, message_id=f"<hallmon.alert-{alert_id}.ab12@demo.invalid>")
    return compose_alert_email(alert, SETTINGS)


def plain(server: LocalSmtpServer, **overrides: object) -> SmtpTransport:
    options: dict[str, object] = {"host": server.host, "port": server.port, "security": "none"}
    options.update(overrides)
    return SmtpTransport(SmtpSettings(**options))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_self_signed(tmp_path_factory.mktemp("tls"))


# --- SMTP ---


def test_both_transports_satisfy_the_protocol(tmp_path: Path) -> None:
    assert isinstance(SmtpTransport(SmtpSettings(host="mail.invalid")), Transport)
    assert isinstance(OutboxDirTransport(tmp_path), Transport)


def test_auth_over_plain_connection_delivers() -> None:
    with running_smtp_server(auth=(USER, PASSWORD)) as server:
        plain(server, username=USER, password=PASSWORD).send(alert_message())
        received = server.wait_for(1)
    assert received[0].login == USER
    assert received[0].message_id == "<hallmon.alert-42.ab12@demo.invalid>"


def test_wrong_password_is_permanent_and_never_shows_the_password(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "wrong-Secret-991"
    with running_smtp_server(auth=(USER, PASSWORD)) as server:
        transport = plain(server, username=USER, password=wrong)
        with pytest.raises(DeliveryFailed) as failure:
            transport.send(alert_message())
        assert set(server.auth_attempts) == {USER} and server.messages == []
    assert failure.value.permanent and failure.value.smtp_code == 535
    assert "username or password" in str(failure.value)
    everything = str(failure.value) + transport.describe() + repr(transport.settings) + caplog.text
    assert wrong not in everything and "password=" not in repr(transport.settings)


def test_missing_login_when_server_requires_auth_is_permanent() -> None:
    with running_smtp_server(auth=(USER, PASSWORD)) as server, pytest.raises(DeliveryFailed) as failure:
        plain(server).send(alert_message())
    assert failure.value.permanent and failure.value.smtp_code == 530
    assert "requires a login" in str(failure.value)


def test_plain_connection_to_a_server_that_requires_starttls_is_permanent(tls_files: TlsFiles) -> None:
    with running_smtp_server(starttls=tls_files) as server:
        with pytest.raises(DeliveryFailed) as failure:
            plain(server).send(alert_message())
        assert server.messages == []
    assert failure.value.permanent and "starttls" in str(failure.value)


def test_server_down_is_temporary_then_delivers_on_the_same_port() -> None:
    server = LocalSmtpServer()
    transport = plain(server, timeout_seconds=5)
    with pytest.raises(DeliveryFailed) as failure:
        transport.send(alert_message())
    assert not failure.value.permanent and "refused the connection" in str(failure.value)
    with server:
        transport.send(alert_message())
        assert len(server.wait_for(1)) == 1
    with pytest.raises(DeliveryFailed) as again:
        transport.send(alert_message())
    assert not again.value.permanent
    with server:  # back up again on the same port
        transport.send(alert_message(43))
        server.wait_for(2)
        assert server.message_ids() == [
            "<hallmon.alert-42.ab12@demo.invalid>",
            "<hallmon.alert-43.ab12@demo.invalid>",
        ]


def test_unknown_host_is_temporary() -> None:
    transport = SmtpTransport(SmtpSettings(host="no-such-host.invalid", security="none"))
    with pytest.raises(DeliveryFailed) as failure:
        transport.send(alert_message())
    assert not failure.value.permanent and "no-such-host.invalid" in str(failure.value)


@pytest.mark.parametrize(
    ("reply", "permanent"),
    [("550 5.1.1 No such user here", True), ("450 4.2.1 Mailbox busy, try later", False)],
)
def test_every_recipient_refused(reply: str, permanent: bool) -> None:
    replies = {address: reply for address in SETTINGS.to_addresses}
    with running_smtp_server(rcpt_replies=replies) as server, pytest.raises(DeliveryFailed) as failure:
        plain(server).send(alert_message())
    assert failure.value.permanent is permanent
    assert SETTINGS.to_addresses[0] in str(failure.value)


def test_one_recipient_refused_still_counts_as_delivered(caplog: pytest.LogCaptureFixture) -> None:
    refused = SETTINGS.to_addresses[1]
    with running_smtp_server(rcpt_replies={refused: "550 5.1.1 No such user"}) as server:
        plain(server).send(alert_message())  # re-sending would duplicate it for the other one
        received = server.wait_for(1)
    assert received[0].rcpt_tos == (SETTINGS.to_addresses[0],)
    assert refused in caplog.text


@pytest.mark.parametrize(
    ("reply", "permanent"),
    [("554 5.6.0 Message rejected as spam", True), ("451 4.3.0 Local problem, try later", False)],
)
def test_data_rejected(reply: str, permanent: bool) -> None:
    with running_smtp_server(data_reply=reply) as server, pytest.raises(DeliveryFailed) as failure:
        plain(server).send(alert_message())
    assert failure.value.permanent is permanent and failure.value.smtp_code == int(reply[:3])


def test_slow_server_times_out_as_temporary() -> None:
    with running_smtp_server(data_delay=3) as server:
        started = time.monotonic()
        with pytest.raises(DeliveryFailed) as failure:
            plain(server, timeout_seconds=0.5).send(alert_message())
        elapsed = time.monotonic() - started
        # The server had the message before the timeout: why the Message-ID must be stable.
        assert server.data_started.is_set() and len(server.messages) == 1
    assert not failure.value.permanent and "did not answer" in str(failure.value)
    assert elapsed < 2.5


def test_starttls_with_a_trusted_certificate(tls_files: TlsFiles) -> None:
    with running_smtp_server(starttls=tls_files, auth=(USER, PASSWORD)) as server:
        settings = SmtpSettings(host="localhost", port=server.port, username=USER, password=PASSWORD)
        SmtpTransport(settings, tls_context=tls_files.client_context()).send(alert_message())
        assert server.wait_for(1)[0].login == USER


def test_starttls_with_an_untrusted_certificate_is_permanent(tls_files: TlsFiles) -> None:
    with running_smtp_server(starttls=tls_files) as server:
        transport = SmtpTransport(SmtpSettings(host="localhost", port=server.port))
        with pytest.raises(DeliveryFailed) as failure:
            transport.send(alert_message())
        assert server.messages == []
    assert failure.value.permanent and "certificate" in str(failure.value)


def test_starttls_asked_for_but_not_offered_is_permanent(smtp: LocalSmtpServer) -> None:
    transport = SmtpTransport(SmtpSettings(host=smtp.host, port=smtp.port))
    with pytest.raises(DeliveryFailed) as failure:
        transport.send(alert_message())
    assert failure.value.permanent and "security" in str(failure.value)
    assert smtp.messages == []


def test_implicit_tls(tls_files: TlsFiles) -> None:
    with running_smtp_server(implicit_tls=tls_files) as server:
        settings = SmtpSettings(host="localhost", port=server.port, security="ssl")
        SmtpTransport(settings, tls_context=tls_files.client_context()).send(alert_message())
        assert len(server.wait_for(1)) == 1


def test_injected_connection_factory_is_used(smtp: LocalSmtpServer) -> None:
    calls: list[dict[str, object]] = []

    def connect(**kwargs: object) -> smtplib.SMTP:
        calls.append(kwargs)
        return smtplib.SMTP(**kwargs)  # type: ignore[arg-type]

    settings = SmtpSettings(host=smtp.host, port=smtp.port, security="none", helo_name="hallmon.school")
    SmtpTransport(settings, connect=connect).send(alert_message())
    assert calls and calls[0]["local_hostname"] == "hallmon.school"
    assert len(smtp.wait_for(1)) == 1


@pytest.mark.parametrize(
    "options",
    [
        {"host": "mail.invalid", "security": "tls"},
        {"host": "", "security": "none"},
        {"host": "mail.invalid", "port": 0},
        {"host": "mail.invalid", "timeout_seconds": 0},
    ],
)
def test_bad_smtp_settings_are_refused(options: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        SmtpSettings(**options)  # type: ignore[arg-type]


def test_describe_names_the_server_but_not_the_password() -> None:
    transport = SmtpTransport(
        SmtpSettings(host="smtp.school.invalid", port=465, security="ssl", username=USER, password=PASSWORD)
    )
    assert transport.describe() == f"SMTP smtp.school.invalid:465 (SSL, user {USER})"
    assert PASSWORD not in repr(transport.settings)


def test_free_port_is_not_listening() -> None:
    port = free_port()
    transport = SmtpTransport(SmtpSettings(host="127.0.0.1", port=port, security="none"))
    with pytest.raises(DeliveryFailed):
        transport.send(alert_message())


# --- outbox folder ---


def test_outbox_dir_overwrites_the_same_alert_and_keeps_others(tmp_path: Path) -> None:
    outbox = OutboxDirTransport(tmp_path / "outbox")
    outbox.send(alert_message(42))
    outbox.send(alert_message(42))
    files = sorted((tmp_path / "outbox").iterdir())
    assert len(files) == 1 and files[0].suffix == ".eml"
    parsed = BytesParser(policy=email_policy.default).parsebytes(files[0].read_bytes())
    assert parsed["Message-ID"] == "<hallmon.alert-42.ab12@demo.invalid>"
    outbox.send(alert_message(43))
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 2
    assert not list((tmp_path / "outbox").glob(".*"))  # no temporary files left behind
    assert outbox.describe() == f"folder {tmp_path / 'outbox'}"


def test_outbox_file_name_is_safe_for_any_message_id(tmp_path: Path) -> None:
    name = safe_eml_name("<../../etc/passwd\x00@evil\r\n.invalid>")
    assert "/" not in name and "\x00" not in name and "\n" not in name and name.endswith(".eml")
    assert safe_eml_name("<a/b@c>") != safe_eml_name("<a_b@c>")  # the hash keeps them apart
    message = alert_message()
    del message["Message-ID"]
    message["Message-ID"] = "<../../escape@evil.invalid>"
    OutboxDirTransport(tmp_path / "outbox").send(message)
    assert [p.parent for p in tmp_path.rglob("*.eml")] == [tmp_path / "outbox"]


def test_outbox_without_message_id_is_permanent(tmp_path: Path) -> None:
    message = alert_message()
    del message["Message-ID"]
    with pytest.raises(DeliveryFailed) as failure:
        OutboxDirTransport(tmp_path).send(message)
    assert failure.value.permanent


def test_outbox_that_cannot_be_written_is_a_typed_failure(tmp_path: Path) -> None:
    blocker = tmp_path / "outbox"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(DeliveryFailed) as failure:
        OutboxDirTransport(blocker).send(alert_message())
    assert str(blocker) in str(failure.value)
