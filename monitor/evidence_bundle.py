"""The evidence bundle of one alert: WARC, screen prints (PNG, PDF), manifest, originals, README.

The alert email carries the screen prints; ``hallmon evidence export`` writes the whole bundle as
a zip for the police, the local authority or a platform's trust-and-safety team, and records the
export in the custody log. Nothing here changes a stored original: the bundle is rebuilt from
them, and a file that no longer matches its hash is refused rather than packaged.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from monitor.domain import Alert, StoredFinding
from monitor.email import Attachment, platform_name
from monitor.events import EventRecorder
from monitor.screenprint import PrintedImage, PrintedOriginal, ScreenPrint, render_pdf, render_png, thumbnail
from monitor.sender import evidence_attachments
from monitor.warc import WarcResource, sha256_label, write_warc
from storage.custody import BlobInfo, CustodyEntry, CustodyLog, blob_info
from storage.database import Database
from storage.evidence import EvidenceStore
from storage.outbox import Outbox
from storage.repository import Repository

log = logging.getLogger(__name__)

EXTENSIONS = {"application/json": ".json", "image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "video/mp4": ".mp4", "image/webp": ".webp"}


def tool_version() -> str:
    try:
        return f"hallmon {version('hallmon')}"
    except PackageNotFoundError:
        return "hallmon 0+unknown"


@dataclass(frozen=True)
class Original:
    role: str  # raw-payload | media-N
    sha256: str
    info: BlobInfo | None
    path: Path | None  # None when purged or missing

    @property
    def extension(self) -> str:
        return EXTENSIONS.get((self.info.content_type if self.info else "").split(";")[0].strip(), ".bin")


@dataclass(frozen=True)
class BundleFacts:
    alert: Alert
    originals: tuple[Original, ...]
    findings: tuple[StoredFinding, ...]
    custody: tuple[CustodyEntry, ...]
    detectors: tuple[str, ...]
    parent_text: str = ""  # the post a comment was made on: its context


def load_facts(alert: Alert, evidence: EvidenceStore, database: Database) -> BundleFacts:
    """Read what the bundle needs from storage (one short read-only session)."""
    with database.sessions() as session:
        repo = Repository(session, evidence)
        raw = repo.raw_sha256(alert.item.id)
        parent_text = repo.parent_text(alert.item.item)
        findings = tuple(repo.findings_for_item(alert.item.id))
        roles: list[tuple[str, str]] = [("raw-payload", raw)] if raw else []
        roles += [(f"media-{i}", m.sha256) for i, m in enumerate(alert.item.item.media, start=1) if m.sha256]
        infos = blob_info(session, [sha for _, sha in roles])
        log_ = CustodyLog(session)
        custody = log_.entries("item", [alert.item.id]) + log_.entries("alert", [alert.id])
    originals = []
    for role, sha in roles:
        info = infos.get(sha)
        path = evidence.path_for(sha)
        usable = info is not None and info.purged_at is None and path.exists()
        originals.append(Original(role, sha, info, path if usable else None))
    detectors = {f.finding.detector_ref for f in findings}
    for entry in custody:
        if entry.event == "analysed":
            detectors.update(str(d) for d in entry.details.get("detectors", []))
    return BundleFacts(
        alert, tuple(originals), findings, tuple(sorted(custody, key=lambda e: e.seq)), tuple(sorted(detectors)), parent_text
    )


def screen_print(facts: BundleFacts) -> ScreenPrint:
    item = facts.alert.item
    media_by_sha = {o.sha256: o for o in facts.originals}
    images = []
    for index, media in enumerate(item.item.media, start=1):
        original = media_by_sha.get(media.sha256)
        if original is None or original.path is None:
            images.append(PrintedImage(f"Attachment {index} ({media.kind})", media.sha256, None, "not captured or purged under the retention rules"))
            continue
        png = thumbnail(original.path.read_bytes()) if str(media.kind) == "image" else None
        note = "" if png else f"{media.kind} file, not drawn here; SHA-256 {media.sha256}"
        images.append(PrintedImage(f"Attachment {index} ({media.kind})", media.sha256, png, note))
    f = facts.alert.finding.finding
    lines = [f"Hall Monitor finding: clause {f.clause} ({f.category}), {f.severity}, confidence {f.confidence:.0%}: {f.evidence.explanation}"]
    originals = tuple(
        PrintedOriginal(o.role, o.sha256, o.info.captured_at if o.info else item.captured_at, o.info.source_url if o.info else "")
        for o in facts.originals
    )
    return ScreenPrint(
        title=f"Screen print - Hall Monitor alert {facts.alert.id}",
        platform=_capitalised(platform_name(item.item.platform)),
        account=item.item.account_key,
        author=item.item.author,
        kind=str(item.item.kind),
        text=item.item.text,
        posted_at=item.item.created_at,
        captured_at=item.captured_at,
        permalink=item.item.permalink,
        deleted_at=item.deleted_at,
        images=tuple(images),
        originals=originals,
        finding_lines=tuple(lines),
        tool=tool_version(),
        in_reply_to=facts.parent_text,
    )


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def alert_attachments(alert: Alert, evidence: EvidenceStore, database: Database) -> list[Attachment]:
    """What the sender attaches: media and evidence summary, plus the screen print PNG and PDF."""
    attachments = evidence_attachments(alert, evidence, database)
    try:
        sp = screen_print(load_facts(alert, evidence, database))
        attachments.append(Attachment(f"screen-print-alert-{alert.id}.png", "image/png", render_png(sp)))
        attachments.append(Attachment(f"screen-print-alert-{alert.id}.pdf", "application/pdf", render_pdf(sp)))
    except Exception as exc:  # the alert must still go out, with the originals, if drawing fails
        log.error("screen print for alert %d could not be drawn: %s", alert.id, exc)
    return attachments


# --- the bundle ---


def metadata(facts: BundleFacts, generated_at: datetime) -> dict[str, Any]:
    alert, item = facts.alert, facts.alert.item
    return {
        "tool": tool_version(),
        "generated_at": generated_at.isoformat(),
        "detectors": list(facts.detectors),
        "alert": {"id": alert.id, "message_id": alert.message_id, "created_at": alert.created_at.isoformat(), "state": str(alert.state)},
        "item": {
            "platform": item.item.platform,
            "account": item.item.account_key,
            "external_id": item.item.external_id,
            "revision": item.revision,
            "kind": str(item.item.kind),
            "author": item.item.author,
            "text": item.item.text,
            "permalink": item.item.permalink,
            "posted_at": item.item.created_at.isoformat(),
            "captured_at": item.captured_at.isoformat(),
            "removed_from_platform_at": item.deleted_at.isoformat() if item.deleted_at else None,
            "in_reply_to": {"external_id": item.item.parent_external_id, "text": facts.parent_text} if item.item.parent_external_id else None,
        },
        "findings": [
            {
                "id": s.id,
                "clause": str(s.finding.clause),
                "category": s.finding.category,
                "severity": str(s.finding.severity),
                "confidence": s.finding.confidence,
                "detector": s.finding.detector_ref,
                "explanation": s.finding.evidence.explanation,
                "spans": [[sp.start, sp.end, sp.source] for sp in s.finding.evidence.spans],
                "regions": [{"media": r.media_sha256, "box": [r.box.x, r.box.y, r.box.w, r.box.h], "label": r.label} for r in s.finding.evidence.regions],
                "found_at": s.created_at.isoformat(),
            }
            for s in facts.findings
        ],
        "originals": [_original_json(o) for o in facts.originals],
    }


def _original_json(o: Original) -> dict[str, Any]:
    return {
        "role": o.role,
        "sha256": o.sha256,
        "content_type": o.info.content_type if o.info else None,
        "source_url": o.info.source_url if o.info else None,
        "captured_at": o.info.captured_at.isoformat() if o.info else None,
        "purged_at": o.info.purged_at.isoformat() if o.info and o.info.purged_at else None,
        "included": o.path is not None,
    }


def _custody_json(entries: tuple[CustodyEntry, ...]) -> list[dict[str, Any]]:
    return [
        {
            "seq": e.seq,
            "at": e.at.isoformat(),
            "actor": e.actor,
            "event": e.event,
            "subject": f"{e.subject_type} {e.subject_id}",
            "details": dict(e.details),
            "prev_hash": e.prev_hash,
            "entry_hash": e.entry_hash,
        }
        for e in entries
    ]


def build_bundle(facts: BundleFacts, generated_at: datetime) -> dict[str, bytes]:
    """Every file of the export, by name (the manifest and README last, covering the rest)."""
    files: dict[str, bytes] = {}
    resources = [
        WarcResource(
            uri=o.info.source_url or f"urn:sha256:{o.sha256}",
            captured_at=o.info.captured_at,
            content_type=o.info.content_type,
            path=o.path,
            sha256=o.sha256,
            role=o.role,
        )
        for o in facts.originals
        if o.path is not None and o.info is not None
    ]
    warc = io.BytesIO()
    meta = metadata(facts, generated_at)
    uri = facts.alert.item.item.permalink or f"urn:hallmon:alert:{facts.alert.id}"
    write_warc(warc, resources, meta, uri, generated_at, tool_version())
    files["evidence.warc.gz"] = warc.getvalue()
    sp = screen_print(facts)
    files["screen-print.png"] = render_png(sp)
    files["screen-print.pdf"] = render_pdf(sp)
    for o in facts.originals:
        if o.path is not None:
            files[f"originals/{o.role}-{o.sha256}{o.extension}"] = o.path.read_bytes()
    files["findings.json"] = json.dumps(meta, indent=2, ensure_ascii=False).encode("utf-8")
    files["custody-log.json"] = json.dumps(_custody_json(facts.custody), indent=2, ensure_ascii=False).encode("utf-8")
    files["manifest.json"] = manifest(files, facts, generated_at)
    files["README.txt"] = readme(facts, generated_at, hashlib.sha256(files["manifest.json"]).hexdigest()).encode("utf-8")
    return files


def manifest(files: dict[str, bytes], facts: BundleFacts, generated_at: datetime) -> bytes:
    """Every file in the bundle with its SHA-256 and size, plus the originals' capture facts."""
    body = {
        "tool": tool_version(),
        "alert_id": facts.alert.id,
        "generated_at": generated_at.isoformat(),
        "files": [{"name": name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)} for name, data in sorted(files.items())],
        "originals": [_original_json(o) for o in facts.originals],
        "warc_digest_format": "WARC-Block-Digest / WARC-Payload-Digest are sha256, base32 encoded; e.g. " + sha256_label("00" * 32),
        "custody_log_head": facts.custody[-1].entry_hash if facts.custody else None,
    }
    return json.dumps(body, indent=2, ensure_ascii=False).encode("utf-8")


