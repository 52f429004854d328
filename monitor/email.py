"""The alert email a headteacher reads: plain text and HTML, with the evidence attached.

Everything that came from a platform (names, text, links, handles, file names) is untrusted: it
is HTML-escaped in the HTML part, links are shown only for http(s), and anything that goes into
a header is stripped of line breaks and invisible control characters, so a hostile author name
can neither inject markup nor add a header such as ``Bcc:``.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy as email_policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from monitor import policy
from monitor.domain import Alert, ImageRegion, ItemKind, Severity, TextSpan

UK = ZoneInfo("Europe/London")
SUBJECT_MAX = 140
EXCERPT_MAX = 2000  # characters of the item's text shown in full before it is cut to context
CONTEXT = 200  # characters either side of a highlighted span in a long text
MARK_OPEN, MARK_CLOSE = "[[", "]]"


class EmailCompositionError(ValueError):
    """The alert email cannot be built (bad settings such as no recipients)."""


@dataclass(frozen=True)
class EmailSettings:
    school_name: str
    from_address: str
    to_addresses: tuple[str, ...]
    subject_prefix: str = "[Hall Monitor]"


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


PLATFORM_NAMES = {
    "x": "X (Twitter)",
    "twitter": "X (Twitter)",
    "instagram": "Instagram",
    "facebook": "Facebook",
    "youtube": "YouTube",
    "tiktok": "TikTok",
    "linkedin": "LinkedIn",
    "flickr": "Flickr",
    "archive": "an archive export",
}

SEVERITY_WORDS = {
    Severity.CRITICAL: "Urgent",
    Severity.HIGH: "High",
    Severity.MEDIUM: "Medium",
    Severity.LOW: "Low",
}

KIND_WORDS = {ItemKind.POST: "post", ItemKind.COMMENT: "comment", ItemKind.REPLY: "reply"}

# --- cleaning untrusted text ---

# Zero-width and bidirectional controls are Unicode category Cf; line/paragraph separators are
# Zl/Zp; C0/C1 controls (CR, LF, NUL, ESC ...) are Cc. None of them belong in a header.
_HEADER_DROP = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})
_BODY_DROP = frozenset({"Cf", "Cs", "Co", "Cn"})
_LINE_BREAKS = frozenset("\r\n\t\v\f\x1c\x1d\x1e\x85\u2028\u2029")


def header_text(value: str, limit: int = 200) -> str:
    """One line of text safe for a header: no line breaks, controls or invisibles; capped."""
    out = []
    for ch in value:
        if ch in _LINE_BREAKS:
            out.append(" ")
        elif unicodedata.category(ch) not in _HEADER_DROP:
            out.append(ch)
    cleaned = re.sub(r"\s+", " ", "".join(out)).strip()
    # The email package decodes anything shaped like an RFC 2047 encoded word ("=?utf-8?q?=0D=0A?=")
    # when a header is set, and Python < 3.11.10 then writes the decoded CR LF out raw: a header
    # injection. Breaking the "=?" opener keeps such text literal.
    return _cap(cleaned.replace("=?", "= ?"), limit)


def body_text(value: str) -> str:
    """Text for the body: keeps line breaks and tabs, drops other controls and invisibles."""
    out = []
    for ch in value.replace("\r\n", "\n").replace("\r", "\n"):
        cat = unicodedata.category(ch)
        if ch in "\n\t":
            out.append(ch)
        elif cat == "Cc" or cat in _BODY_DROP:
            continue
        else:
            out.append(ch)
    return "".join(out)


def _cap(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: max(limit - 1, 0)].rstrip() + "…"


def safe_link(url: str) -> str | None:
    """The URL if it is a plain http(s) web address, else None (javascript:, data:, ...)."""
    cleaned = header_text(url, limit=2000).replace(" ", "%20")
    try:
        parts = urlsplit(cleaned)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return cleaned


def _safe_filename(name: str) -> str:
    cleaned = header_text(name, limit=120).replace("/", "_").replace("\\", "_").lstrip(".")
    cleaned = re.sub(r'[<>:"|?*;]', "_", cleaned)
    return cleaned or "attachment"


_MIME_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")


def _split_type(content_type: str) -> tuple[str, str]:
    value = content_type.strip().lower()
    if not _MIME_TYPE.match(value):
        return "application", "octet-stream"
    maintype, subtype = value.split("/", 1)
    return maintype, subtype


# --- words for the headteacher ---


def platform_name(platform: str) -> str:
    """'X (Twitter)', 'Instagram', ... for a platform key."""
    return PLATFORM_NAMES.get(platform.lower(), header_text(platform, 40).capitalize() or "?")


def _account_words(alert: Alert) -> str:
    item = alert.item.item
    handle = item.account_key.split(":", 1)[-1]
    if alert.account is not None:
        handle = alert.account.handle
    handle = header_text(handle, 60)
    label = f"@{handle.lstrip('@')}" if item.platform.lower() not in ("archive",) else handle
    return f"{platform_name(item.platform)} {label}"


def _when(moment: datetime) -> str:
    if moment.tzinfo is None:  # domain times are UTC; tolerate a naive one rather than crash
        moment = moment.replace(tzinfo=UTC)
    utc = moment.astimezone(UTC)
    local = moment.astimezone(UK)
    return f"{local:%A} {local.day} {local:%B %Y at %H:%M} UK time ({local.tzname()}); {utc:%Y-%m-%d %H:%M} UTC"


def subject_for(alert: Alert, settings: EmailSettings) -> str:
    """Severity, what was found and where, in plain words, capped in length."""
    finding = alert.finding.finding
    title = policy.clause_info(finding.clause).title
    kind = KIND_WORDS.get(alert.item.item.kind, "post")
    prefix = header_text(settings.subject_prefix, 60)
    text = f"{SEVERITY_WORDS[finding.severity]}: {title} in a {kind} on {_account_words(alert)}"
    return header_text(f"{prefix} {text}".strip(), SUBJECT_MAX)


# --- the excerpt with its highlighted spans ---


def _merged_spans(spans: Sequence[TextSpan], length: int) -> list[tuple[int, int]]:
    ranges = sorted(
        (max(0, s.start), min(length, s.end))
        for s in spans
        if s.source == "text" and s.end > s.start and s.start < length and s.end > 0
    )
    merged: list[tuple[int, int]] = []
    for start, end in ranges:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def excerpt_segments(text: str, spans: Sequence[TextSpan]) -> list[tuple[str, bool]]:
    """The text cut into (segment, highlighted) pieces; a long text keeps context around spans."""
    marks = _merged_spans(spans, len(text))
    if len(text) <= EXCERPT_MAX:
        windows = [(0, len(text))]
    elif marks:
        windows = []
        for start, end in marks:
            lo, hi = max(0, start - CONTEXT), min(len(text), end + CONTEXT)
            if windows and lo <= windows[-1][1]:
                windows[-1] = (windows[-1][0], hi)
            else:
                windows.append((lo, hi))
    else:
        windows = [(0, EXCERPT_MAX)]
    segments: list[tuple[str, bool]] = []
    for index, (lo, hi) in enumerate(windows):
        if lo > 0 or index > 0:
            segments.append(("… ", False))
        cursor = lo
        for start, end in marks:
            if end <= lo or start >= hi:
                continue
            start, end = max(start, lo), min(end, hi)
            if start > cursor:
                segments.append((text[cursor:start], False))
            segments.append((text[start:end], True))
            cursor = end
        if cursor < hi:
            segments.append((text[cursor:hi], False))
    if windows and windows[-1][1] < len(text):
        segments.append((" …", False))
    return [(body_text(s), marked) for s, marked in segments]


# --- composing ---


def compose_alert_email(alert: Alert, settings: EmailSettings, attachments: Sequence[Attachment] = ()) -> EmailMessage:
    """Build the alert email (text + HTML alternatives, then attachments) for one alert."""
    if not settings.to_addresses:
        raise EmailCompositionError("no recipients configured for alert emails ([alerts] recipients)")
    message = EmailMessage(policy=email_policy.SMTP)
    message["Subject"] = subject_for(alert, settings)
    message["From"] = _address(settings.from_address, f"Hall Monitor ({settings.school_name})")
    message["To"] = ", ".join(str(_address(a)) for a in settings.to_addresses)
    message["Date"] = format_datetime(_utc(alert.created_at))
    message["Message-ID"] = _message_id(alert.message_id)
    message["X-Hallmon-Alert-Id"] = str(int(alert.id))
    message["X-Hallmon-Clause"] = header_text(str(alert.finding.finding.clause), 20)
    message["X-Hallmon-Severity"] = str(alert.finding.finding.severity)
    # RFC 3834: tells auto-responders (out-of-office) not to reply to the monitor.
    message["Auto-Submitted"] = "auto-generated"
    if alert.finding.finding.severity.at_least(Severity.HIGH):
        message["Importance"] = "high"
    names = [_safe_filename(a.filename) for a in attachments]
    message.set_content(_render_text(alert, settings, names), subtype="plain", charset="utf-8")
    message.add_alternative(_render_html(alert, settings, names), subtype="html", charset="utf-8")
    for attachment, name in zip(attachments, names, strict=True):
        maintype, subtype = _split_type(attachment.content_type)
        message.add_attachment(attachment.data, maintype=maintype, subtype=subtype, filename=name)
    _check_headers(message)
    return message


def _check_headers(message: EmailMessage) -> None:
    # Last line of defence: whatever the cleaning above missed must not become a new header.
    for part in message.walk():
        for name, value in part.items():
            if any(c in str(value) for c in "\r\n\x00"):
                raise EmailCompositionError(f"refusing to send: header {name} would contain a line break")


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


_MESSAGE_ID = re.compile(r"^<[!-;=?-~]+@[!-;=?-~]+>$")  # printable ASCII, no <, >, @ inside


def _message_id(value: str) -> str:
    if not _MESSAGE_ID.match(value):
        raise EmailCompositionError(f"alert Message-ID {value!r} is not of the form <local@domain>")
    return value


def _address(value: str, display_name: str = "") -> Address:
    addr = header_text(value, 320)
    local, at, domain = addr.rpartition("@")
    if not at or not local or not domain or any(c in addr for c in ' <>,;"()'):
        raise EmailCompositionError(f"{addr!r} is not a valid email address")
    return Address(display_name=header_text(display_name, 100), username=local, domain=domain)


@dataclass(frozen=True)
class _Facts:
    """The lines both parts show, computed once so text and HTML never disagree."""

    title: str
    section: str
    quote: str
    kind: str
    where: str
    author: str
    link: str | None
    raw_link: str
    posted: str
    edited: str
    captured: str
    severity: str
    confidence: str
    explanation: str
    pictures: str
    deleted: str
    steps: list[str]
    alert_id: int
    category: str
    detector: str
    external_id: str
    message_id: str


def _facts(alert: Alert, settings: EmailSettings) -> _Facts:
    finding = alert.finding.finding
    item = alert.item.item
    info = policy.clause_info(finding.clause)
    where = _account_words(alert)
    if alert.account is not None and alert.account.display_name:
        where += f" ({header_text(alert.account.display_name, 80)})"
    return _Facts(
        title=info.title,
        section=info.section,
        quote=policy.quoted_clause(finding.clause),
        kind=KIND_WORDS.get(item.kind, "post"),
        where=where,
        author=("the school's account" if item.author_is_school else "")
        or header_text(item.author, 120)
        or "(unknown)",
        link=safe_link(item.permalink),
        raw_link=header_text(item.permalink, 300),
        posted=_when(item.created_at),
        edited=_when(item.edited_at) if item.edited_at else "",
        captured=_when(alert.item.captured_at),
        severity=SEVERITY_WORDS[finding.severity],
        confidence=f"{round(max(0.0, min(1.0, finding.confidence)) * 100)}%",
        explanation=body_text(finding.evidence.explanation).strip(),
        pictures=_pictures(finding.evidence.regions),
        deleted=_when(alert.item.deleted_at) if alert.item.deleted_at else "",
        steps=policy.next_steps(finding, item),
        alert_id=int(alert.id),
        category=header_text(finding.category, 80),
        detector=header_text(finding.detector_ref, 80),
        external_id=header_text(item.external_id, 80),
        message_id=alert.message_id,
    )


def _pictures(regions: Sequence[ImageRegion]) -> str:
    """'2 faces marked' style summary of the image regions a detector pointed at."""
    counts: dict[str, int] = {}
    for region in regions:
        label = header_text(region.label, 40) or "area"
        counts[label] = counts.get(label, 0) + 1
    return ", ".join(f"{n} {label}{'' if n == 1 else 's'} marked" for label, n in counts.items())


def _it_commands(alert_id: int) -> list[str]:
    return [
        f"hallmon alerts show {alert_id}",
        f"hallmon evidence export {alert_id}",
        f'hallmon alerts ack {alert_id} --as "Your Name"   (once someone is dealing with it)',
    ]


def _render_text(alert: Alert, settings: EmailSettings, names: Sequence[str]) -> str:
    f = _facts(alert, settings)
    item = alert.item.item
    school = header_text(settings.school_name, 120) or "the school"
    excerpt = "".join(
        f"{MARK_OPEN}{s}{MARK_CLOSE}" if marked else s
        for s, marked in excerpt_segments(item.text, alert.finding.finding.evidence.spans)
    )
    lines = [
        f"Hall Monitor found something on {school}'s official social media that needs your attention.",
        "",
        f"WHAT WAS FOUND: {f.title}",
        f"  In a {f.kind} on {f.where}.",
        f"  Priority: {f.severity}. Hall Monitor is {f.confidence} sure.",
    ]
    if f.explanation:
        lines.append(f"  Why: {f.explanation}")
    if f.pictures:
        lines.append(f"  In the pictures: {f.pictures}")
    if f.deleted:
        lines.append(f"  It has since been deleted from the platform ({f.deleted}); the saved copy is attached.")
    lines += ["", "THE POLICY", f"  {f.section}:", f'  "{f.quote}"', "", "WHERE AND WHEN"]
    lines += [f"  Account: {f.where}", f"  Written by: {f.author}"]
    if f.link:
        lines.append(f"  Link: {f.link}")
    elif f.raw_link:
        lines.append("  Link: (not shown: not a web address)")
    lines.append(f"  Posted: {f.posted}")
    if f.edited:
        lines.append(f"  Edited: {f.edited}")
    lines.append(f"  Captured by Hall Monitor: {f.captured}")
    lines += ["", f"WHAT IT SAYS (the parts that matter are between {MARK_OPEN} and {MARK_CLOSE})"]
    lines += ["  > " + line for line in (excerpt or "(no text)").split("\n")]
    lines += ["", "WHAT TO DO NEXT"]
    lines += [f"  {n}. {step}" for n, step in enumerate(f.steps, start=1)]
    if names:
        lines += ["", "ATTACHED", *(f"  - {name}" for name in names)]
    lines += [
        "",
        "FOR IT",
        f"  Alert id: {f.alert_id}",
        *(f"  {command}" for command in _it_commands(f.alert_id)),
        f"  Clause {alert.finding.finding.clause}, category {f.category}, detector {f.detector}",
        f"  Item {f.external_id}; Message-ID {f.message_id}",
        "",
    ]
    return "\n".join(lines)


def _e(value: str) -> str:
    return html.escape(value, quote=True)


def _render_html(alert: Alert, settings: EmailSettings, names: Sequence[str]) -> str:
    f = _facts(alert, settings)
    item = alert.item.item
    school = _e(header_text(settings.school_name, 120) or "the school")
    excerpt = "".join(
        f"<mark>{_e(s)}</mark>" if marked else _e(s)
        for s, marked in excerpt_segments(item.text, alert.finding.finding.evidence.spans)
    ).replace("\n", "<br>\n")
    if f.link:
        link = f'<a href="{_e(f.link)}" rel="noopener noreferrer">{_e(f.link)}</a>'
    else:
        link = "(not shown: not a web address)" if f.raw_link else "(none)"
    rows = [
        ("Account", _e(f.where)),
        ("Written by", _e(f.author)),
        ("Link", link),
        ("Posted", _e(f.posted)),
        *([("Edited", _e(f.edited))] if f.edited else []),
        ("Captured by Hall Monitor", _e(f.captured)),
    ]
    table = "\n".join(
        f'<tr><th align="left" valign="top" style="padding-right:1em">{k}</th><td>{v}</td></tr>' for k, v in rows
    )
    steps = "\n".join(f"<li>{_e(step)}</li>" for step in f.steps)
    attached = "".join(f"<li>{_e(name)}</li>" for name in names)
    commands = "<br>\n".join(f"<code>{_e(c)}</code>" for c in _it_commands(f.alert_id))
    why = f"<p>Why: {_e(f.explanation)}</p>" if f.explanation else ""
    if f.pictures:
        why += f"<p>In the pictures: {_e(f.pictures)}</p>"
    if f.deleted:
        why += f"<p>It has since been deleted from the platform ({_e(f.deleted)}); the saved copy is attached.</p>"
    return f"""<!DOCTYPE html>
