"""The "screen print" of an item, as Appendix 1 asks staff to take: author, text, images, time
posted, time captured, permalink and the SHA-256 of every original, as a PNG and a PDF.

It is drawn from the captured originals, offline (Pillow for the PNG, WeasyPrint for the PDF,
which is never allowed to fetch anything but the images we hand it), and says plainly that it is
a reconstruction: the hashed originals are the evidence.
"""

from __future__ import annotations

import base64
import io
import logging
import threading
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

log = logging.getLogger(__name__)
_RENDER_LOCK = threading.Lock()

UK = ZoneInfo("Europe/London")
WIDTH = 1000
MARGIN = 40
THUMB = (WIDTH - 2 * MARGIN, 640)
INK, GREY, RULE, BANNER = (20, 20, 20), (95, 95, 95), (200, 200, 200), (255, 236, 179)
# PIL refuses to decode absurdly large images (decompression bombs); keep its default guard.
Image.MAX_IMAGE_PIXELS = 90_000_000


@dataclass(frozen=True)
class PrintedImage:
    label: str
    sha256: str
    thumbnail_png: bytes | None  # None when the file is gone or is not a picture
    note: str = ""


@dataclass(frozen=True)
class PrintedOriginal:
    role: str
    sha256: str
    captured_at: datetime
    source_url: str


@dataclass(frozen=True)
class ScreenPrint:
    """Everything drawn; built by monitor.evidence_bundle from storage, plain values only."""

    title: str
    platform: str
    account: str
    author: str
    kind: str
    text: str
    posted_at: datetime
    captured_at: datetime
    permalink: str
    deleted_at: datetime | None
    images: tuple[PrintedImage, ...]
    originals: tuple[PrintedOriginal, ...]
    finding_lines: tuple[str, ...]
    tool: str
    in_reply_to: str = ""  # the text of the post a comment answers, for context


def visible(text: str) -> str:
    """Drop invisible and bidirectional control characters that could disguise the text."""
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn"))


def hidden_characters(text: str) -> int:
    return len(text) - len(visible(text))


def hidden_note(text: str) -> str:
    return (
        f"({hidden_characters(text)} invisible formatting or control character(s) in the original text are not drawn; "
        "the original is unchanged in the raw payload.)"
    )


def when(moment: datetime | None) -> str:
    if moment is None:
        return "-"
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    local = moment.astimezone(UK)
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC ({local:%d %b %Y %H:%M} UK time)"