def readme(facts: BundleFacts, generated_at: datetime, manifest_sha256: str) -> str:
    from monitor.templates import render

    return render(
        "export_readme.txt.j2",
        facts=facts,
        item=facts.alert.item,
        finding=facts.alert.finding.finding,
        platform=platform_name(facts.alert.item.item.platform),
        generated_at=generated_at,
        manifest_sha256=manifest_sha256,
        tool=tool_version(),
        missing=[o for o in facts.originals if o.path is None],
    )


@dataclass(frozen=True)
class ExportResult:
    path: Path
    sha256: str
    files: int


def export_alert(
    alert_id: int, database: Database, evidence: EvidenceStore, out_dir: Path, now: datetime, events: EventRecorder, actor: str
) -> ExportResult:
    """Write ``hallmon-alert-ID-evidence.zip`` into ``out_dir`` and record the export."""
    with database.sessions() as session:
        alert = Outbox(session, Repository(session, evidence)).load(alert_id)
    facts = load_facts(alert, evidence, database)
    files = build_bundle(facts, now)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"hallmon-alert-{alert_id}-evidence-{now:%Y%m%dT%H%M%SZ}.zip"
    stamp = now.astimezone(UTC).timetuple()[:6]
    fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=".export-", suffix=".zip")
    try:
        with os.fdopen(fd, "wb") as handle, zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as archive:
            for name in ["README.txt", "manifest.json", *sorted(n for n in files if n not in ("README.txt", "manifest.json"))]:
                info = zipfile.ZipInfo(f"hallmon-alert-{alert_id}/{name}", date_time=stamp)
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, files[name])
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    events.record(
        "exported",
        "alert",
        alert_id,
        {"file": target.name, "zip_sha256": digest, "manifest_sha256": hashlib.sha256(files["manifest.json"]).hexdigest(), "files": len(files)},
        actor=actor,
    )
    return ExportResult(target, digest, len(files))
