"""Clause 4.1(f): a pupil's name (caption or text inside the picture) together with a face."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from detectors.base import RosterIndex, RosterPerson, SchoolContext
from detectors.child_picture import ChildPictureDetector
from detectors.media_analysis import MediaAnalyser
from detectors.roster import read_roster_csv
from monitor.domain import Box, Clause, Item, ItemKind, Media, MediaAnalysis, MediaKind, ScanItem, ScanMedia, Severity

FIXTURES = Path(__file__).parent / "fixtures" / "images"
KEY = b"test-roster-key-0123456789abcdef"
# Invented pupils only.
ROSTER_CSV = """UPN,Forename,Surname,Preferred Name,Year,Photo Consent
T0001,Ava,Thornton,,Year 4,N
T0002,Oliver,Bennett,Olly,Year 3,Y
T0003,Isla,Fairbrother,,Year 6,
"""


@pytest.fixture(scope="module")
def analyser() -> MediaAnalyser:
    return MediaAnalyser(ocr=True)


@pytest.fixture(scope="module")
def roster(tmp_path_factory: pytest.TempPathFactory) -> SchoolContext:
    path = tmp_path_factory.mktemp("roster") / "pupils.csv"
    path.write_text(ROSTER_CSV)
    forms: dict[str, list[RosterPerson]] = {}
    for record in read_roster_csv(path, "pupils", KEY):
        forms.setdefault(record.form_key, []).append(record.person)
    index = RosterIndex(KEY, {k: tuple(v) for k, v in forms.items()})
    return SchoolContext(school_name="Larkfield Primary School", pupils=index)


@pytest.fixture(scope="module")
def certificate_with_face(tmp_path_factory: pytest.TempPathFactory) -> Path:
    board = Image.new("RGB", (1000, 400), "white")
    board.paste(Image.open(FIXTURES / "astronaut.jpg").convert("RGB"), (0, 0))
    board.paste(Image.open(FIXTURES / "certificate.png").convert("RGB").resize((600, 400)), (400, 0))
    path = tmp_path_factory.mktemp("img") / "certificate-photo.jpg"
    board.save(path, quality=90)
    return path


_ANALYSED: dict[str, MediaAnalysis] = {}  # analysed once per file, as the pipeline stores them


def scan(analyser: MediaAnalyser, text: str, *pictures: Path) -> ScanItem:
    media = []
    for path in pictures:
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        if sha not in _ANALYSED:
            _ANALYSED[sha] = analyser.analyse(path, sha)
        analysis = _ANALYSED[sha]
        media.append(ScanMedia(Media(MediaKind.IMAGE, local_path=path, sha256=sha), path, analysis))
    item = Item(
        "instagram", "instagram:larkfield", "p1", ItemKind.POST, text, "larkfield", datetime(2026, 11, 20, tzinfo=UTC)
    )
    return ScanItem(item, tuple(media))


DETECTOR = ChildPictureDetector()
DEMO_CAPTION = "Sports day was a triumph! Well done to Ava Thornton in Year 4 for winning the 60m sprint."


def test_named_pupil_without_photo_consent_beside_a_face_is_critical(
    analyser: MediaAnalyser, roster: SchoolContext
) -> None:
    item = scan(analyser, DEMO_CAPTION, FIXTURES / "astronaut.jpg")
    [finding] = DETECTOR.detect(item, roster)
    assert finding.clause is Clause.CHILD_NAME_WITH_PICTURE
    assert finding.severity is Severity.CRITICAL
    assert finding.category == "child_name_with_picture.no_photo_consent"
    [span] = finding.evidence.spans
    assert (DEMO_CAPTION[span.start : span.end], span.source) == ("Ava Thornton", "text")
    [face] = finding.evidence.regions
    assert face.media_sha256 == item.media[0].media.sha256 and face.label == "face" and face.box.w > 40
    assert "NO photo consent" in finding.evidence.explanation
    assert "Thornton" not in finding.evidence.explanation  # the roster's names stay out of findings


def test_named_pupil_with_consent_is_high(analyser: MediaAnalyser, roster: SchoolContext) -> None:
    [finding] = DETECTOR.detect(
        scan(analyser, "Brilliant running from Olly in Year 3 today!", FIXTURES / "astronaut.jpg"), roster
    )
    assert finding.severity is Severity.HIGH and finding.category == "child_name_with_picture"
    assert 0.5 < finding.confidence <= 0.99


def test_unknown_consent_is_high_not_critical(analyser: MediaAnalyser, roster: SchoolContext) -> None:
    [finding] = DETECTOR.detect(scan(analyser, "Congratulations Isla Fairbrother!", FIXTURES / "astronaut.jpg"), roster)
    assert finding.severity is Severity.HIGH


def test_name_read_inside_the_picture_counts_with_ocr_evidence(
    analyser: MediaAnalyser, roster: SchoolContext, certificate_with_face: Path
) -> None:
    item = scan(analyser, "Another proud moment for our school.", certificate_with_face)
    [finding] = DETECTOR.detect(item, roster)
    analysis = item.media[0].analysis
    assert analysis is not None
    assert finding.severity is Severity.CRITICAL
    [span] = finding.evidence.spans
    assert span.source == f"ocr:{analysis.sha256}"
    assert analysis.ocr_text[span.start : span.end] == "Ava Thornton"
    labels = sorted(r.label for r in finding.evidence.regions)
    assert labels == ["face", "name (text in picture)"]
    name_box = next(r.box for r in finding.evidence.regions if r.label != "face")
    assert name_box.x > 400  # on the certificate, right of the photo


def test_name_without_a_face_is_not_4_1_f(analyser: MediaAnalyser, roster: SchoolContext) -> None:
    assert DETECTOR.detect(scan(analyser, DEMO_CAPTION, FIXTURES / "coffee.jpg"), roster) == []
    assert DETECTOR.detect(scan(analyser, DEMO_CAPTION), roster) == []  # no picture at all


def test_face_without_a_name_is_not_4_1_f(analyser: MediaAnalyser, roster: SchoolContext) -> None:
    assert DETECTOR.detect(scan(analyser, "What a sunny sports day!", FIXTURES / "astronaut.jpg"), roster) == []


def test_faces_in_one_picture_and_the_name_beside_another_still_count(
    analyser: MediaAnalyser, roster: SchoolContext
) -> None:
    item = scan(analyser, DEMO_CAPTION, FIXTURES / "coffee.jpg", FIXTURES / "astronaut.jpg")
    [finding] = DETECTOR.detect(item, roster)
    assert {r.media_sha256 for r in finding.evidence.regions} == {item.media[1].media.sha256}


def test_without_a_roster_a_name_beside_a_face_is_medium_confidence(analyser: MediaAnalyser) -> None:
    [finding] = DETECTOR.detect(scan(analyser, DEMO_CAPTION, FIXTURES / "astronaut.jpg"), SchoolContext())
    assert finding.severity is Severity.MEDIUM
    assert finding.confidence <= 0.5
    assert finding.category == "child_name_with_picture.unverified_name"
    assert "roster import" in finding.evidence.explanation


def test_with_a_roster_a_name_not_on_it_is_not_a_pupil(analyser: MediaAnalyser, roster: SchoolContext) -> None:
    item = scan(
        analyser, "Thank you to Jessica Marlowe from the county council for visiting.", FIXTURES / "astronaut.jpg"
    )
    assert DETECTOR.detect(item, roster) == []


def test_failed_analysis_gives_no_finding_and_no_crash(roster: SchoolContext) -> None:
    broken = MediaAnalysis(sha256="ff" * 32, error="corrupt or truncated image")
    path = FIXTURES / "astronaut.jpg"
    item = ScanItem(
        Item("x", "x:s", "1", ItemKind.POST, DEMO_CAPTION, "s", datetime(2026, 11, 20, tzinfo=UTC)),
        (
            ScanMedia(Media(MediaKind.IMAGE, sha256="ff" * 32), path, broken),
            ScanMedia(Media(MediaKind.VIDEO), None, None),
        ),
    )
    assert DETECTOR.detect(item, roster) == []


def test_stored_analysis_from_the_database_is_enough(roster: SchoolContext) -> None:
    # the pipeline hands over the stored analysis: no file needed, boxes come from it
    stored = MediaAnalysis(sha256="ab" * 32, width=800, height=600, faces=(Box(100, 80, 60, 70, 0.99),))
    item = ScanItem(
        Item("x", "x:s", "1", ItemKind.POST, DEMO_CAPTION, "s", datetime(2026, 11, 20, tzinfo=UTC)),
        (ScanMedia(Media(MediaKind.IMAGE, sha256="ab" * 32), None, stored),),
    )
    [finding] = DETECTOR.detect(item, roster)
    assert finding.evidence.regions[0].box == Box(100, 80, 60, 70, 0.99)
    assert finding.detector_ref == "child_picture@1"
