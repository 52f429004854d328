"""Turns rows into domain objects and back: accounts, items and their revisions, scans, findings.

Every method works inside the caller's session; the caller owns the transaction, so a scan's
findings and their alerts commit together or not at all.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from monitor.domain import (
    AlertState,
    Box,
    Clause,
    Cursor,
    Evidence,
    Finding,
    ImageRegion,
    Item,
    ItemKind,
    Media,
    MediaAnalysis,
    MediaKind,
    OcrLine,
    Severity,
    StoredFinding,
    StoredItem,
    TextSpan,
    Usage,
)
from storage.evidence import EvidenceStore, StoredBlob
from storage.tables import (
    AccountRow,
    AlertRow,
    BlobRow,
    DetectorErrorRow,
    FindingRow,
    ItemRow,
    MediaAnalysisRow,
    MediaRow,
    PollLogRow,
    UsageRow,
)


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands datetimes back naive; they were stored as UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def content_hash(item: Item) -> str:
    """What makes a revision: text and media. A changed caption or image is a new revision."""
    basis = json.dumps(
        [item.kind, item.text, item.parent_external_id, [m.url or m.sha256 for m in item.media]],
        ensure_ascii=False,
    )
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CapturedMedia:
    """A media file as the pipeline captured it: stored blob, or the reason it could not be."""

    media: Media
    blob: StoredBlob | None
    error: str = ""


class Repository:
    def __init__(self, session: Session, evidence: EvidenceStore) -> None:
        self.session = session
        self.evidence = evidence

    # --- accounts, cursors, health, usage ---

    def account_row(self, key: str, platform: str = "", handle: str = "") -> AccountRow:
        row = self.session.scalar(select(AccountRow).where(AccountRow.key == key))
        if row is None:
            row = AccountRow(key=key, platform=platform, handle=handle, status="new")
            self.session.add(row)
            self.session.flush()
        return row

    def cursor(self, key: str) -> Cursor | None:
        value = self.session.scalar(select(AccountRow.cursor).where(AccountRow.key == key))
        return Cursor(value) if value is not None else None

    def add_usage(self, account_key: str, at: datetime, usage: Usage) -> None:
        day = at.astimezone(UTC).strftime("%Y-%m-%d")
        row = self.session.scalar(
            select(UsageRow).where(UsageRow.account_key == account_key, UsageRow.day == day)
        )
        if row is None:
            row = UsageRow(account_key=account_key, day=day, api_calls=0, quota_units=0, billed_reads=0)
            self.session.add(row)
        row.api_calls += usage.api_calls
        row.quota_units += usage.quota_units
        row.billed_reads += usage.billed_reads

    def usage_since(self, account_key: str, period: str, now: datetime) -> Usage:
        """Usage in the current UTC ``day`` or ``month``."""
        now = now.astimezone(UTC)
        prefix = now.strftime("%Y-%m-%d") if period == "day" else now.strftime("%Y-%m-")
        row = self.session.execute(
            select(
                func.coalesce(func.sum(UsageRow.api_calls), 0),
                func.coalesce(func.sum(UsageRow.quota_units), 0),
                func.coalesce(func.sum(UsageRow.billed_reads), 0),
            ).where(UsageRow.account_key == account_key, UsageRow.day.startswith(prefix))
        ).one()
        return Usage(int(row[0]), int(row[1]), int(row[2]))

    def log_poll(
        self,
        account_key: str,
        started_at: datetime,
        duration: timedelta,
        outcome: str,
        message: str | None,
        items_new: int,
        usage: Usage,
    ) -> None:
        self.session.add(
            PollLogRow(
                account_key=account_key,
                started_at=started_at,
                duration_ms=int(duration.total_seconds() * 1000),
                outcome=outcome,
                error_message=message,
                items_new=items_new,
                api_calls=usage.api_calls,
                quota_units=usage.quota_units,
                billed_reads=usage.billed_reads,
            )
        )

    # --- evidence blobs ---

    def record_blob(
        self, blob: StoredBlob, content_type: str, source_url: str, captured_at: datetime, status: int = 200
    ) -> None:
        """Remember when and where a blob was first captured (the earliest capture wins)."""
        if self.session.get(BlobRow, blob.sha256) is None:
            self.session.add(
                BlobRow(
                    sha256=blob.sha256,
                    size=blob.size,
                    content_type=content_type,
                    source_url=source_url,
                    captured_at=captured_at,
                    http_status=status,
                )
            )
            self.session.flush()

    # --- items ---

    def ingest(
        self,
        item: Item,
        captured_at: datetime,
        raw_sha256: str | None,
        media: Sequence[CapturedMedia],
    ) -> StoredItem | None:
        """Store a new item or a new revision of an edited one; ``None`` when nothing changed."""
        digest = content_hash(item)
        current = self.session.scalar(
            select(ItemRow).where(
                ItemRow.platform == item.platform,
                ItemRow.account_key == item.account_key,
                ItemRow.external_id == item.external_id,
                ItemRow.is_current.is_(True),
            )
        )
        if current is not None and current.content_hash == digest:
            if current.deleted_at is not None:  # seen again: it was hidden, not deleted
                current.deleted_at = None
            return None
        revision = 1
        if current is not None:
            current.is_current = False
            revision = current.revision + 1
        row = ItemRow(
            platform=item.platform,
            account_key=item.account_key,
            external_id=item.external_id,
            revision=revision,
            is_current=True,
            kind=str(item.kind),
            text=item.text,
            author=item.author,
            author_is_school=item.author_is_school,
            created_at=item.created_at,
            edited_at=item.edited_at,
            permalink=item.permalink,
            parent_external_id=item.parent_external_id,
            attributes=dict(item.attributes),
            content_hash=digest,
            raw_sha256=raw_sha256,
            captured_at=captured_at,
        )
        self.session.add(row)
        self.session.flush()
        for position, captured in enumerate(media):
            self.session.add(
                MediaRow(
                    item_id=row.id,
                    position=position,
                    kind=str(captured.media.kind),
                    url=captured.media.url,
                    external_id=captured.media.external_id,
                    alt_text=captured.media.alt_text,
                    sha256=captured.blob.sha256 if captured.blob else None,
                    download_error=captured.error or None,
                )
            )
        self.session.flush()
        return self._stored_item(row)

    def is_unchanged(self, item: Item) -> bool:
        """True when the current revision already has this content (no capture needed)."""
        digest = self.session.scalar(
            select(ItemRow.content_hash).where(
                ItemRow.platform == item.platform,
                ItemRow.account_key == item.account_key,
                ItemRow.external_id == item.external_id,
                ItemRow.is_current.is_(True),
            )
        )
        return digest == content_hash(item)

    def mark_gone(self, platform: str, account_key: str, external_ids: Iterable[str], now: datetime) -> list[int]:
        """Record items deleted on the platform; their open alerts become 'removed from platform'."""
        ids = list(external_ids)
        if not ids:
            return []
        rows = self.session.scalars(
            select(ItemRow).where(
                ItemRow.platform == platform,
                ItemRow.account_key == account_key,
                ItemRow.external_id.in_(ids),
                ItemRow.deleted_at.is_(None),
            )
        ).all()
        item_ids = [row.id for row in rows]
        for row in rows:
            row.deleted_at = now
        if item_ids:
            finding_ids = select(FindingRow.id).where(FindingRow.item_id.in_(item_ids))
            self.session.execute(
                update(AlertRow)
                .where(AlertRow.finding_id.in_(finding_ids), AlertRow.state == AlertState.OPEN.value)
                .values(
                    state=AlertState.REMOVED_FROM_PLATFORM.value,
                    state_changed_at=now,
                    state_changed_by="system",
                    state_note="The item is no longer on the platform.",
                )
            )
        return item_ids

    def unscanned(self, limit: int = 100) -> list[StoredItem]:
        rows = self.session.scalars(
            select(ItemRow).where(ItemRow.scanned_at.is_(None)).order_by(ItemRow.id).limit(limit)
        ).all()
        return [self._stored_item(row) for row in rows]

    def item(self, item_id: int) -> StoredItem:
        row = self.session.get(ItemRow, item_id)
        if row is None:
            raise KeyError(f"no item {item_id}")
        return self._stored_item(row)

    def parent_text(self, item: Item) -> str:
        if not item.parent_external_id:
            return ""
        text = self.session.scalar(
            select(ItemRow.text).where(
                ItemRow.platform == item.platform,
                ItemRow.account_key == item.account_key,
                ItemRow.external_id == item.parent_external_id,
                ItemRow.is_current.is_(True),
            )
        )
        return text or ""

    def _stored_item(self, row: ItemRow) -> StoredItem:
        media_rows = self.session.scalars(
            select(MediaRow).where(MediaRow.item_id == row.id).order_by(MediaRow.position)
        ).all()
        media = tuple(
            Media(
                kind=MediaKind(m.kind),
                url=m.url,
                local_path=self.evidence.path_for(m.sha256) if m.sha256 else None,
                sha256=m.sha256 or "",
                alt_text=m.alt_text,
                external_id=m.external_id,
            )
            for m in media_rows
        )
        item = Item(
            platform=row.platform,
            account_key=row.account_key,
            external_id=row.external_id,
            kind=ItemKind(row.kind),
            text=row.text,
            author=row.author,
            created_at=utc(row.created_at),
            permalink=row.permalink,
            parent_external_id=row.parent_external_id,
            media=media,
            edited_at=as_utc(row.edited_at),
            attributes={str(k): str(v) for k, v in (row.attributes or {}).items()},
            author_is_school=row.author_is_school,
        )
        return StoredItem(
            id=row.id,
            revision=row.revision,
            item=item,
            captured_at=utc(row.captured_at),
            deleted_at=as_utc(row.deleted_at),
        )

    def posts_without_findings(self) -> list[Item]:
        """Current, scanned posts that raised no finding at all."""
        flagged = select(FindingRow.item_id)
        rows = self.session.scalars(
            select(ItemRow)
            .where(ItemRow.kind == ItemKind.POST.value, ItemRow.is_current.is_(True))
            .where(ItemRow.scanned_at.is_not(None), ItemRow.id.not_in(flagged))
            .order_by(ItemRow.id)
        ).all()
        return [self._stored_item(row).item for row in rows]

    def raw_sha256(self, item_id: int) -> str | None:
        return self.session.scalar(select(ItemRow.raw_sha256).where(ItemRow.id == item_id))

    # --- media analysis cache ---

    def analysis(self, sha256: str, analyser_version: str) -> MediaAnalysis | None:
        row = self.session.scalar(
            select(MediaAnalysisRow).where(
                MediaAnalysisRow.sha256 == sha256, MediaAnalysisRow.analyser_version == analyser_version
            )
        )
        return analysis_from_json(row.analysis) if row is not None else None

    def save_analysis(self, analysis: MediaAnalysis, now: datetime) -> None:
        if self.analysis(analysis.sha256, analysis.analyser_version) is None:
            self.session.add(
                MediaAnalysisRow(
                    sha256=analysis.sha256,
                    analyser_version=analysis.analyser_version,
                    analysis=analysis_to_json(analysis),
                    created_at=now,
                )
            )
            self.session.flush()

    # --- scan results ---

    def save_scan(
        self,
        item_id: int,
        findings: Sequence[Finding],
        errors: Sequence[tuple[str, str]],
        now: datetime,
    ) -> list[StoredFinding] | None:
        """Record one scan of one revision; ``None`` if it had already been scanned (by another
        worker or process), so nothing is ever scanned into the database twice."""
        claimed = self.session.execute(
            update(ItemRow).where(ItemRow.id == item_id, ItemRow.scanned_at.is_(None)).values(scanned_at=now)
        )
        if not claimed.rowcount:  # type: ignore[attr-defined]
            return None
        stored: list[StoredFinding] = []
        for finding in findings:
            finding_row = FindingRow(
                item_id=item_id,
                clause=str(finding.clause),
                category=finding.category,
                severity=str(finding.severity),
                confidence=finding.confidence,
                detector=finding.detector,
                detector_version=finding.detector_version,
                explanation=finding.evidence.explanation,
                spans=[[s.start, s.end, s.source] for s in finding.evidence.spans],
                regions=[region_to_json(r) for r in finding.evidence.regions],
                created_at=now,
            )
            self.session.add(finding_row)
            self.session.flush()
            stored.append(StoredFinding(finding_row.id, item_id, finding, now))
        for detector, error in errors:
            self.session.add(DetectorErrorRow(item_id=item_id, detector=detector, error=error, created_at=now))
        self.session.flush()
        return stored

    def finding(self, finding_id: int) -> StoredFinding:
        row = self.session.get(FindingRow, finding_id)
        if row is None:
            raise KeyError(f"no finding {finding_id}")
        return finding_from_row(row)

    def findings_for_item(self, item_id: int) -> list[StoredFinding]:
        rows = self.session.scalars(select(FindingRow).where(FindingRow.item_id == item_id)).all()
        return [finding_from_row(row) for row in rows]

    def detector_errors(self, item_id: int) -> list[tuple[str, str]]:
        rows = self.session.scalars(select(DetectorErrorRow).where(DetectorErrorRow.item_id == item_id)).all()
        return [(row.detector, row.error) for row in rows]


def finding_from_row(row: FindingRow) -> StoredFinding:
    finding = Finding(
        clause=Clause(row.clause),
        category=row.category,
        severity=Severity(row.severity),
        confidence=row.confidence,
        detector=row.detector,
        detector_version=row.detector_version,
        evidence=Evidence(
            explanation=row.explanation,
            spans=tuple(TextSpan(int(s[0]), int(s[1]), str(s[2]) if len(s) > 2 else "text") for s in row.spans),
            regions=tuple(region_from_json(r) for r in row.regions),
        ),
    )
    return StoredFinding(row.id, row.item_id, finding, utc(row.created_at))


def box_to_json(box: Box) -> list[float]:
    return [box.x, box.y, box.w, box.h, box.confidence]


def box_from_json(data: Sequence[Any]) -> Box:
    return Box(int(data[0]), int(data[1]), int(data[2]), int(data[3]), float(data[4]) if len(data) > 4 else 1.0)


def region_to_json(region: ImageRegion) -> dict[str, Any]:
    return {"media": region.media_sha256, "box": box_to_json(region.box), "label": region.label}


def region_from_json(data: dict[str, Any]) -> ImageRegion:
    return ImageRegion(str(data.get("media", "")), box_from_json(data["box"]), str(data.get("label", "")))


def analysis_to_json(analysis: MediaAnalysis) -> dict[str, Any]:
    return {
        "sha256": analysis.sha256,
        "width": analysis.width,
        "height": analysis.height,
        "faces": [box_to_json(b) for b in analysis.faces],
        "ocr": [{"text": line.text, "box": box_to_json(line.box), "confidence": line.confidence} for line in analysis.ocr],
        "hashes": dict(analysis.hashes),
        "metadata": dict(analysis.metadata),
        "analyser_version": analysis.analyser_version,
        "error": analysis.error,
    }


def analysis_from_json(data: dict[str, Any]) -> MediaAnalysis:
    return MediaAnalysis(
        sha256=str(data["sha256"]),
        width=int(data.get("width", 0)),
        height=int(data.get("height", 0)),
        faces=tuple(box_from_json(b) for b in data.get("faces", [])),
        ocr=tuple(
            OcrLine(str(o["text"]), box_from_json(o["box"]), float(o.get("confidence", 1.0)))
            for o in data.get("ocr", [])
        ),
        hashes={str(k): str(v) for k, v in data.get("hashes", {}).items()},
        metadata={str(k): str(v) for k, v in data.get("metadata", {}).items()},
        analyser_version=str(data.get("analyser_version", "")),
        error=str(data.get("error", "")),
    )
