"""Clause 4.1(f): a child's name together with their picture.

A finding needs both halves in one item: at least one human face in its pictures (from the stored
media analysis) and a pupil's name, either in the caption/post text or in text read inside a
picture (a certificate, a name badge, a banner). Names are found by
``detectors.pupil_names.find_person_names`` (roster match by keyed hash, or a general name guess
when the school has loaded no roster). Faces are detected, never recognised: we cannot and do not
tell *who* is in the picture, so the finding says "a named pupil beside a photo with faces".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from detectors.base import NameMatch, SchoolContext
from monitor.domain import (
    Clause,
    Evidence,
    Finding,
    ImageRegion,
    MediaAnalysis,
    ScanItem,
    Severity,
    TextSpan,
)

NameFinder = Callable[[str, SchoolContext], list[NameMatch]]

UNVERIFIED_CONFIDENCE = 0.5  # a name guess with no roster to confirm it is a pupil


@dataclass(frozen=True)
class _Named:
    """One name found in one text source."""

    match: NameMatch
    source: str  # "text" or "ocr:<sha256>"
    regions: tuple[ImageRegion, ...] = ()  # OCR line boxes holding the name


class ChildPictureDetector:
    """Faces in an item's pictures plus a pupil's name in its text or inside a picture."""

    name = "child_picture"
    version = "1"

    def __init__(self, find_names: NameFinder | None = None) -> None:
        if find_names is None:
            from detectors.pupil_names import find_person_names

            find_names = find_person_names
        self._find_names = find_names

    def detect(self, item: ScanItem, context: SchoolContext) -> Sequence[Finding]:
        """One finding per item when a face and a pupil's name appear together."""
        analysed = [m.analysis for m in item.media if m.analysis is not None]
        faces = [ImageRegion(a.sha256, box, "face") for a in analysed for box in a.faces]
        if not faces:
            return []
        named = self._names(item.item.text, "text", context, None)
        for analysis in analysed:
            if analysis.ocr:
                named.extend(self._names(analysis.ocr_text, f"ocr:{analysis.sha256}", context, analysis))
        pupils = [n for n in named if n.match.person is not None and n.match.person.kind == "pupil"]
        if pupils:
            return [self._roster_finding(pupils, faces)]
        unverified = [n for n in named if n.match.person is None]
        if unverified and not context.pupils:
            return [self._unverified_finding(unverified, faces)]
        return []

    def _names(self, text: str, source: str, context: SchoolContext, analysis: MediaAnalysis | None) -> list[_Named]:
        if not text.strip():
            return []
        found = []
        for match in self._find_names(text, context):
            regions = _ocr_regions(analysis, match.start, match.end) if analysis is not None else ()
            found.append(_Named(match, source, regions))
        return found

    def _roster_finding(self, pupils: list[_Named], faces: list[ImageRegion]) -> Finding:
        refused = [n for n in pupils if n.match.person is not None and n.match.person.photo_consent is False]
        severity = Severity.CRITICAL if refused else Severity.HIGH
        category = "child_name_with_picture.no_photo_consent" if refused else "child_name_with_picture"
        cues = sorted({n.match.cue for n in pupils if n.match.cue})
        where = sorted({"inside the picture" if n.source.startswith("ocr:") else "in the text" for n in pupils})
        people = len({n.match.person.ref for n in pupils if n.match.person is not None})
        explanation = (
            f"A picture showing {_faces_phrase(len(faces))} is posted with "
            f"{'a pupil' if people == 1 else f'{people} pupils'} named {' and '.join(where)}"
            + (f" (matched on the school roster by {', '.join(cues)})" if cues else " (matched on the school roster)")
            + (
                f"; the roster records NO photo consent for {'this pupil' if len(refused) == 1 else 'some of them'}."
                if refused
                else "."
            )
        )
        confidence = max(n.match.confidence for n in pupils) * max(f.box.confidence for f in faces)
        return self._finding(category, severity, round(min(confidence, 0.99), 3), explanation, pupils, faces)

    def _unverified_finding(self, names: list[_Named], faces: list[ImageRegion]) -> Finding:
        explanation = (
            f"A picture showing {_faces_phrase(len(faces))} is posted with what looks like a person's name "
            "(no pupil roster is loaded, so it cannot be confirmed as a pupil: import one with "
            "'hallmon roster import')."
        )
        confidence = min(UNVERIFIED_CONFIDENCE, max(n.match.confidence for n in names))
        return self._finding(
            "child_name_with_picture.unverified_name", Severity.MEDIUM, confidence, explanation, names, faces
        )

    def _finding(
        self,
        category: str,
        severity: Severity,
        confidence: float,
        explanation: str,
        names: list[_Named],
        faces: list[ImageRegion],
    ) -> Finding:
        spans = tuple(dict.fromkeys(TextSpan(n.match.start, n.match.end, n.source) for n in names))
        name_regions = tuple(dict.fromkeys(r for n in names for r in n.regions))
        return Finding(
            clause=Clause.CHILD_NAME_WITH_PICTURE,
            category=category,
            severity=severity,
            confidence=confidence,
            detector=self.name,
            detector_version=self.version,
            evidence=Evidence(explanation, spans, tuple(faces) + name_regions),
        )


def _ocr_regions(analysis: MediaAnalysis, start: int, end: int) -> tuple[ImageRegion, ...]:
    """Boxes of the OCR lines that the span ``start:end`` of ``analysis.ocr_text`` falls in."""
    regions = []
    offset = 0
    for line in analysis.ocr:
        line_end = offset + len(line.text)
        if start < line_end and end > offset:
            regions.append(ImageRegion(analysis.sha256, line.box, "name (text in picture)"))
        offset = line_end + 1  # the "\n" that joins lines in ocr_text
    return tuple(regions)


def _faces_phrase(count: int) -> str:
    return "1 face" if count == 1 else f"{count} faces"
