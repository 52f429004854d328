"""The alert email, composed from real domain objects and received by a real SMTP server."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from email import policy as email_policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest
from PIL import Image

from monitor import policy
from monitor.domain import (
    Account,
    Alert,
    AlertState,
    AlertStatus,
    Box,
    Clause,
    Evidence,
    Finding,
    ImageRegion,
    Item,
    ItemKind,
    Media,
    MediaKind,
    Severity,
    StoredFinding,
    StoredItem,
    TextSpan,
)
from monitor.email import (
    SUBJECT_MAX,
    Attachment,
    EmailCompositionError,
    EmailSettings,
    compose_alert_email,
    safe_link,
)
from monitor.transports import SmtpSettings, SmtpTransport
from tests.smtp_server import LocalSmtpServer, running_smtp_server

SETTINGS = EmailSettings(
    school_name="St Aldhelm's Demo Primary",
    from_address="hallmon@aldhelm-demo.invalid",
    to_addresses=("head@aldhelm-demo.invalid", "dsl@aldhelm-demo.invalid"),
)
EXPECTED_HEADERS = {
    "Subject",
    "From",
    "To",
    "Date",
    "Message-ID",
    "X-Hallmon-Alert-Id",
    "X-Hallmon-Clause",
    "X-Hallmon-Severity",
    "Auto-Submitted",
    "Importance",
    "MIME-Version",
    "Content-Type",
}
POSTED = datetime(2026, 11, 24, 18, 5, tzinfo=UTC)
CAPTURED = datetime(2026, 11, 24, 18, 9, 30, tzinfo=UTC)
THREAT_TEXT = "Mr Quillfeather is a disgrace and I know where he parks. Watch yourself."


@pytest.fixture
def smtp() -> Iterator[LocalSmtpServer]:
    """A plain SMTP server on 127.0.0.1 for one test."""
    with running_smtp_server() as server:
        yield server


def make_alert(
    *,
    clause: Clause = Clause.STAFF_ABUSE,
    category: str = "abuse.threat",
    severity: Severity = Severity.HIGH,
    text: str = THREAT_TEXT,
    spans: tuple[TextSpan, ...] = (TextSpan(0, 15), TextSpan(57, 71)),
    author: str = "Jo Bramblewick",
    kind: ItemKind = ItemKind.COMMENT,
    author_is_school: bool = False,
    permalink: str = "https://www.instagram.com/p/DemoPost123/c/9001/",
    platform: str = "instagram",
    handle: str = "staldhelms_demo",
    account: Account | None = None,
    created_at: datetime = POSTED,
    alert_id: int = 42,
    message_id: str = "<hallmon.alert-7.3f2a9c@aldhelm-demo.invalid>",
) -> Alert:
    """An alert built straight from domain types, with invented names."""
    item = Item(
        platform=platform,
        account_key=f"{platform}:{handle}",
        external_id="9001",
        kind=kind,
        text=text,
        author=author,
        created_at=created_at,
        permalink=permalink,
        parent_external_id="DemoPost123" if kind is not ItemKind.POST else None,
        media=(Media(MediaKind.IMAGE, url="https://cdn.example.invalid/a.png", sha256="ab" * 32),),
        author_is_school=author_is_school,
    )
    finding = Finding(
        clause=clause,
        category=category,
        severity=severity,
        confidence=0.87,
        detector="staff_abuse",
        detector_version="0.3",
        evidence=Evidence(
            explanation="Insult and veiled threat aimed at a named member of staff",
            spans=spans,
            regions=(ImageRegion("ab" * 32, Box(10, 10, 40, 40), "face"),),
        ),
    )
    return Alert(
        id=alert_id,
        finding=StoredFinding(7, 3, finding, CAPTURED),
        item=StoredItem(3, 1, item, CAPTURED),
        account=account,
        message_id=message_id,
        status=AlertStatus.QUEUED,
        state=AlertState.OPEN,
        attempts=0,
        created_at=CAPTURED,
    )


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def evidence_summary(alert: Alert) -> Attachment:
    body = {"alert_id": alert.id, "clause": str(alert.finding.finding.clause)}
    return Attachment("evidence-summary.json", "application/json", json.dumps(body).encode())


def parts(message: EmailMessage) -> tuple[str, str]:
    """(text/plain, text/html) bodies of an alert email."""
    plain = message.get_body(preferencelist=("plain",))
    rich = message.get_body(preferencelist=("html",))
    assert plain is not None and rich is not None
    return plain.get_content(), rich.get_content()


def roundtrip(message: EmailMessage) -> EmailMessage:
    parsed = BytesParser(policy=email_policy.default).parsebytes(message.as_bytes())
    assert isinstance(parsed, EmailMessage)
    return parsed


def deliver(server: LocalSmtpServer, message: EmailMessage) -> EmailMessage:
    transport = SmtpTransport(SmtpSettings(host=server.host, port=server.port, security="none"))
    transport.send(message)
    return server.wait_for(1)[-1].message


# --- received by a real SMTP server ---


def test_alert_email_arrives_with_subject_parts_and_attachments(
    smtp: LocalSmtpServer,
) -> None:
    alert = make_alert(severity=Severity.CRITICAL)
    image = png_bytes()
    attachments = [Attachment("media-1.png", "image/png", image), evidence_summary(alert)]
    got = deliver(smtp, compose_alert_email(alert, SETTINGS, attachments))

    received = smtp.messages[0]
    assert received.mail_from == SETTINGS.from_address
    assert set(received.rcpt_tos) == set(SETTINGS.to_addresses)
    subject = str(got["Subject"])
    assert subject.startswith("[Hall Monitor] Urgent:")
    assert "abuse of a member of staff" in subject and "Instagram @staldhelms_demo" in subject
    assert str(got["Message-ID"]) == alert.message_id
    assert str(got["X-Hallmon-Alert-Id"]) == "42"
    assert got.get_content_type() == "multipart/mixed"
    alternative = next(got.iter_parts())
    assert alternative.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in alternative.iter_parts()] == ["text/plain", "text/html"]
    files = {a.get_filename(): a for a in got.iter_attachments()}
    assert set(files) == {"media-1.png", "evidence-summary.json"}
    assert files["media-1.png"].get_content() == image
    assert files["media-1.png"].get_content_type() == "image/png"
    assert json.loads(files["evidence-summary.json"].get_content())["alert_id"] == 42

    text, html = parts(got)
    assert policy.CLAUSES[Clause.STAFF_ABUSE].wording in text
    assert "https://www.instagram.com/p/DemoPost123/c/9001/" in text
    assert '<a href="https://www.instagram.com/p/DemoPost123/c/9001/"' in html
    assert "hallmon alerts show 42" in text and "hallmon evidence export 42" in text
    assert "hallmon alerts show 42" in html and "hallmon alerts ack 42 --as &quot;Your Name&quot;" in html
    assert "[[Mr Quillfeather]]" in text and "<mark>Mr Quillfeather</mark>" in html
    assert "<mark>Watch yourself</mark>" in html
    assert "Jo Bramblewick" in text and "media-1.png" in text


def test_message_id_and_subject_are_stable_across_compositions() -> None:
    alert = make_alert()
    first, second = compose_alert_email(alert, SETTINGS), compose_alert_email(alert, SETTINGS)
    assert first["Message-ID"] == second["Message-ID"] == alert.message_id
    assert first["Subject"] == second["Subject"]
    assert parts(first) == parts(second)


def test_hostile_platform_content_is_escaped_and_never_becomes_a_header(
    smtp: LocalSmtpServer,
) -> None:
    alert = make_alert(
        text='Look <script>alert("x")</script><img src=x onerror=alert(1)> at "this" & that',
        spans=(TextSpan(5, 32),),
        author="Mallory\r\nBcc: victim@evil.invalid\r\nX-Injected: yes\u200b\u202e",
        handle="evil\r\nBcc: other@evil.invalid",
        permalink="javascript:alert(document.cookie)",
    )
    evil_file = Attachment("../../x\r\nBcc: f@evil.invalid.png", "image/png\r\nX-A: 1", b"\x89PNG")
    got = deliver(smtp, compose_alert_email(alert, SETTINGS, [evil_file]))
    received = smtp.messages[0]

    assert set(received.rcpt_tos) == set(SETTINGS.to_addresses)
    assert got["Bcc"] is None and got["X-Injected"] is None and got["X-A"] is None
    header_block = received.raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    names = {line.split(":", 1)[0] for line in header_block.split("\r\n") if line[:1] not in " \t"}
    assert names == EXPECTED_HEADERS
    for name, value in got.items():
        assert "\u200b" not in str(value) and "\u202e" not in str(value), name
    assert "\n" not in str(got["Subject"])

    text, html = parts(got)
    assert "<script" not in html and "<img" not in html and "javascript:" not in html
    assert "&lt;script&gt;" in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&amp; that" in html and "&quot;this&quot;" in html
    assert "Mallory Bcc: victim@evil.invalid X-Injected: yes" in text
    assert "\u202e" not in text and "\u202e" not in html
    assert "not shown: not a web address" in text
    attachment = next(got.iter_attachments())
    assert attachment.get_content_type() == "application/octet-stream"
    filename = attachment.get_filename()
    assert filename is not None and "/" not in filename and "\n" not in filename


# --- what the email says ---


def test_threat_gets_the_police_step_and_a_plain_insult_does_not() -> None:
    threat_text, threat_html = parts(compose_alert_email(make_alert(), SETTINGS))
    assert "Online harassment is a crime." in threat_text
    assert "may consider contacting the local police" in threat_html
    assert "Do not reply" in threat_text and "already saved" in threat_text

    insult = make_alert(category="abuse.insult", severity=Severity.HIGH)
    insult_text, insult_html = parts(compose_alert_email(insult, SETTINGS))
    assert "police" not in insult_text and "police" not in insult_html
    assert "Do not reply" in insult_text and "report it to the platform" in insult_text

    critical = make_alert(category="abuse.insult", severity=Severity.CRITICAL)
    assert "local police" in parts(compose_alert_email(critical, SETTINGS))[0]


@pytest.mark.parametrize(
    ("category", "police"),
    [
        ("abuse.threat", True),
        ("abuse.sexual", True),
        ("abuse.sexist", True),
        ("abuse.hate", True),
        ("abuse.hate.religion", True),
        ("abuse.insult", False),
        ("abuse.hateful_words_lookalike", False),
    ],
)
def test_police_step_categories(category: str, police: bool) -> None:
    finding = make_alert(category=category, severity=Severity.MEDIUM).finding.finding
    assert policy.needs_police_step(finding) is police
    assert any("local police" in step for step in policy.next_steps(finding)) is police


def test_school_post_naming_a_child_quotes_4_1_f_and_asks_for_consent_check() -> None:
    alert = make_alert(
        clause=Clause.CHILD_NAME_WITH_PICTURE,
        category="child_name_with_picture",
        severity=Severity.HIGH,
        text="Well done Pippa Larkspur for her wonderful painting!",
        spans=(TextSpan(10, 24),),
        kind=ItemKind.POST,
        author="St Aldhelm's",
        author_is_school=True,
    )
    text, html = parts(compose_alert_email(alert, SETTINGS))
    subject = str(compose_alert_email(alert, SETTINGS)["Subject"])
    assert subject == ("[Hall Monitor] High: A child's name with their picture in a post on Instagram @staldhelms_demo")
    assert "must not: f) Contain children's names with their picture" in text
    assert "consent" in text and "remove the child's name" in text
    assert "Written by: the school's account" in text
    assert "<mark>Pippa Larkspur</mark>" in html
    assert "police" not in text


def test_personal_data_steps_name_the_dpo() -> None:
    alert = make_alert(
        clause=Clause.PERSONAL_DATA,
        category="personal_data.phone",
        text="Call Mrs Example on 07700 900123 about the trip",
        spans=(TextSpan(20, 32),),
        kind=ItemKind.POST,
        author_is_school=True,
    )
    text, _ = parts(compose_alert_email(alert, SETTINGS))
    assert "Data Protection Officer" in text and "[[07700 900123]]" in text
    assert "Divulge confidential or personal information" in text


def test_comment_from_the_public_under_4_1_is_hidden_not_edited() -> None:
    alert = make_alert(clause=Clause.PERSONAL_DATA, category="personal_data.phone", kind=ItemKind.COMMENT)
    steps = policy.next_steps(alert.finding.finding, alert.item.item)
    assert "hide or delete it" in steps[0]
    assert not any("disciplinary" in step for step in steps)


def test_times_are_shown_in_uk_time_and_utc() -> None:
    summer = make_alert(created_at=datetime(2026, 7, 1, 11, 30, tzinfo=UTC))
    text, _ = parts(compose_alert_email(summer, SETTINGS))
    assert "Wednesday 1 July 2026 at 12:30 UK time (BST); 2026-07-01 11:30 UTC" in text
    assert "Tuesday 24 November 2026 at 18:09 UK time (GMT); 2026-11-24 18:09 UTC" in text


def test_long_non_ascii_subject_is_capped_and_encoded() -> None:
    account = Account("instagram", "ysgol_gymraeg_" + "ŵ" * 150, display_name="Ysgol 🌟")
    alert = make_alert(account=account, handle=account.handle)
    message = roundtrip(compose_alert_email(alert, SETTINGS))
    subject = str(message["Subject"])
    assert len(subject) <= SUBJECT_MAX and subject.endswith("…")
    raw_headers = compose_alert_email(alert, SETTINGS).as_bytes().split(b"\r\n\r\n", 1)[0]
    raw_headers.decode("ascii")  # RFC 2047 encoded: no raw 8-bit bytes in the header block
    assert b"=?utf-8?" in raw_headers
    assert "Ysgol 🌟" in parts(message)[0]


def test_long_text_is_cut_to_context_around_the_highlight() -> None:
    text = "a" * 3000 + " Mr Quillfeather is vile " + "b" * 3000
    alert = make_alert(text=text, spans=(TextSpan(3001, 3016),))
    plain, html = parts(compose_alert_email(alert, SETTINGS))
    assert "… " in plain and "[[Mr Quillfeather]]" in plain
    assert "a" * 1000 not in plain and "<mark>Mr Quillfeather</mark>" in html


def test_out_of_range_and_overlapping_spans_do_not_crash() -> None:
    alert = make_alert(text="short text", spans=(TextSpan(3, 8), TextSpan(5, 9), TextSpan(40, 90)))
    plain, html = parts(compose_alert_email(alert, SETTINGS))
    assert "sho[[rt tex]]t" in plain and "sho<mark>rt tex</mark>t" in html


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.instagram.com/p/x/", "https://www.instagram.com/p/x/"),
        ("http://example.invalid/a?b=1&c=2", "http://example.invalid/a?b=1&c=2"),
        ("javascript:alert(1)", None),
        ("JaVaScRiPt:alert(1)", None),
        ("java\u200bscript:alert(1)", None),
        ("data:text/html,<script>x</script>", None),
        ("https:///nohost", None),
        ("", None),
    ],
)
def test_safe_link(url: str, expected: str | None) -> None:
    assert safe_link(url) == expected


def test_quoted_link_cannot_break_out_of_the_href() -> None:
    alert = make_alert(permalink='https://example.invalid/"><script>x</script>')
    _, html = parts(compose_alert_email(alert, SETTINGS))
    assert "<script>" not in html
    assert 'href="https://example.invalid/&quot;&gt;&lt;script&gt;' in html


@pytest.mark.parametrize(
    "settings",
    [
        EmailSettings("School", "hallmon@school.invalid", ()),
        EmailSettings("School", "not-an-address", ("head@school.invalid",)),
        EmailSettings("School", "hallmon@school.invalid", ("head@school.invalid\r\nBcc: x@y.z",)),
    ],
)
def test_bad_settings_give_a_typed_error(settings: EmailSettings) -> None:
    with pytest.raises(EmailCompositionError):
        compose_alert_email(make_alert(), settings)


def test_malformed_message_id_is_refused() -> None:
    with pytest.raises(EmailCompositionError, match="Message-ID"):
        compose_alert_email(make_alert(message_id="<a>\r\nBcc: x@y.z"), SETTINGS)


def test_every_clause_has_quoted_wording_and_next_steps() -> None:
    for clause in Clause:
        alert = make_alert(clause=clause, category="x", kind=ItemKind.POST, author_is_school=True)
        text, _ = parts(compose_alert_email(alert, SETTINGS))
        assert policy.CLAUSES[clause].wording in text
        assert len(policy.next_steps(alert.finding.finding, alert.item.item)) >= 2


def test_picture_regions_and_a_later_deletion_are_mentioned() -> None:
    alert = make_alert()
    alert = replace(alert, item=replace(alert.item, deleted_at=datetime(2026, 11, 25, 9, 0, tzinfo=UTC)))
    text, html = parts(compose_alert_email(alert, SETTINGS))
    assert "In the pictures: 1 face marked" in text and "1 face marked" in html
    assert "deleted from the platform (Wednesday 25 November 2026 at 09:00 UK time (GMT)" in text


NASTY = [
    "\r",
    "\n",
    "\r\n",
    "\x00",
    "\x1b[31m",
    "\u200b",
    "\u200d",
    "\u202e",
    "\u2066",
    "\ufeff",
    "\u2028",
    "\ud800",
    "<",
    ">",
    "&",
    '"',
    "'",
    "Bcc: x@evil.invalid",
    "=?utf-8?q?=0D=0ABcc:?=",
    "javascript:",
    "<script>",
    "ŵ",
    "🌟",
    "a" * 300,
    " ",
    "\t",
    "%0d%0a",
]


def test_random_hostile_values_never_crash_or_add_headers() -> None:
    import random

    rng = random.Random(20261125)

    def nasty() -> str:
        return "".join(rng.choice(NASTY) for _ in range(rng.randint(0, 12)))

    for _ in range(150):
        spans = tuple(TextSpan(rng.randint(-5, 60), rng.randint(-5, 80)) for _ in range(rng.randint(0, 3)))
        alert = make_alert(
            text=nasty(),
            spans=spans,
            author=nasty(),
            handle=nasty(),
            permalink=rng.choice(["https://example.invalid/", ""]) + nasty(),
            account=Account("instagram", nasty(), display_name=nasty()),
        )
        attachment = Attachment(nasty(), nasty(), nasty().encode("utf-8", "replace"))
        raw = compose_alert_email(alert, SETTINGS, [attachment]).as_bytes()
        header_block = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
        names = {line.split(":", 1)[0] for line in header_block.split("\r\n") if line[:1] not in " \t"}
        assert names == EXPECTED_HEADERS
        message = BytesParser(policy=email_policy.default).parsebytes(raw)
        assert isinstance(message, EmailMessage)
        _, html = parts(message)
        assert "<script" not in html.lower()
        assert all(href.startswith(("https://", "http://")) for href in re.findall(r'href="([^"]*)"', html))


def test_encoded_word_lookalikes_cannot_smuggle_a_line_break_into_a_header() -> None:
    sneaky = "ŵ =?utf-8?q?=0D=0ABcc:_victim@evil.invalid?="
    alert = make_alert(handle=sneaky, author=sneaky, account=Account("instagram", sneaky, display_name=sneaky))
    message = compose_alert_email(alert, SETTINGS, [Attachment(sneaky + ".png", "image/png", b"x")])
    raw = message.as_bytes()
    assert b"\r\nBcc" not in raw
    parsed = BytesParser(policy=email_policy.default).parsebytes(raw)
    assert parsed["Bcc"] is None and "\n" not in str(parsed["Subject"])
    assert "victim@evil.invalid" in str(parsed["Subject"])  # kept, as harmless literal text
