"""Clause 4.1(b): media the school may not have the right to publish.

Four signals, each from the media analysis the pipeline computed once per file:

* the media register: a near-duplicate of a known third-party picture (blocklist) is a finding;
  a near-duplicate of the school's own media (allowlist) clears that picture of every check here;
* a stock-agency watermark or credit read by OCR ("shutterstock", "gettyimages", ...), matched
  fuzzily because OCR misreads faint watermarks ("Totolla", "bigelock");
* embedded metadata (EXIF / IPTC / XMP copyright, artist, credit, source) naming someone other
  than the school;
* YouTube's ``licensedContent`` flag on a video (a content owner has claimed it).

Only the school's own posts are checked: a picture in a parent's comment is not the school's
publication.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from detectors.base import KnownMedia, SchoolContext
from monitor.domain import (
    Box,
    Clause,
    Evidence,
    Finding,
    ImageRegion,
    ItemKind,
    MediaAnalysis,
    OcrLine,
    ScanItem,
    ScanMedia,
    Severity,
)

# Agency -> (spelling, edits tolerated). Spellings are compared after _fold(): lower case, no
# spaces, look-alike characters merged. Short or common-word-like spellings tolerate no edit
# ("istock" is one letter from "stock"); long ones tolerate the misreads seen on real watermarks.
# A spelling with a space may also be written as two words ("Getty Images"); the others must be
# one word, or phrases such as "a big stock of books" would match.
AGENCIES: Mapping[str, tuple[tuple[str, int], ...]] = {
    "Shutterstock": (("shutter stock", 3),),
    "Getty Images": (("getty images", 2), ("getty image", 1)),
    "iStock": (("istockphoto", 2), ("istock", 0)),
    "Alamy": (("alamy", 0),),
    "Adobe Stock": (("adobe stock", 2),),
    "Depositphotos": (("deposit photos", 3), ("deposit photo", 2)),
    "Dreamstime": (("dreamstime", 2),),
    "123RF": (("123rf", 0),),
    "Bigstock": (("bigstockphoto", 2), ("bigstock", 2)),
    "Fotolia": (("fotolia", 1),),
    "ClipartOf": (("clipartof", 2),),
    "Can Stock Photo": (("can stock photo", 2),),
    "Dollar Photo Club": (("dollar photo club", 3),),
    "Stocksy": (("stocksy", 0),),
    "VectorStock": (("vectorstock", 2),),
    "Masterfile": (("masterfile", 1),),
    "Westend61": (("westend61", 1),),
    "Wavebreak Media": (("wavebreak media", 2),),
    "PantherMedia": (("panthermedia", 2),),
}

_METADATA_KEYS = ("copyright", "rights", "artist", "creator", "byline", "by-line", "credit", "source", "licensor")
_BOILERPLATE = re.compile(
    r"copyright|all rights reserved|rights reserved|\(c\)|©|photo(graph)?( by)?|image( by)?|credit|\d+", re.I
)
_UNSPECIFIC = {"unknown", "none", "n a", "na", "null", "owner", "author", "user", "admin", "camera"}


@dataclass(frozen=True)
class AgencyHit:
    agency: str
    line: OcrLine
    exact: bool


class CopyrightDetector:
    """Flags third-party media: registered copies, stock watermarks, foreign credits, claims."""

    name = "copyright"
    version = "1.0"

    def detect(self, item: ScanItem, context: SchoolContext) -> list[Finding]:
        """Findings for each picture (and video) in a school post that looks third-party."""
        if item.item.kind is not ItemKind.POST and not item.item.author_is_school:
            return []
        findings: list[Finding] = []
        for media in item.media:
            findings.extend(self._media_findings(media, context))
        if item.item.attributes.get("licensedContent") == "true":
            findings.append(
                self._finding(
                    "copyright.licensed_content",
                    Severity.MEDIUM,
                    0.6,
                    "YouTube reports this video as licensed content: a rights holder has claimed "
                    "material in it (often music or footage). Check the school may publish it.",
                )
            )
        return findings

    def _media_findings(self, media: ScanMedia, context: SchoolContext) -> list[Finding]:
        analysis = media.analysis
        if analysis is None or analysis.error:
            return []
        sha = analysis.sha256 or media.media.sha256
        whole = ImageRegion(sha, Box(0, 0, analysis.width, analysis.height), "whole picture")
        known, score = register_match(analysis, context.known_media)
        if known is not None and known.own:
            return []  # the school's own picture: allowlisted
        findings: list[Finding] = []
        if known is not None:
            label = f" ({known.label})" if known.label else ""
            findings.append(
                self._finding(
                    "copyright.registered_third_party",
                    Severity.HIGH,
                    round(min(0.99, score), 3),
                    f"This picture matches third-party media in the school's register{label}, "
                    "even if resized, cropped, re-saved, framed or mirrored. Check the school holds a licence.",
                    (whole,),
                )
            )
        hits = find_agencies(analysis.ocr)
        if hits:
            agencies = sorted({h.agency for h in hits})
            exact = any(h.exact for h in hits)
            findings.append(
                self._finding(
                    "copyright.stock_watermark",
                    Severity.HIGH,
                    0.9 if exact else 0.75,
                    f"The picture carries a stock-photo watermark or credit ({', '.join(agencies)}). "
                    "A watermarked preview is not licensed for publication.",
                    tuple(ImageRegion(sha, h.line.box, h.agency) for h in hits),
                )
            )
        credit = foreign_credit(analysis.metadata, context)
        if credit is not None:
            key, value, agency = credit
            if agency:
                severity, confidence, why = Severity.HIGH, 0.85, f"names the stock agency {agency}"
            else:
                severity, confidence, why = Severity.MEDIUM, 0.5, "names someone other than the school"
            findings.append(
                self._finding(
                    "copyright.metadata_credit",
                    severity,
                    confidence,
                    f'The picture\'s embedded {key} "{value[:80]}" {why}. Check the school has permission to publish it.',
                    (whole,),
                )
            )
        return findings

    def _finding(
        self,
        category: str,
        severity: Severity,
        confidence: float,
        explanation: str,
        regions: tuple[ImageRegion, ...] = (),
    ) -> Finding:
        return Finding(
            clause=Clause.COPYRIGHT,
            category=category,
            severity=severity,
            confidence=confidence,
            detector=self.name,
            detector_version=self.version,
            evidence=Evidence(explanation, regions=regions),
        )


def register_match(analysis: MediaAnalysis, register: Sequence[KnownMedia]) -> tuple[KnownMedia | None, float]:
    """The best register entry this picture duplicates (own entries win ties), with its score."""
    if not register:
        return None, 0.0
    from detectors.image_hashes import match_score  # ORB/phash code loads only when there is a register

    best: KnownMedia | None = None
    best_score = 0.0
    for known in register:
        if known.sha256 and known.sha256 == analysis.sha256:
            score = 1.0
        elif analysis.hashes and known.hashes:
            try:
                score = match_score(analysis.hashes, known.hashes)
            except Exception:  # a malformed stored fingerprint must not hide the other entries
                score = 0.0
        else:
            score = 0.0
        if score > best_score or (
            score > 0 and score == best_score and known.own and best is not None and not best.own
        ):
            best, best_score = known, score
    return best, best_score


def find_agencies(lines: Iterable[OcrLine]) -> list[AgencyHit]:
    """OCR lines naming a stock agency, one hit per line and agency."""
    hits: list[AgencyHit] = []
    for line in lines:
        for agency, exact in _agencies_in(line.text):
            hits.append(AgencyHit(agency, line, exact))
    return hits


def agency_in_text(text: str) -> str | None:
    """The first stock agency named in ``text`` (fuzzy), or None."""
    found = _agencies_in(text)
    return found[0][0] if found else None


def foreign_credit(metadata: Mapping[str, str], context: SchoolContext) -> tuple[str, str, str | None] | None:
    """(field, value, agency or None) for the first rights field naming someone other than the school."""
    school = [_fold(n) for n in (context.school_name, *context.school_names) if len(_fold(n)) >= 3]
    for key, raw in metadata.items():
        lowered = key.lower()
        if not any(k in lowered for k in _METADATA_KEYS) or not raw.strip():
            continue
        value = " ".join(raw.split())
        agency = agency_in_text(value)
        if agency:
            return key, value, agency
        folded = _fold(value)
        if any(name in folded for name in school):
            continue
        residue = " ".join(re.sub(r"[^a-z ]+", " ", _BOILERPLATE.sub(" ", value.lower())).split())
        if len(residue.replace(" ", "")) < 3 or residue in _UNSPECIFIC or _is_staff(residue, context):
            continue
        return key, value, None
    return None


def _is_staff(name: str, context: SchoolContext) -> bool:
    """A photo credited to a member of staff (by full name, on the staff roster) is the school's."""
    if not context.staff:
        return False
    from detectors.roster import name_key

    return bool(context.staff.lookup("full", name_key(name)))


