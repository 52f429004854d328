"""The weekly audit report for IT (and the governors): an HTML email with a PDF attached.

What was scanned, what was found (by clause and severity), what happened to the alerts (opened,
acknowledged, resolved, time to acknowledge, false-positive rate), how each connector fared
(polls, errors, rate limits, quota and billed reads), what disappeared from the platforms, what
retention purged, the result of ``hallmon verify`` and the versions of everything. It prints on
A4 for a governors' meeting; charts are drawn offline with matplotlib.
"""

from __future__ import annotations

import base64
import io
import logging
import platform as python_platform
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email import policy as email_policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from statistics import median
from typing import Any
from zoneinfo import ZoneInfo

from monitor.clock import Clock
from monitor.custody import VerifyReport, verify_everything
from monitor.email import header_text, platform_name
from monitor.evidence_bundle import tool_version
from monitor.templates import render
from monitor.transports import Transport
from storage.custody import CustodyLog
from storage.database import Database
from storage.evidence import EvidenceStore
from storage.reporting import WeekFigures, week_figures

log = logging.getLogger(__name__)

WEEK_PATTERN = re.compile(r"^(\d{4})-W(\d{2})$")
SEVERITY_ORDER = ("critical", "high", "medium", "low")
SEVERITY_COLOURS = {"critical": "#7f0000", "high": "#d7301f", "medium": "#fc8d59", "low": "#fdcc8a"}


class ReportError(ValueError):
    """A report that cannot be made as asked (e.g. a badly written week)."""


@dataclass(frozen=True)
class ReportWeek:
    label: str  # 2026-W47
    first_day: date
    start: datetime  # local midnight on Monday, as an aware datetime
    end: datetime


def parse_week(text: str, zone: ZoneInfo) -> ReportWeek:
    """``2026-W47`` -> that ISO week, Monday 00:00 to Monday 00:00 in the school's time zone."""
    match = WEEK_PATTERN.match(text.strip())
    if not match:
        raise ReportError(f"'{text}' is not a week: write it as YEAR-Wnn, e.g. 2026-W47")
    try:
        monday = date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
    except ValueError as exc:
        raise ReportError(f"'{text}' is not a week of that year ({exc})") from exc
    return week_of(monday, zone)


def week_of(monday: date, zone: ZoneInfo) -> ReportWeek:
    year, number, _ = monday.isocalendar()
    start = datetime(monday.year, monday.month, monday.day, tzinfo=zone)
    following = monday + timedelta(days=7)
    end = datetime(following.year, following.month, following.day, tzinfo=zone)
    return ReportWeek(f"{year}-W{number:02d}", monday, start, end)


def previous_week(now: datetime, zone: ZoneInfo) -> ReportWeek:
    """The last complete week before ``now`` (what the Monday-morning report covers)."""
    today = now.astimezone(zone).date()
    return week_of(today - timedelta(days=today.weekday() + 7), zone)


@dataclass(frozen=True)
class WeeklyReport:
    school: str
    week: ReportWeek
    generated_at: datetime
    figures: WeekFigures
    verify: VerifyReport
    custody_events: tuple[tuple[str, int], ...]
    purges_by_rule: tuple[tuple[str, int], ...]
    versions: tuple[tuple[str, str], ...]
    charts: dict[str, bytes] = field(default_factory=dict)

    @property
    def findings_total(self) -> int:
        return sum(f.count for f in self.figures.findings)

    @property
    def last_day(self) -> date:
        return self.week.first_day + timedelta(days=6)

    @property
    def median_ack_hours(self) -> float | None:
        hours = self.figures.alerts.ack_hours
        return round(median(hours), 1) if hours else None


