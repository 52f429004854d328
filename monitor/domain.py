"""Domain types that flow between connectors, storage, detectors and the alert outbox.

Every type here is a small frozen dataclass or a ``StrEnum``. Raw platform JSON never leaves its
connector: a connector turns it into :class:`Item` objects and keeps the original bytes only as a
:class:`RawCapture` (evidence), which nothing downstream parses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType

EMPTY_MAPPING: Mapping[str, str] = MappingProxyType({})


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]

    def at_least(self, other: Severity) -> bool:
        return self.rank >= other.rank


_SEVERITY_RANK = {Severity.LOW: 0, Severity.MEDIUM: 1, Severity.HIGH: 2, Severity.CRITICAL: 3}


class Clause(StrEnum):
    """The policy clauses a finding can cite (social media policy, section 4.1 and Appendix 1)."""

    OFFENSIVE = "4.1(a)"
    COPYRIGHT = "4.1(b)"
    PERSONAL_DATA = "4.1(c)"
    DISREPUTE = "4.1(d)"
    SOLICITATION = "4.1(e)"
    CHILD_NAME_WITH_PICTURE = "4.1(f)"
    STAFF_ABUSE = "appendix-1"


class ItemKind(StrEnum):
    POST = "post"
    COMMENT = "comment"
    REPLY = "reply"


class MediaKind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"


@dataclass(frozen=True)
class Account:
    """One official school account on one platform, as configured."""

    platform: str
    handle: str
    poll_interval: timedelta = timedelta(minutes=15)
    display_name: str = ""
    options: Mapping[str, str] = field(default_factory=lambda: EMPTY_MAPPING)

    @property
    def key(self) -> str:
        """Stable identifier used in storage and logs, e.g. ``x:stmarysprimary``."""
        return f"{self.platform}:{self.handle}"


@dataclass(frozen=True)
class RawCapture:
    """Bytes exactly as a platform (or an export file) returned them, kept as evidence."""

    uri: str
    body: bytes
    captured_at: datetime
    content_type: str = "application/json"
    status: int = 200


@dataclass(frozen=True)
class Media:
    """An image, video or audio file attached to an item.

    ``url`` is the platform's original address (kept for evidence); ``download_url`` is where to
    fetch it from when a proxy or test server rewrites hosts. ``local_path`` is set when the file
    is already on disk (archive exports) or once it has been downloaded into the evidence store.
    """

    kind: MediaKind
    url: str = ""
    download_url: str = ""
    local_path: Path | None = None
    sha256: str = ""
    alt_text: str = ""
    external_id: str = ""

    @property
    def fetch_url(self) -> str:
        return self.download_url or self.url


@dataclass(frozen=True)
class Item:
    """A post, comment or reply on a school account, at one revision."""

    platform: str
    account_key: str
    external_id: str
    kind: ItemKind
    text: str
    author: str
    created_at: datetime
    permalink: str = ""
    parent_external_id: str | None = None
    media: tuple[Media, ...] = ()
    edited_at: datetime | None = None
    raw: RawCapture | None = None
    # Platform facts a detector may use (e.g. YouTube ``licensedContent``); plain strings only.
    attributes: Mapping[str, str] = field(default_factory=lambda: EMPTY_MAPPING)
    author_is_school: bool = False


@dataclass(frozen=True)
class Cursor:
    """Opaque, connector-owned position in an account's history (usually a small JSON string)."""

    value: str


@dataclass(frozen=True)
class Usage:
    """What one fetch cost on the platform's meter."""

    api_calls: int = 0
    quota_units: int = 0
    billed_reads: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.api_calls + other.api_calls,
            self.quota_units + other.quota_units,
            self.billed_reads + other.billed_reads,
        )


@dataclass(frozen=True)
class FetchResult:
    """Items new or changed since the cursor, the next cursor, and items seen to be gone."""

    items: tuple[Item, ...]
    cursor: Cursor
    gone_external_ids: tuple[str, ...] = ()
    usage: Usage = Usage()
    captures: tuple[RawCapture, ...] = ()


# --- media analysis (computed once per file, stored, reused by every detector) ---


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    w: int
    h: int
    confidence: float = 1.0


@dataclass(frozen=True)
class OcrLine:
    text: str
    box: Box
    confidence: float = 1.0


@dataclass(frozen=True)
class MediaAnalysis:
    sha256: str
    width: int = 0
    height: int = 0
    faces: tuple[Box, ...] = ()
    ocr: tuple[OcrLine, ...] = ()
    hashes: Mapping[str, str] = field(default_factory=lambda: EMPTY_MAPPING)
    metadata: Mapping[str, str] = field(default_factory=lambda: EMPTY_MAPPING)
    analyser_version: str = ""
    error: str = ""

    @property
    def ocr_text(self) -> str:
        return "\n".join(line.text for line in self.ocr)


@dataclass(frozen=True)
class ScanMedia:
    media: Media
    path: Path | None
    analysis: MediaAnalysis | None = None


@dataclass(frozen=True)
class ScanItem:
    """What a detector sees: the item, its media files with their analysis, and its parent's text."""

    item: Item
    media: tuple[ScanMedia, ...] = ()
    parent_text: str = ""


# --- findings and alerts ---


@dataclass(frozen=True)
class TextSpan:
    """Character offsets into the item's original text (``source="text"``) or OCR text."""

    start: int
    end: int
    source: str = "text"


@dataclass(frozen=True)
class ImageRegion:
    media_sha256: str
    box: Box
    label: str = ""


@dataclass(frozen=True)
class Evidence:
    explanation: str
    spans: tuple[TextSpan, ...] = ()
    regions: tuple[ImageRegion, ...] = ()


@dataclass(frozen=True)
class Finding:
    clause: Clause
    category: str
    severity: Severity
    confidence: float
    detector: str
    detector_version: str
    evidence: Evidence

    @property
    def detector_ref(self) -> str:
        return f"{self.detector}@{self.detector_version}"


class AlertStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class AlertState(StrEnum):
    """Where the headteacher is with an alert (the lifecycle, separate from email delivery)."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    REMOVED_FROM_PLATFORM = "removed_from_platform"


@dataclass(frozen=True)
class StoredItem:
    """An item revision as held in storage, with its database identity."""

    id: int
    revision: int
    item: Item
    captured_at: datetime
    deleted_at: datetime | None = None


@dataclass(frozen=True)
class StoredFinding:
    id: int
    item_id: int
    finding: Finding
    created_at: datetime


@dataclass(frozen=True)
class Alert:
    """One email-worthy finding in the outbox."""

    id: int
    finding: StoredFinding
    item: StoredItem
    account: Account | None
    message_id: str
    status: AlertStatus
    state: AlertState
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None = None
    sent_at: datetime | None = None
    last_error: str = ""
    media_files: tuple[Path, ...] = field(default=())
