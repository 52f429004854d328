"""Capture at poll time: raw payloads and media files go into the evidence store at once, so the
evidence survives the post being deleted later."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from monitor.domain import Media
from storage.evidence import EvidenceStore, StoredBlob

log = logging.getLogger(__name__)


class MediaTooLarge(Exception):
    pass


@dataclass(frozen=True)
class DownloadedMedia:
    media: Media
    blob: StoredBlob | None
    content_type: str = ""
    status: int = 0
    error: str = ""


class MediaCapturer:
    """Copies a media file into the evidence store, from disk or over HTTP with limits."""

    def __init__(
        self,
        evidence: EvidenceStore,
        http: httpx.Client | None = None,
        max_bytes: int = 50 * 1024 * 1024,
        timeout_seconds: float = 30.0,
        allowed_roots: tuple[Path, ...] = (),
    ) -> None:
        self.evidence = evidence
        self.http = http or httpx.Client(timeout=timeout_seconds, follow_redirects=True)
        self.max_bytes = max_bytes
        self.allowed_roots = tuple(root.resolve() for root in allowed_roots)

    def capture(self, media: Media) -> DownloadedMedia:
        try:
            if media.local_path is not None:
                return self._from_disk(media, media.local_path)
            if media.fetch_url:
                return self._from_http(media)
            return DownloadedMedia(media, None, error="no file or URL for this media")
        except MediaTooLarge as exc:
            return DownloadedMedia(media, None, error=str(exc))
        except httpx.HTTPError as exc:
            return DownloadedMedia(media, None, error=f"download failed: {type(exc).__name__}: {exc}")
        except OSError as exc:
            return DownloadedMedia(media, None, error=f"could not read file: {exc.strerror or exc}")

    def _from_disk(self, media: Media, path: Path) -> DownloadedMedia:
        resolved = path.resolve()
        if self.allowed_roots and not any(resolved.is_relative_to(root) for root in self.allowed_roots):
            return DownloadedMedia(media, None, error="file is outside the account's folder")
        size = resolved.stat().st_size
        if size > self.max_bytes:
            raise MediaTooLarge(f"file is {size} bytes, over the {self.max_bytes} byte limit")
        return DownloadedMedia(media, self.evidence.put_file(resolved), content_type=_guess_type(resolved.name))

    def _from_http(self, media: Media) -> DownloadedMedia:
        with self.http.stream("GET", media.fetch_url) as response:
            if response.status_code != 200:
                return DownloadedMedia(media, None, status=response.status_code, error=f"HTTP {response.status_code}")
            declared = int(response.headers.get("content-length") or 0)
            if declared > self.max_bytes:
                raise MediaTooLarge(f"server says {declared} bytes, over the {self.max_bytes} byte limit")
            blob = self.evidence.put_chunks(self._limited(response.iter_bytes()))
            content_type = response.headers.get("content-type", "application/octet-stream")
            return DownloadedMedia(media, blob, content_type=content_type, status=response.status_code)

    def _limited(self, chunks: Iterator[bytes]) -> Iterator[bytes]:
        total = 0
        for chunk in chunks:
            total += len(chunk)
            if total > self.max_bytes:
                raise MediaTooLarge(f"download passed the {self.max_bytes} byte limit")
            yield chunk


def _guess_type(name: str) -> str:
    import mimetypes

    return mimetypes.guess_type(name)[0] or "application/octet-stream"
