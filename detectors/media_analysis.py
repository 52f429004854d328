"""Analyse a media file once: faces, text (OCR), near-duplicate fingerprints and rights metadata.

The pipeline stores the :class:`MediaAnalysis` with the media and hands it to every detector, so
the slow models run once per file. :meth:`MediaAnalyser.analyse` never raises: a hostile or broken
file gives an analysis with ``error`` set (and whatever was safely learnt before the problem).
It reads the original and analyses a decoded, reduced copy; the evidence file is never modified.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from detectors import image_hashes
from detectors.faces import MODEL as FACE_MODEL
from detectors.faces import FaceDetector
from detectors.image_io import MAX_FILE_BYTES, MAX_PIXELS, WORK_SIDE, ImageRejected, decode, to_bgr
from monitor.domain import Box, MediaAnalysis, OcrLine

log = logging.getLogger(__name__)

VERSION = "1"
_STILL_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1", b"avif", b"avis"})
VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".webm", ".mkv", ".avi", ".mpg", ".mpeg", ".3gp"})


@dataclass(frozen=True)
class AnalysisLimits:
    max_image_bytes: int = MAX_FILE_BYTES
    max_pixels: int = MAX_PIXELS
    max_video_bytes: int = 1024 * 1024 * 1024
    keyframes: int = 4  # frames sampled evenly through a video
    seconds: float = 20.0  # per file; checked between stages (the models cannot be interrupted)


class MediaAnalyser:
    """Loads the face and text models once; analyses image files and video keyframes."""

    def __init__(self, ocr: bool = True, faces: bool = True, limits: AnalysisLimits | None = None) -> None:
        self.limits = limits or AnalysisLimits()
        self._faces = FaceDetector() if faces else None
        self._reader = None
        if ocr:
            from detectors.ocr import TextReader

            self._reader = TextReader()
        parts = [f"media-{VERSION}", f"hash-{image_hashes.VERSION}"]
        if self._faces is not None:
            parts.append(FACE_MODEL.replace(" ", "-"))
        if self._reader is not None:
            parts.append(self._reader.version)
        self.version = "+".join(parts)

    def analyse(self, path: Path, sha256: str) -> MediaAnalysis:
        """Faces, OCR lines, fingerprints and metadata of one file; errors are recorded, not raised."""
        try:
            if path.suffix.lower() in VIDEO_SUFFIXES:
                return self._analyse_video(path, sha256)
            return self._analyse_image(path, sha256)
        except Exception as exc:  # last line of defence: a model bug must not stop the daemon
            log.warning("media analysis failed for %s: %s", sha256[:12], exc)
            return MediaAnalysis(
                sha256=sha256, analyser_version=self.version, error=f"analysis failed: {type(exc).__name__}: {exc}"
            )

    def _analyse_image(self, path: Path, sha256: str) -> MediaAnalysis:
        try:
            decoded = decode(path, self.limits.max_image_bytes, self.limits.max_pixels)
        except ImageRejected as exc:
            if _looks_like_video(path):  # a video with an image's name: analyse it as a video
                return self._analyse_video(path, sha256)
            return MediaAnalysis(sha256=sha256, analyser_version=self.version, error=str(exc))
        metadata = dict(decoded.metadata)
        if decoded.frame_count > 1:
            metadata["frames"] = str(decoded.frame_count)
        return self._analyse_frames(sha256, list(decoded.frames), decoded.width, decoded.height, metadata)

    def _analyse_video(self, path: Path, sha256: str) -> MediaAnalysis:
        try:
            size = path.stat().st_size
        except OSError as exc:
            return MediaAnalysis(sha256=sha256, analyser_version=self.version, error=f"cannot read the file: {exc}")
        if size > self.limits.max_video_bytes:
            return MediaAnalysis(
                sha256=sha256, analyser_version=self.version, error=f"video is {size} bytes, over the limit"
            )
        frames, width, height = _keyframes(path, self.limits.keyframes, self.limits.max_pixels)
        if not frames:
            return MediaAnalysis(sha256=sha256, analyser_version=self.version, error="no readable video frames")
        return self._analyse_frames(sha256, frames, width, height, {"format": "video", "keyframes": str(len(frames))})

    def _analyse_frames(
        self, sha256: str, frames: list[Image.Image], width: int, height: int, metadata: dict[str, str]
    ) -> MediaAnalysis:
        started = time.monotonic()
        errors: list[str] = []
        first = frames[0]
        hashes = image_hashes.fingerprint_image(first, mirror_keypoints=False)  # the register has them
        faces: list[Box] = []
        lines: list[OcrLine] = []
        for frame in frames:
            factor = width / frame.width if frame.width else 1.0  # boxes go back to file pixels
            if self._faces is not None:
                if time.monotonic() - started > self.limits.seconds:
                    errors.append("time limit reached before all faces were searched")
                    break
                faces.extend(_scaled(b, factor) for b in self._faces.detect(frame))
            if self._reader is not None:
                if time.monotonic() - started > self.limits.seconds:
                    errors.append("time limit reached before all text was read")
                    break
                for line in self._reader.read(to_bgr(frame)):
                    if all(line.text != seen.text for seen in lines):
                        lines.append(OcrLine(line.text, _scaled(line.box, factor), line.confidence))
        return MediaAnalysis(
            sha256=sha256,
            width=width,
            height=height,
            faces=_distinct(faces),
            ocr=tuple(lines),
            hashes=hashes,
            metadata=metadata,
            analyser_version=self.version,
            error="; ".join(errors),
        )


def _scaled(box: Box, factor: float) -> Box:
    if factor == 1.0:
        return box
    return Box(
        round(box.x * factor), round(box.y * factor), round(box.w * factor), round(box.h * factor), box.confidence
    )


def _distinct(boxes: list[Box]) -> tuple[Box, ...]:
    """One box per face across frames of an animation or video (overlapping boxes merged)."""
    kept: list[Box] = []
    for box in sorted(boxes, key=lambda b: -b.confidence):
        if all(_iou(box, other) < 0.5 for other in kept):
            kept.append(box)
    return tuple(kept)


def _iou(a: Box, b: Box) -> float:
    ix = max(0, min(a.x + a.w, b.x + b.w) - max(a.x, b.x))
    iy = max(0, min(a.y + a.h, b.y + b.h) - max(a.y, b.y))
    inter = ix * iy
    union = a.w * a.h + b.w * b.h - inter
    return inter / union if union else 0.0


def _looks_like_video(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            head = handle.read(16)
    except OSError:
        return False
    if head[4:8] == b"ftyp":  # ISO media: MP4/MOV are video, HEIC/AVIF are still pictures
        return head[8:12] not in _STILL_BRANDS
    return head.startswith(b"\x1a\x45\xdf\xa3") or head[8:12] == b"AVI "


def _keyframes(path: Path, count: int, max_pixels: int) -> tuple[list[Image.Image], int, int]:
    """Up to ``count`` frames spread through the video, as reduced RGB copies."""
    # FFmpeg probes the container itself; the timeouts stop a crafted file from stalling a read.
    timeouts = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, 10_000, cv2.CAP_PROP_READ_TIMEOUT_MSEC, 10_000]
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG, timeouts)
    try:
        if not capture.isOpened():
            return [], 0, 0
        width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        if width <= 0 or height <= 0 or width * height > max_pixels:
            return [], width, height
        total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        positions = [0] if total <= 1 else sorted({round(i * (total - 1) / max(1, count - 1)) for i in range(count)})
        frames: list[Image.Image] = []
        for position in positions:
            capture.set(cv2.CAP_PROP_POS_FRAMES, position)
            ok, bgr = capture.read()
            if not ok or bgr is None:
                continue
            image = Image.fromarray(np.ascontiguousarray(bgr[:, :, ::-1]))
            image.thumbnail((WORK_SIDE, WORK_SIDE))
            frames.append(image)
        return frames, width, height
    finally:
        capture.release()
