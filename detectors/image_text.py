"""Text inside pictures goes through the text detectors: a phone number on a flyer, a home address
on a letter photographed for a post, an email on a poster.

The OCR lines of each picture (from the stored media analysis) are joined into one text, handed
to the text developers' :class:`~detectors.personal_data.PersonalDataDetector` (and, when the
school has loaded a pupil roster, :class:`~detectors.pupil_names.PupilNameDetector`: a pupil's
name on a certificate) as if it were a post, and each finding's character span is mapped back to the OCR line boxes it came from, so the
evidence marks the exact place in the picture.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from detectors.base import Detector, SchoolContext
from monitor.domain import (
    Box,
    Evidence,
    Finding,
    ImageRegion,
    MediaAnalysis,
    ScanItem,
    TextSpan,
)


class ImageTextDetector:
    """Runs the text detectors over the text read inside each picture of an item."""

    name = "image_text"
    version = "1.0"

    def __init__(self, inner: Sequence[Detector] | None = None) -> None:
        if inner is None:
            from detectors.personal_data import PersonalDataDetector
            from detectors.pupil_names import PupilNameDetector

            inner = (PersonalDataDetector(), PupilNameDetector())
        self._inner = tuple(inner)

    def detect(self, item: ScanItem, context: SchoolContext) -> list[Finding]:
        """Findings of the inner detectors on each picture's OCR text, located by OCR boxes."""
        findings: list[Finding] = []
        seen: set[str] = set()
        for media in item.media:
            analysis = media.analysis
            if analysis is None or analysis.error or not analysis.ocr or analysis.sha256 in seen:
                continue
            seen.add(analysis.sha256)  # the same picture twice in a carousel is reported once
            text, starts = _joined(analysis)
            # The picture's text stands in for the post's text; the item's kind and author stay,
            # because who published it decides the severity.
            as_post = ScanItem(dataclasses.replace(item.item, text=text, media=()))
            for detector in self._inner:
                if detector.name == "pupil_names" and not context.pupils:
                    # Without a roster, pupil_names guesses at any capitalised pair of words; in
                    # pictures (school names, banners, shop signs) that guess is mostly noise.
                    continue
                for finding in detector.detect(as_post, context):
                    findings.append(self._located(finding, analysis, starts))
        return findings

    def _located(self, finding: Finding, analysis: MediaAnalysis, starts: list[int]) -> Finding:
        regions: list[ImageRegion] = []
        spans: list[TextSpan] = []
        for span in finding.evidence.spans:
            spans.append(TextSpan(span.start, span.end, f"ocr:{analysis.sha256}"))
            for index, line in enumerate(analysis.ocr):
                line_start = starts[index]
                line_end = line_start + len(line.text)
                if span.start < line_end and line_start < span.end:
                    region = ImageRegion(
                        analysis.sha256,
                        _part_of(line.box, line.text, span.start - line_start, span.end - line_start),
                        "text in picture",
                    )
                    if region not in regions:
                        regions.append(region)
        explanation = f"{finding.evidence.explanation} (Read from text inside a picture.)"
        return dataclasses.replace(
            finding,
            detector=self.name,
            detector_version=f"{self.version}+{finding.detector}@{finding.detector_version}",
            evidence=Evidence(explanation, tuple(spans), tuple(regions) + finding.evidence.regions),
        )


def _joined(analysis: MediaAnalysis) -> tuple[str, list[int]]:
    """The OCR text exactly as ``MediaAnalysis.ocr_text`` builds it, with each line's offset."""
    starts: list[int] = []
    offset = 0
    for line in analysis.ocr:
        starts.append(offset)
        offset += len(line.text) + 1
    return analysis.ocr_text, starts


def _part_of(box: Box, text: str, start: int, end: int) -> Box:
    """The slice of a line's box holding characters start..end (characters assumed even width)."""
    if not text:
        return box
    start, end = max(0, start), min(len(text), end)
    if start <= 0 and end >= len(text):
        return box
    per_char = box.w / len(text)
    x0 = box.x + int(per_char * start)
    x1 = box.x + round(per_char * end)
    return Box(x0, box.y, max(1, x1 - x0), box.h, box.confidence)