<html lang="en-GB"><head><meta charset="utf-8"><title>{_e(f.title)}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:15px;line-height:1.4">
<p>Hall Monitor found something on {school}'s official social media that needs your attention.</p>
<h2 style="margin-bottom:0.2em">{_e(f.title)}</h2>
<p>In a {_e(f.kind)} on {_e(f.where)}.<br>
Priority: <strong>{_e(f.severity)}</strong>. Hall Monitor is {_e(f.confidence)} sure.</p>
{why}
<h3>The policy</h3>
<p>{_e(f.section)}:</p>
<blockquote style="border-left:4px solid #888;margin-left:0;padding-left:1em">{_e(f.quote)}</blockquote>
<h3>Where and when</h3>
<table>
{table}
</table>
<h3>What it says</h3>
<blockquote style="border-left:4px solid #c00;margin-left:0;padding-left:1em">{excerpt or "(no text)"}</blockquote>
<h3>What to do next</h3>
<ol>
{steps}
</ol>
{f"<h3>Attached</h3><ul>{attached}</ul>" if names else ""}
<h3>For IT</h3>
<p>Alert id: <strong>{f.alert_id}</strong><br>
{commands}<br>
Clause {_e(str(alert.finding.finding.clause))}, category {_e(f.category)}, detector {_e(f.detector)}<br>
Item {_e(f.external_id)}; Message-ID {_e(f.message_id)}</p>
</body></html>
"""