def thumbnail(data: bytes) -> bytes | None:
    """A PNG no larger than the print area, or None when the bytes are not a readable picture."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.seek(0)
            picture = image.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError, EOFError):
        return None
    picture.thumbnail(THUMB)
    out = io.BytesIO()
    picture.save(out, format="PNG", optimize=True)
    return out.getvalue()


@lru_cache(maxsize=4)
def _font(bold: bool, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    import matplotlib  # ships DejaVu fonts, so the print looks the same on every server

    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name
    try:
        return ImageFont.truetype(str(path), size)
    except OSError:
        return ImageFont.load_default(size)


def _wrap(text: str, font: Any, width: int) -> list[str]:
    lines: list[str] = []
    for paragraph in text.split("\n"):
        words = paragraph.split(" ")
        line = ""
        for word in words:
            candidate = f"{line} {word}" if line else word
            if font.getlength(candidate) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            # A single word wider than the line (a long URL) is cut by characters.
            while font.getlength(word) > width:
                cut = max(1, int(len(word) * width / max(1.0, font.getlength(word))) - 1)
                lines.append(word[:cut])
                word = word[cut:]
            line = word
        lines.append(line)
    return lines


def _short(text: str, limit: int = 280) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_png(sp: ScreenPrint) -> bytes:
    """Draw the screen print as one tall PNG."""
    regular, bold, small = _font(False, 20), _font(True, 22), _font(False, 15)
    inner = WIDTH - 2 * MARGIN
    blocks: list[tuple[str, Any, Any, tuple[int, int, int]]] = []  # kind, payload, font, colour

    def text(value: str, font: Any = regular, colour: tuple[int, int, int] = INK) -> None:
        for line in _wrap(visible(value), font, inner):
            blocks.append(("text", line, font, colour))

    def gap(size: int = 12) -> None:
        blocks.append(("gap", size, None, INK))

    text(f"{sp.platform} - {sp.account}", small, GREY)
    if sp.in_reply_to:
        text(f"In reply to: {_short(sp.in_reply_to)}", small, GREY)
    text(sp.author or "(no author name)", bold)
    text(f"{sp.kind} posted {when(sp.posted_at)}", small, GREY)
    gap()
    text(sp.text or "(no text)")
    if hidden_characters(sp.text):
        text(hidden_note(sp.text), small, GREY)
    gap()
    for image in sp.images:
        if image.thumbnail_png is not None:
            blocks.append(("image", image.thumbnail_png, None, INK))
        text(f"{image.label}: {image.note or 'SHA-256 ' + image.sha256}", small, GREY)
        gap()
    blocks.append(("rule", 1, None, RULE))
    text(f"Permalink: {sp.permalink or '(none)'}", small)
    text(f"Captured by Hall Monitor: {when(sp.captured_at)}", small)
    if sp.deleted_at:
        text(f"No longer on the platform since: {when(sp.deleted_at)}", small)
    for line in sp.finding_lines:
        text(line, small)
    gap()
    text("Originals (the evidence; this picture is drawn from them):", small)
    for original in sp.originals:
        text(f"{original.role}: SHA-256 {original.sha256}", small)
        text(f"    captured {when(original.captured_at)} from {original.source_url or '-'}", small, GREY)
    gap()
    text(f"Reconstructed by {sp.tool} from the captured originals; not a photograph of the screen.", small, GREY)

    banner_height = 56
    height = MARGIN + banner_height
    images: dict[int, Image.Image] = {}
    for index, (kind, payload, font, _colour) in enumerate(blocks):
        if kind == "text":
            height += int(font.size * 1.45)
        elif kind == "gap":
            height += payload
        elif kind == "rule":
            height += 14
        else:
            images[index] = Image.open(io.BytesIO(payload)).convert("RGB")
            height += images[index].height + 6
    height += MARGIN

    canvas = Image.new("RGB", (WIDTH, height), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    draw.rectangle((0, 0, WIDTH, banner_height), fill=BANNER)
    draw.text((MARGIN, 16), visible(sp.title)[:90], font=bold, fill=INK)
    y = MARGIN + banner_height
    for index, (kind, payload, font, colour) in enumerate(blocks):
        if kind == "text":
            draw.text((MARGIN, y), payload, font=font, fill=colour)
            y += int(font.size * 1.45)
        elif kind == "gap":
            y += payload
        elif kind == "rule":
            draw.line((MARGIN, y + 6, WIDTH - MARGIN, y + 6), fill=colour, width=1)
            y += 14
        else:
            canvas.paste(images[index], (MARGIN, y))
            y += images[index].height + 6
    out = io.BytesIO()
    canvas.save(out, format="PNG", optimize=True)
    return out.getvalue()


def offline_fetcher() -> Any:
    """A WeasyPrint URL fetcher that reads the data: images we embed and nothing else."""
    try:
        from weasyprint.urls import URLFetcher  # WeasyPrint >= 67
    except ImportError:  # older WeasyPrint takes a plain function
        from weasyprint.urls import default_url_fetcher

        def fetch(url: str, *args: Any, **kwargs: Any) -> Any:
            if url.startswith("data:"):
                return default_url_fetcher(url, *args, **kwargs)
            raise ValueError(f"blocked external resource {url[:80]!r}")

        return fetch
    return URLFetcher(allowed_protocols={"data"}, allow_redirects=False)


def render_html(sp: ScreenPrint) -> str:
    from monitor.templates import render

    images = [
        {
            "label": image.label,
            "sha256": image.sha256,
            "note": image.note,
            "src": "data:image/png;base64," + base64.b64encode(image.thumbnail_png).decode("ascii") if image.thumbnail_png else None,
        }
        for image in sp.images
    ]
    return render(
        "screenprint.html.j2",
        sp=sp,
        text=visible(sp.text),
        hidden=hidden_note(sp.text) if hidden_characters(sp.text) else "",
        images=images,
        when=when,
    )


def html_to_pdf(html: str) -> bytes:
    """Render HTML to PDF offline, one document at a time (the sender and the report job run in
    different scheduler threads, and the font and layout libraries are not known to be thread-safe)."""
    from weasyprint import HTML

    with _RENDER_LOCK:
        pdf: bytes = HTML(string=html, url_fetcher=offline_fetcher()).write_pdf()
    return pdf


def render_pdf(sp: ScreenPrint) -> bytes:
    """The same screen print as an A4 PDF with selectable text."""
    return html_to_pdf(render_html(sp))