# --- fuzzy matching ---

_LOOKALIKES = str.maketrans({"0": "o", "1": "l", "i": "l", "|": "l", "!": "l", "5": "s", "$": "s"})


def _fold(text: str) -> str:
    """Lower case, letters and digits only, OCR look-alikes merged (i/l/1/|, o/0, s/5, rn/m)."""
    lowered = text.lower().replace("rn", "m").replace("vv", "w")
    return re.sub(r"[^a-z0-9]", "", lowered.translate(_LOOKALIKES))


_FOLDED_AGENCIES = tuple(
    (agency, _fold(spelling), edits, " " in spelling, spelling[0].isdigit())
    for agency, spellings in AGENCIES.items()
    for spelling, edits in spellings
)


def _agencies_in(text: str) -> list[tuple[str, bool]]:
    tokens = [t for t in re.split(r"[^0-9a-z|!$]+", text.lower()) if t]
    folded = [_fold(t) for t in tokens]
    # A word that starts with a digit ("#1 stock") is a number, not a misread letter.
    words = {f: t[0].isdigit() for t, f in zip(tokens, folded, strict=True) if sum(ch.isalpha() for ch in f) >= 3}
    # A misread is tolerated inside one word only; words run together ("getty images") must
    # spell the name exactly, or ordinary phrases ("tell a", "part of") would match.
    joined = {"".join(folded[i : i + n]) for n in (2, 3) for i in range(len(folded) - n + 1)}
    found: dict[str, bool] = {}
    for agency, spelling, edits, joinable, digit_first in _FOLDED_AGENCIES:
        if (spelling in words and words[spelling] == digit_first) or (joinable and spelling in joined):
            found[agency] = True
            continue
        for word, starts_with_digit in words.items():
            if starts_with_digit != digit_first or abs(len(word) - len(spelling)) > 1:
                continue
            if _edit_distance(word, spelling, edits) <= edits:
                found[agency] = found.get(agency, False)
    # exact names first, so a clear "iStock" is not reported as a near-miss of another agency
    return sorted(found.items(), key=lambda pair: (not pair[1], pair[0]))


def _edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance, giving up (returning limit + 1) once it must exceed ``limit``."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]
