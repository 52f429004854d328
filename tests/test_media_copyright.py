"""Clause 4.1(b): register matches, stock watermarks (fuzzy), metadata credits, licensed videos."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image, ImageOps

from detectors.base import KnownMedia, SchoolContext
from detectors.copyright import CopyrightDetector, agency_in_text, foreign_credit
from detectors.image_hashes import fingerprint, register_entry
from detectors.media_analysis import MediaAnalyser
from monitor.domain import (
    Box,
    Clause,
    Item,
    ItemKind,
    Media,
    MediaAnalysis,
    MediaKind,
    OcrLine,
    ScanItem,
    ScanMedia,
    Severity,
)

FIXTURES = Path(__file__).parent / "fixtures" / "images"
SCHOOL = SchoolContext(school_name="St Mary's Catholic Primary School", school_names=("St Mary's", "SMCPS"))


def _item(
    *analyses: MediaAnalysis, kind: ItemKind = ItemKind.POST, attributes: Mapping[str, str] | None = None
) -> ScanItem:
    item = Item(
        platform="instagram",
        account_key="instagram:stmarys",
        external_id="p1",
        kind=kind,
        text="Our week in pictures",
        author="stmarys" if kind is ItemKind.POST else "a_parent",
        created_at=datetime(2026, 11, 20, tzinfo=UTC),
        attributes=attributes or {},
        author_is_school=kind is ItemKind.POST,
    )
    media = tuple(ScanMedia(Media(MediaKind.IMAGE, sha256=a.sha256), None, a) for a in analyses)
    return ScanItem(dataclasses.replace(item, media=tuple(m.media for m in media)), media)


def _analysis(
    ocr: tuple[str, ...] = (),
    metadata: Mapping[str, str] | None = None,
    hashes: Mapping[str, str] | None = None,
    sha: str = "a" * 64,
) -> MediaAnalysis:
    lines = tuple(OcrLine(text, Box(10, 20 + 30 * i, 200, 24), 0.9) for i, text in enumerate(ocr))
    return MediaAnalysis(sha256=sha, width=640, height=480, ocr=lines, hashes=hashes or {}, metadata=metadata or {})


def _categories(findings: list) -> list[str]:  # type: ignore[type-arg]
    return sorted(f.category for f in findings)


# --- stock watermarks and credits read by OCR ---


@pytest.mark.parametrize(
    ("text", "agency"),
    [
        ("shutterstock", "Shutterstock"),
        ("shutterstock.com · 1234567", "Shutterstock"),
        ("gettyimages", "Getty Images"),
        ("Getty Images", "Getty Images"),
        ("iStock by Getty Images", "Getty Images"),
        ("Alamy Stock Photo", "Alamy"),
        ("Adobe Stock", "Adobe Stock"),
        ("depositphotos", "Depositphotos"),
        ("epositphotos", "Depositphotos"),  # first letter lost at the picture's edge
        ("dreamstime.com", "Dreamstime"),
        ("123RF", "123RF"),
        ("bigelock", "Bigstock"),  # how OCR read a faint Bigstock mark
        ("Totolla", "Fotolia"),  # ...and a faint Fotolia one
        ("clipartof.com/1522464", "ClipartOf"),
    ],
)
def test_agency_names_and_misreadings(text: str, agency: str) -> None:
    assert agency_in_text(text) == agency


@pytest.mark.parametrize(
    "text",
    [
        "stock photo",
        "in stock",
        "a big stock of books",  # words must not run together into "bigstock"
        "Our #1 stock of reading books",  # "1stock" is not "istock"
        "Sports day was a triumph",
        "Certificate of Achievement",
        "Holla",
        "tell a friend",
        "part of the team",
        "ponds and streams",
        "HBO",
    ],
)
def test_ordinary_words_are_not_agencies(text: str) -> None:
    assert agency_in_text(text) is None


def test_watermark_in_ocr_is_a_high_finding_with_the_box() -> None:
    analysis = _analysis(ocr=("Spring lambs", "Totolla"))
    findings = CopyrightDetector().detect(_item(analysis), SCHOOL)
    assert _categories(findings) == ["copyright.stock_watermark"]
    finding = findings[0]
    assert finding.clause is Clause.COPYRIGHT and finding.severity is Severity.HIGH
    assert finding.confidence < 0.9  # a fuzzy match is less sure than an exact one
    assert [r.box for r in finding.evidence.regions] == [analysis.ocr[1].box]
    assert "Fotolia" in finding.evidence.explanation


def test_comment_by_someone_else_is_not_the_schools_publication() -> None:
    analysis = _analysis(ocr=("shutterstock",))
    assert CopyrightDetector().detect(_item(analysis, kind=ItemKind.COMMENT), SCHOOL) == []


def test_failed_or_missing_analysis_gives_nothing() -> None:
    broken = MediaAnalysis(sha256="b" * 64, error="corrupt or truncated picture")
    assert CopyrightDetector().detect(_item(broken), SCHOOL) == []


# --- metadata ---


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        ({"copyright": "© Jane Photographer 2024"}, Severity.MEDIUM),
        ({"artist": "Tom Lens Photography"}, Severity.MEDIUM),
        ({"credit": "Getty Images"}, Severity.HIGH),
        ({"source": "Shutterstock"}, Severity.HIGH),
        ({"copyright": "St Mary's Catholic Primary School 2026"}, None),
        ({"copyright": "(c) SMCPS"}, None),
        ({"copyright": "Copyright 2020. All rights reserved."}, None),
        ({"artist": "unknown"}, None),
        ({"format": "JPEG", "mode": "RGB"}, None),
    ],
)
def test_metadata_credit(metadata: dict[str, str], expected: Severity | None) -> None:
    findings = CopyrightDetector().detect(_item(_analysis(metadata=metadata)), SCHOOL)
    if expected is None:
        assert findings == []
    else:
        assert _categories(findings) == ["copyright.metadata_credit"]
        assert findings[0].severity is expected


def test_photo_credited_to_a_member_of_staff_is_the_schools() -> None:
    from detectors.base import RosterIndex, RosterPerson
    from detectors.roster import name_key

    index = RosterIndex(key=b"k" * 32)
    staff = RosterIndex(
        key=index.key, forms={f"full:{index.digest(name_key('Helen Hartley'))}": (RosterPerson("s1", "staff"),)}
    )
    context = dataclasses.replace(SCHOOL, staff=staff)
    assert CopyrightDetector().detect(_item(_analysis(metadata={"artist": "Helen Hartley"})), context) == []
    assert len(CopyrightDetector().detect(_item(_analysis(metadata={"artist": "Tom Lens"})), context)) == 1


def test_metadata_read_from_a_real_jpeg(tmp_path: Path) -> None:
    image = Image.open(FIXTURES / "coffee.jpg")
    exif = Image.Exif()
    exif[0x8298] = "Jane Photographer Ltd"  # EXIF Copyright
    path = tmp_path / "coffee-credited.jpg"
    image.save(path, exif=exif)
    analysis = MediaAnalyser(ocr=False).analyse(path, hashlib.sha256(path.read_bytes()).hexdigest())
    assert foreign_credit(analysis.metadata, SCHOOL) is not None
    findings = CopyrightDetector().detect(_item(analysis), SCHOOL)
    assert _categories(findings) == ["copyright.metadata_credit"]
    assert "Jane Photographer Ltd" in findings[0].evidence.explanation


# --- the media register ---


@pytest.fixture(scope="module")
def astronaut_copies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("copies")
    original = Image.open(FIXTURES / "astronaut.jpg").convert("RGB")
    w, h = original.size
    variants = {
        "resized": original.resize((w // 2, h // 2)),
        "recompressed": original,
        "cropped": original.crop((int(w * 0.08), int(h * 0.06), w - int(w * 0.05), h - int(h * 0.07))),
        "bordered": ImageOps.expand(original, border=40, fill=(255, 255, 255)),
        "mirrored": ImageOps.mirror(original),
    }
    paths = {}
    for name, image in variants.items():
        path = folder / f"{name}.jpg"
        image.save(path, quality=55 if name == "recompressed" else 85)
        paths[name] = path
    return paths


def _analysed(path: Path) -> MediaAnalysis:
    return MediaAnalysis(
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(), width=100, height=100, hashes=fingerprint(path)
    )


@pytest.mark.parametrize("variant", ["resized", "recompressed", "cropped", "bordered", "mirrored"])
def test_registered_third_party_picture_is_found_in_any_copy(variant: str, astronaut_copies: dict[str, Path]) -> None:
    known = register_entry(FIXTURES / "astronaut.jpg", own=False, label="NASA press kit")
    context = dataclasses.replace(SCHOOL, known_media=(known,))
    findings = CopyrightDetector().detect(_item(_analysed(astronaut_copies[variant])), context)
    assert _categories(findings) == ["copyright.registered_third_party"]
    assert findings[0].severity is Severity.HIGH
    assert "NASA press kit" in findings[0].evidence.explanation


def test_unrelated_pictures_do_not_match_the_register() -> None:
    known = register_entry(FIXTURES / "astronaut.jpg", own=False)
    context = dataclasses.replace(SCHOOL, known_media=(known,))
    for name in ("coffee.jpg", "chelsea.jpg", "brick.jpg", "certificate.png"):
        assert CopyrightDetector().detect(_item(_analysed(FIXTURES / name)), context) == [], name


def test_the_schools_own_picture_is_cleared_of_every_check(astronaut_copies: dict[str, Path]) -> None:
    own = register_entry(FIXTURES / "astronaut.jpg", own=True, label="our photo")
    context = dataclasses.replace(SCHOOL, known_media=(own,))
    analysis = dataclasses.replace(
        _analysed(astronaut_copies["mirrored"]),
        ocr=(OcrLine("shutterstock", Box(0, 0, 50, 10)),),
        metadata={"artist": "Tom Lens Photography"},
    )
    assert CopyrightDetector().detect(_item(analysis), context) == []


def test_exact_file_in_the_register_matches_without_fingerprints() -> None:
    known = KnownMedia(sha256="c" * 64, hashes={}, own=False, label="logo")
    context = dataclasses.replace(SCHOOL, known_media=(known,))
    findings = CopyrightDetector().detect(_item(_analysis(sha="c" * 64)), context)
    assert _categories(findings) == ["copyright.registered_third_party"]


def test_a_malformed_register_entry_does_not_hide_the_others(astronaut_copies: dict[str, Path]) -> None:
    broken = KnownMedia(sha256="d" * 64, hashes={"phash": "zz-not-hex", "orb": "!!"}, own=False)
    good = register_entry(FIXTURES / "astronaut.jpg", own=False)
    context = dataclasses.replace(SCHOOL, known_media=(broken, good))
    findings = CopyrightDetector().detect(_item(_analysed(astronaut_copies["resized"])), context)
    assert _categories(findings) == ["copyright.registered_third_party"]


# --- video ---


@pytest.mark.parametrize(("flag", "count"), [("true", 1), ("false", 0)])
def test_youtube_licensed_content(flag: str, count: int) -> None:
    findings = CopyrightDetector().detect(_item(attributes={"licensedContent": flag}), SCHOOL)
    assert len(findings) == count
    if count:
        assert findings[0].category == "copyright.licensed_content"
        assert findings[0].severity is Severity.MEDIUM