def _package(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def versions(seen: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """The tool, its plugins (as registered now) and the detector versions seen in the week."""
    rows: list[tuple[str, str]] = [("Hall Monitor", tool_version()), ("Python", python_platform.python_version())]
    try:
        from connectors.registry import available_connectors

        rows += [(f"connector {name}", str(plugin.version)) for name, plugin in available_connectors().items()]
    except Exception as exc:  # a broken plugin must not stop the report
        rows.append(("connectors", f"could not be listed: {exc}"))
    try:
        from detectors.registry import available_detectors

        rows += [(f"detector {name}", str(getattr(d.factory, "version", "?"))) for name, d in available_detectors().items()]
    except Exception as exc:
        rows.append(("detectors", f"could not be listed: {exc}"))
    rows += [("detector used this week", ref) for ref in seen]
    rows += [(pkg, _package(pkg)) for pkg in ("warcio", "weasyprint", "matplotlib", "sqlalchemy")]
    return tuple(rows)


def build_report(database: Database, evidence: EvidenceStore, school: str, week: ReportWeek, now: datetime) -> WeeklyReport:
    """Gather the week's figures, re-verify the evidence and draw the charts."""
    with database.sessions() as session:
        figures = week_figures(session, week.start, week.end)
        entries = CustodyLog(session).between(week.start, week.end)
    events = Counter(e.event for e in entries)
    purges = Counter(str(e.details.get("rule", "?")) for e in entries if e.event == "purged")
    report = WeeklyReport(
        school=school,
        week=week,
        generated_at=now,
        figures=figures,
        verify=verify_everything(database, evidence),
        custody_events=tuple(sorted(events.items())),
        purges_by_rule=tuple(sorted(purges.items())),
        versions=versions(figures.detectors_seen),
    )
    report.charts.update(charts(report))
    return report


# --- charts ---


def _figure(width: float = 7.0, height: float = 2.8) -> Any:
    from matplotlib.figure import Figure  # no pyplot: thread-safe, no display needed

    return Figure(figsize=(width, height), dpi=120, layout="constrained")


def _png(figure: Any) -> bytes:
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def charts(report: WeeklyReport) -> dict[str, bytes]:
    """Findings by clause and severity, polls per day, items scanned per platform (PNG)."""
    drawn: dict[str, bytes] = {}
    figure = _figure()
    ax = figure.add_subplot()
    clauses = sorted({f.clause for f in report.figures.findings})
    bottom = [0] * len(clauses)
    for severity in SEVERITY_ORDER:
        counts = [sum(f.count for f in report.figures.findings if f.clause == c and f.severity == severity) for c in clauses]
        if any(counts):
            ax.bar(clauses, counts, bottom=bottom, label=severity, color=SEVERITY_COLOURS[severity])
            bottom = [b + n for b, n in zip(bottom, counts, strict=True)]
    ax.set_title("Findings by policy clause and severity")
    ax.set_ylabel("findings")
    if not clauses:
        ax.text(0.5, 0.5, "No findings this week", ha="center", va="center", transform=ax.transAxes)
    else:
        ax.legend(frameon=False, fontsize=8)
    drawn["findings"] = _png(figure)

    figure = _figure()
    ax = figure.add_subplot()
    labels = [d.day for d in report.figures.days]
    ax.bar(labels, [d.ok for d in report.figures.days], label="successful", color="#2b8cbe")
    ax.bar(labels, [d.failed for d in report.figures.days], bottom=[d.ok for d in report.figures.days], label="failed", color="#e34a33")
    ax.set_title("Polls per day")
    ax.legend(frameon=False, fontsize=8)
    drawn["polls"] = _png(figure)

    figure = _figure(7.0, 2.4)
    ax = figure.add_subplot()
    names = [platform_name(p.platform) for p in report.figures.platforms]
    ax.barh(names, [p.items_scanned for p in report.figures.platforms], color="#756bb1")
    ax.set_title("Items scanned per platform")
    ax.set_xlabel("items")
    drawn["platforms"] = _png(figure)
    return drawn


# --- output ---


def render_report_html(report: WeeklyReport, image_src: Callable[[str], str]) -> str:
    """The report as HTML; ``image_src`` maps a chart name to a data: URI or a cid: reference."""
    return render("report.html.j2", r=report, f=report.figures, img=image_src, platform_name=platform_name)


def data_uri(report: WeeklyReport) -> Callable[[str], str]:
    return lambda name: "data:image/png;base64," + base64.b64encode(report.charts[name]).decode("ascii")


def render_report_pdf(report: WeeklyReport) -> bytes:
    """The report as an A4 PDF (charts embedded; nothing fetched from the network)."""
    from monitor.screenprint import html_to_pdf

    return html_to_pdf(render_report_html(report, data_uri(report)))


def report_email(report: WeeklyReport, pdf: bytes, from_address: str, recipients: Sequence[str], subject_prefix: str = "[Hall Monitor]") -> EmailMessage:
    """HTML (charts inline) and plain text, with the PDF attached."""
    message = EmailMessage(policy=email_policy.SMTP)
    message["Subject"] = header_text(f"{subject_prefix} Weekly audit report {report.week.label} - {report.school}", 140)
    message["From"] = Address(header_text(f"Hall Monitor ({report.school})", 100), addr_spec=from_address)
    message["To"] = ", ".join(recipients)
    message["Date"] = format_datetime(report.generated_at)
    domain = from_address.rpartition("@")[2] or "hallmon.invalid"
    message["Message-ID"] = f"<hallmon.report-{report.week.label}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(render("report.txt.j2", r=report, f=report.figures), subtype="plain", charset="utf-8")
    message.add_alternative(render_report_html(report, lambda name: f"cid:chart-{name}@hallmon"), subtype="html", charset="utf-8")
    html_part = message.get_body(("html",))
    assert html_part is not None  # just added above
    for name, png in report.charts.items():
        html_part.add_related(png, "image", "png", cid=f"<chart-{name}@hallmon>", filename=f"{name}.png")
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename=f"hallmon-report-{report.week.label}.pdf")
    return message


@dataclass(frozen=True)
class ReportOutput:
    week: str
    html: Path | None
    pdf: Path | None
    sent: bool
    verify_ok: bool


class WeeklyReporter:
    def __init__(
        self,
        database: Database,
        evidence: EvidenceStore,
        school: str,
        zone: ZoneInfo,
        clock: Clock,
        transport: Callable[[], Transport],
        from_address: str,
        recipients: Sequence[str],
    ) -> None:
        self.database = database
        self.evidence = evidence
        self.school = school
        self.zone = zone
        self.clock = clock
        self.transport = transport
        self.from_address = from_address
        self.recipients = tuple(recipients)

    def run(self, week: ReportWeek | None = None, out_dir: Path | None = None, send: bool = True) -> ReportOutput:
        """Build the report; write HTML and PDF to ``out_dir`` and/or email them."""
        now = self.clock()
        week = week or previous_week(now, self.zone)
        report = build_report(self.database, self.evidence, self.school, week, now)
        pdf = render_report_pdf(report)
        html_path = pdf_path = None
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            html_path = out_dir / f"hallmon-report-{week.label}.html"
            html_path.write_text(render_report_html(report, data_uri(report)), encoding="utf-8")
            pdf_path = out_dir / f"hallmon-report-{week.label}.pdf"
            pdf_path.write_bytes(pdf)
        if send:
            self.transport().send(report_email(report, pdf, self.from_address, self.recipients))
            log.info("weekly report %s sent to %s", week.label, ", ".join(self.recipients))
        return ReportOutput(week.label, html_path, pdf_path, send, report.verify.ok)
