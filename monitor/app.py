"""The composition root: the only place that reads settings and the environment and wires real
objects together (database, evidence store, connectors, detectors, transport, clock)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

import phonenumbers
from sqlalchemy.engine import make_url

from connectors.base import Connector, ConnectorEnv, NotConfigured
from connectors.registry import available_connectors
from detectors.base import Detector, OwnContacts, SchoolContext
from detectors.registry import build_detectors
from monitor.capture import MediaCapturer
from monitor.clock import Clock, system_clock
from monitor.config import Settings
from monitor.domain import Account
from monitor.email import EmailSettings
from monitor.custody import CustodyRecorder
from monitor.events import EventRecorder
from monitor.health_notice import AccountHealthNotifier
from monitor.evidence_bundle import alert_attachments
from monitor.pipeline import MediaAnalyser, Pipeline
from monitor.secrets import SecretSource
from monitor.sender import AlertSender, AttachmentBuilder
from monitor.transports import OutboxDirTransport, SmtpSettings, SmtpTransport, Transport
from storage.database import Database, open_database
from storage.evidence import EvidenceStore
from storage.repository import Repository
from storage.school import SchoolStore

log = logging.getLogger(__name__)

ROSTER_KEY_SECRET = "HALLMON_ROSTER_KEY"


def database_url(settings: Settings, secrets: SecretSource) -> str:
    """The configured URL, with a password from the secrets if one is set (never from the file)."""
    override = secrets.get("HALLMON_DATABASE_URL")
    if override:
        return override
    url = make_url(settings.database_url)
    password = secrets.get("HALLMON_DATABASE_PASSWORD")
    if password and not url.drivername.startswith("sqlite"):
        url = url.set(password=password)
    return url.render_as_string(hide_password=False)


def own_contacts(settings: Settings) -> OwnContacts:
    phones = []
    for number in settings.school.phones:
        try:
            parsed = phonenumbers.parse(number, "GB")
            phones.append(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))
        except phonenumbers.NumberParseException:
            log.warning("school phone number %r in the config could not be read; ignored", number)
    domains = [w.split("//")[-1].split("/")[0].lower().removeprefix("www.") for w in settings.school.websites]
    domains += [e.split("@")[-1].lower() for e in settings.school.emails]
    return OwnContacts(
        phones=tuple(phones),
        emails=tuple(e.lower() for e in settings.school.emails),
        domains=tuple(dict.fromkeys(domains)),
        postcodes=tuple(p.upper().replace("  ", " ") for p in settings.school.postcodes),
        address_lines=settings.school.address_lines,
    )


@dataclass
class ConnectedAccount:
    account: Account
    connector: Connector | None
    problem: str = ""


@dataclass
class App:
    settings: Settings
    secrets: SecretSource
    database: Database
    evidence: EvidenceStore
    clock: Clock
    stop: threading.Event = field(default_factory=threading.Event)
    _detectors: list[Detector] | None = None
    _analyser: MediaAnalyser | None = None
    _analyser_loaded: bool = False

    @classmethod
    def build(
        cls,
        settings: Settings,
        clock: Clock = system_clock,
        environ: dict[str, str] | None = None,
        migrate: bool = True,
    ) -> App:
        settings.state_dir.mkdir(parents=True, exist_ok=True)
        secrets = SecretSource(environ, state_dir=settings.state_dir)
        database = open_database(database_url(settings, secrets), migrate=migrate)
        return cls(settings, secrets, database, EvidenceStore(settings.evidence_dir), clock)

    # --- detection ---

    @property
    def detectors(self) -> list[Detector]:
        if self._detectors is None:
            self._detectors = build_detectors(list(self.settings.detectors) if self.settings.detectors else None)
        return self._detectors

    @property
    def analyser(self) -> MediaAnalyser | None:
        if not self._analyser_loaded:
            self._analyser_loaded = True
            try:
                from detectors.media_analysis import MediaAnalyser as Analyser

                self._analyser = Analyser(ocr=self.settings.media.ocr)
            except Exception as exc:  # media checks off, text checks still run
                log.error("image analysis is unavailable, only text will be checked: %s", exc)
        return self._analyser

    def roster_key(self) -> bytes:
        return self.secrets.get_or_create(ROSTER_KEY_SECRET).encode("utf-8")

    def school_context(self) -> SchoolContext:
        key = self.roster_key()
        with self.database.sessions() as session:
            store = SchoolStore(session)
            staff, pupils, media = store.roster_index("staff", key), store.roster_index("pupil", key), store.known_media()
        return SchoolContext(
            school_name=self.settings.school.name,
            school_names=self.settings.school.other_names,
            staff=staff,
            pupils=pupils,
            own_contacts=own_contacts(self.settings),
            known_media=media,
        )

    def events(self) -> EventRecorder:
        """The tamper-evident custody log every capture, scan, alert and delivery is written to."""
        return CustodyRecorder(self.database, self.clock)

    def attachment_builder(self) -> AttachmentBuilder:
        """Captured media, the evidence summary and the rendered screen print (PNG and PDF)."""
        return alert_attachments

    def pipeline(self) -> Pipeline:
        capturer = MediaCapturer(
            self.evidence,
            max_bytes=self.settings.media.max_download_bytes,
            timeout_seconds=self.settings.media.download_timeout_seconds,
        )
        return Pipeline(
            self.database,
            self.evidence,
            capturer,
            self.detectors,
            self.school_context,
            self.clock,
            alert_threshold=self.settings.alerts.min_severity,
            message_domain=self.settings.school.domain,
            analyser=self.analyser,
            stop=self.stop,
            events=self.events(),
        )

    # --- connectors ---

    def connector_env(self, account: Account) -> ConnectorEnv:
        def usage_so_far(period: str) -> object:
            with self.database.sessions() as session:
                return Repository(session, self.evidence).usage_since(account.key, period, self.clock())

        state = self.settings.state_dir / "connectors" / account.key.replace(":", "_").replace("/", "_")
        state.mkdir(parents=True, exist_ok=True)
        return ConnectorEnv(
            secret=self.secrets.get,
            clock=self.clock,
            state_dir=state,
            timeout_seconds=self.settings.media.download_timeout_seconds,
            save_secret=self.secrets.save,
            usage_so_far=usage_so_far,  # type: ignore[arg-type]
        )

    def connect_accounts(self) -> list[ConnectedAccount]:
        """Build each account's connector; one that is not configured is disabled with one warning."""
        plugins = available_connectors()
        connected: list[ConnectedAccount] = []
        for account in self.settings.accounts:
            plugin = plugins.get(account.platform)
            if plugin is None:
                connected.append(ConnectedAccount(account, None, f"no connector for platform '{account.platform}'"))
                continue
            try:
                connected.append(ConnectedAccount(account, plugin.factory(account, self.connector_env(account))))
            except NotConfigured as exc:
                connected.append(ConnectedAccount(account, None, str(exc)))
            except Exception as exc:
                connected.append(ConnectedAccount(account, None, f"{type(exc).__name__}: {exc}"))
        for entry in connected:
            if entry.connector is None:
                log.warning("account %s is disabled: %s", entry.account.key, entry.problem)
                self._record_disabled(entry)
        return connected

    def _record_disabled(self, entry: ConnectedAccount) -> None:
        with self.database.sessions.begin() as session:
            row = Repository(session, self.evidence).account_row(entry.account.key, entry.account.platform, entry.account.handle)
            row.status = "not_configured"
            row.last_error_class = "not_configured"
            row.last_error_message = entry.problem[:2000]

    # --- alert delivery ---

    def transport(self) -> Transport:
        smtp = self.settings.smtp
        if smtp.host:
            return SmtpTransport(
                SmtpSettings(
                    host=smtp.host,
                    port=smtp.port,
                    security=smtp.security,
                    username=smtp.username,
                    password=self.secrets.get("SMTP_PASSWORD") or "",
                    timeout_seconds=smtp.timeout_seconds,
                )
            )
        outbox = self.settings.alerts.outbox_dir or (self.settings.state_dir / "outbox")
        outbox.mkdir(parents=True, exist_ok=True)
        return OutboxDirTransport(outbox)

    def sender(self, transport: Transport | None = None) -> AlertSender:
        alerts = self.settings.alerts
        return AlertSender(
            self.database,
            self.evidence,
            transport or self.transport(),
            EmailSettings(
                school_name=self.settings.school.name,
                from_address=alerts.sender,
                to_addresses=alerts.recipients or (alerts.sender,),
            ),
            self.clock,
            accounts={a.key: a for a in self.settings.accounts},
            attachments=self.attachment_builder(),
            stop=self.stop,
            events=self.events(),
        )

    def health_notifier(self) -> AccountHealthNotifier:
        """Emails IT when an account stops or starts working: the ``[report] recipients`` given
        explicitly (never the headteacher by default; without them the log says it)."""
        return AccountHealthNotifier(
            self.transport,
            self.settings.school.name,
            self.settings.alerts.sender,
            self.settings.evidence.report.it_recipients,
            self.clock,
            self.settings.school.domain,
        )

    def close(self) -> None:
        self.database.dispose()
