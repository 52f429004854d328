"""``hallmon check``: run the detectors on local items, with no platform and no database writes.

A member of staff checks a draft post before publishing it; evaluation tools score the detectors
through ``--jsonl`` (one JSON object per line in, one per line out, same order; a bad line gets an
``errors`` entry and the batch carries on).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from detectors.base import Detector, SchoolContext
from monitor.domain import Finding, Item, ItemKind, Media, MediaKind, ScanItem, ScanMedia
from monitor.pipeline import MediaAnalyser, run_detectors

MAX_LINE_CHARS = 2_000_000
KINDS = {"post": ItemKind.POST, "comment": ItemKind.COMMENT, "reply": ItemKind.REPLY}


class BadInput(ValueError):
    pass


@dataclass(frozen=True)
class CheckResult:
    id: str
    text: str
    findings: tuple[Finding, ...]
    media: tuple[ScanMedia, ...]
    errors: tuple[str, ...]
    media_inputs: tuple[str, ...] = ()  # the paths as given, echoed back in the output


class Checker:
    def __init__(self, detectors: Sequence[Detector], context: SchoolContext, analyser: MediaAnalyser | None) -> None:
        self.detectors = list(detectors)
        self.context = context
        self.analyser = analyser

    def check(self, record: Any, fallback_id: str = "") -> CheckResult:
        if not isinstance(record, dict):
            raise BadInput("each line must be a JSON object")
        item_id = str(record.get("id", fallback_id))
        text = record.get("text", "")
        if not isinstance(text, str):
            raise BadInput("'text' must be a string")
        kind = KINDS.get(str(record.get("kind", "post")))
        if kind is None:
            raise BadInput("'kind' must be 'post', 'comment' or 'reply'")
        paths = record.get("media", [])
        if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
            raise BadInput("'media' must be a list of file paths")
        errors: list[str] = []
        scan_media = []
        inputs: list[str] = []
        for raw_path in paths:
            path = Path(raw_path).expanduser().resolve()
            if not path.is_file():
                errors.append(f"media file not found: {raw_path}")
                continue
            sha = _sha256(path)
            media = Media(_media_kind(path), url=path.as_uri(), local_path=path, sha256=sha)
            analysis = self.analyser.analyse(path, sha) if self.analyser is not None else None
            if analysis is not None and analysis.error:
                errors.append(f"{raw_path}: {analysis.error}")
            scan_media.append(ScanMedia(media, path, analysis))
            inputs.append(raw_path)
        item = Item(
            platform=str(record.get("platform", "draft")),
            account_key="check:local",
            external_id=item_id,
            kind=kind,
            text=text,
            author=str(record.get("author", "")),
            created_at=datetime.now(UTC),
            media=tuple(s.media for s in scan_media),
            author_is_school=kind is ItemKind.POST,
        )
        run = run_detectors(self.detectors, ScanItem(item, tuple(scan_media), str(record.get("parent_text", ""))), self.context)
        errors += [f"detector {name}: {error}" for name, error in run.errors]
        return CheckResult(item_id, text, tuple(run.findings), tuple(scan_media), tuple(errors), tuple(inputs))

    def check_lines(self, lines: Iterable[str]) -> Iterator[dict[str, Any]]:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            fallback = f"line-{number}"
            try:
                if len(line) > MAX_LINE_CHARS:
                    raise BadInput(f"line is longer than {MAX_LINE_CHARS} characters")
                record = json.loads(line)
                yield result_to_json(self.check(record, fallback))
            except (BadInput, json.JSONDecodeError, UnicodeError) as exc:
                item_id = _peek_id(line) or fallback
                yield {"id": item_id, "findings": [], "media": [], "errors": [f"{type(exc).__name__}: {exc}"]}


def finding_to_json(finding: Finding) -> dict[str, Any]:
    return {
        "clause": str(finding.clause),
        "category": finding.category,
        "severity": str(finding.severity),
        "confidence": round(float(finding.confidence), 4),
        "detector": finding.detector_ref,
        "spans": [[s.start, s.end] for s in finding.evidence.spans if s.source == "text"],
        "regions": [[r.box.x, r.box.y, r.box.w, r.box.h] for r in finding.evidence.regions],
        "explanation": finding.evidence.explanation,
    }


def result_to_json(result: CheckResult) -> dict[str, Any]:
    return {
        "id": result.id,
        "findings": [finding_to_json(f) for f in result.findings],
        "media": [
            {
                "path": given,
                "faces": [[b.x, b.y, b.w, b.h] for b in (m.analysis.faces if m.analysis else ())],
                "text": m.analysis.ocr_text if m.analysis else "",
            }
            for m, given in zip(result.media, result.media_inputs or [str(m.path) for m in result.media], strict=True)
        ],
        "errors": list(result.errors),
    }


def describe(result: CheckResult) -> str:
    """The human-readable report for one checked item."""
    if not result.findings:
        lines = [f"{result.id}: no problems found."]
    else:
        lines = [f"{result.id}: {len(result.findings)} possible problem(s):"]
        for finding in sorted(result.findings, key=lambda f: -f.severity.rank):
            lines.append(f"  [{finding.severity.upper()}] clause {finding.clause} ({finding.category}), confidence {finding.confidence:.0%}")
            lines.append(f"      {finding.evidence.explanation}")
            for span in finding.evidence.spans:
                if span.source == "text":
                    lines.append(f"      text: \"{result.text[span.start:span.end]}\" (characters {span.start}-{span.end})")
            for region in finding.evidence.regions:
                lines.append(f"      image region {region.label or ''} at x={region.box.x} y={region.box.y} w={region.box.w} h={region.box.h}")
    lines += [f"  note: {error}" for error in result.errors]
    return "\n".join(lines)


def _peek_id(line: str) -> str:
    try:
        value = json.loads(line)
        return str(value.get("id", "")) if isinstance(value, dict) else ""
    except (json.JSONDecodeError, ValueError):
        return ""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _media_kind(path: Path) -> MediaKind:
    suffix = path.suffix.lower()
    if suffix in (".mp4", ".mov", ".webm", ".mkv", ".avi"):
        return MediaKind.VIDEO
    if suffix in (".mp3", ".wav", ".m4a", ".ogg"):
        return MediaKind.AUDIO
    return MediaKind.IMAGE
