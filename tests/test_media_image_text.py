"""Text inside pictures goes through the personal-data detector, located by OCR boxes."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from detectors.base import RosterIndex, RosterPerson, SchoolContext
from detectors.image_text import ImageTextDetector
from detectors.media_analysis import MediaAnalyser
from detectors.roster import name_key
from monitor.domain import Box, Clause, Item, ItemKind, Media, MediaAnalysis, MediaKind, OcrLine, ScanItem, ScanMedia

FIXTURES = Path(__file__).parent / "fixtures" / "images"


def _item(*analyses: MediaAnalysis, text: str = "Lost property") -> ScanItem:
    media = tuple(ScanMedia(Media(MediaKind.IMAGE, sha256=a.sha256), None, a) for a in analyses)
    item = Item(
        platform="x",
        account_key="x:stmarys",
        external_id="1",
        kind=ItemKind.POST,
        text=text,
        author="stmarys",
        created_at=datetime(2026, 11, 21, tzinfo=UTC),
        media=tuple(m.media for m in media),
        author_is_school=True,
    )
    return ScanItem(item, media)


def test_phone_number_on_a_flyer_is_found_and_boxed() -> None:
    lines = (
        OcrLine("LOST: blue school coat", Box(40, 30, 400, 40)),
        OcrLine("Call Mrs Jones on 07700 900461", Box(40, 90, 580, 40)),
    )
    analysis = MediaAnalysis(sha256="f" * 64, width=700, height=200, ocr=lines)
    findings = ImageTextDetector().detect(_item(analysis), SchoolContext())
    phones = [f for f in findings if f.category == "personal_data.phone"]
    assert len(phones) == 1
    finding = phones[0]
    assert finding.clause is Clause.PERSONAL_DATA
    assert finding.detector == "image_text" and "personal_data@" in finding.detector_version
    (span,) = finding.evidence.spans
    assert analysis.ocr_text[span.start : span.end].replace(" ", "") == "07700900461"
    assert span.source == f"ocr:{'f' * 64}"
    (region,) = finding.evidence.regions
    assert region.media_sha256 == "f" * 64
    # the box covers the number's part of the second line, not the whole line
    line_box = lines[1].box
    assert region.box.y == line_box.y and region.box.x > line_box.x + line_box.w // 3
    assert region.box.x + region.box.w <= line_box.x + line_box.w
    assert "inside a picture" in finding.evidence.explanation


def _roster(*names: str) -> RosterIndex:
    index = RosterIndex(key=b"k" * 32)
    forms = {
        f"full:{index.digest(name_key(n))}": (RosterPerson(f"p{i}", "pupil", "Year 4", True),)
        for i, n in enumerate(names)
    }
    return RosterIndex(key=index.key, forms=forms)


def test_a_rostered_pupils_name_on_a_certificate_is_found() -> None:
    lines = (
        OcrLine("Certificate of Achievement", Box(60, 140, 660, 45)),
        OcrLine("Ava Thornton, Year 4", Box(120, 300, 550, 55)),
    )
    analysis = MediaAnalysis(sha256="9" * 64, width=800, height=560, ocr=lines)
    with_roster = ImageTextDetector().detect(_item(analysis), SchoolContext(pupils=_roster("Ava Thornton")))
    names = [f for f in with_roster if f.category.startswith("pupil_name")]
    assert len(names) == 1
    assert names[0].evidence.regions[0].box.y == 300
    # without a roster the name guess on a picture is not reported (banners, shop signs...)
    assert [
        f for f in ImageTextDetector().detect(_item(analysis), SchoolContext()) if f.category.startswith("pupil_name")
    ] == []


def test_nothing_to_report_in_a_certificate_without_personal_data() -> None:
    lines = (OcrLine("Certificate of Achievement", Box(0, 0, 300, 30)), OcrLine("Well done!", Box(0, 40, 100, 30)))
    analysis = MediaAnalysis(sha256="e" * 64, ocr=lines)
    assert ImageTextDetector().detect(_item(analysis), SchoolContext()) == []


def test_pictures_without_text_or_with_errors_are_skipped() -> None:
    empty = MediaAnalysis(sha256="1" * 64)
    broken = MediaAnalysis(sha256="2" * 64, ocr=(OcrLine("07700 900461", Box(0, 0, 9, 9)),), error="time limit")
    assert ImageTextDetector().detect(_item(empty, broken), SchoolContext()) == []


def test_the_same_picture_twice_is_reported_once() -> None:
    analysis = MediaAnalysis(sha256="3" * 64, ocr=(OcrLine("email jane.jones@gmail.com", Box(0, 0, 300, 20)),))
    findings = ImageTextDetector().detect(_item(analysis, analysis), SchoolContext())
    assert [f.category for f in findings] == ["personal_data.email"]


@pytest.fixture(scope="module")
def analyser() -> MediaAnalyser:
    return MediaAnalyser()


def test_a_photographed_letter_end_to_end(tmp_path: Path, analyser: MediaAnalyser) -> None:
    """A generated picture of a note with an email address: decode, OCR, detect, locate."""
    picture = Image.new("RGB", (760, 300), (250, 250, 245))
    draw = ImageDraw.Draw(picture)
    font = ImageFont.load_default(size=34)
    draw.text((30, 40), "Dear parents,", font=font, fill=(20, 20, 20))
    draw.text((30, 120), "Reply to jane.jones@gmail.com", font=font, fill=(20, 20, 20))
    path = tmp_path / "letter.png"
    picture.save(path)
    analysis = analyser.analyse(path, hashlib.sha256(path.read_bytes()).hexdigest())
    assert analysis.error == ""
    findings = ImageTextDetector().detect(_item(analysis), SchoolContext())
    emails = [f for f in findings if f.category == "personal_data.email"]
    assert len(emails) == 1, analysis.ocr_text
    (region,) = emails[0].evidence.regions
    # the region sits on the second line of the note, inside the picture
    assert 100 <= region.box.y <= 170 and region.box.x + region.box.w <= 760


def test_inner_detectors_can_be_chosen() -> None:
    class Shouty:
        name = "shouty"
        version = "0"

        def detect(self, item: ScanItem, context: SchoolContext) -> list:  # type: ignore[type-arg]
            from monitor.domain import Evidence, Finding, Severity, TextSpan

            start = item.item.text.find("HELLO")
            if start < 0:
                return []
            return [
                Finding(
                    Clause.DISREPUTE,
                    "shouty",
                    Severity.LOW,
                    0.5,
                    self.name,
                    self.version,
                    Evidence("loud", (TextSpan(start, start + 5),)),
                )
            ]

    analysis = MediaAnalysis(
        sha256="4" * 64, ocr=(OcrLine("say", Box(0, 0, 30, 10)), OcrLine("HELLO there", Box(0, 20, 110, 10)))
    )
    (finding,) = ImageTextDetector(inner=[Shouty()]).detect(_item(analysis), SchoolContext())
    assert finding.evidence.regions[0].box == Box(0, 20, 50, 10)
    assert dataclasses.replace(finding).detector_version == "1.0+shouty@0"
