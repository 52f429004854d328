"""Text inside pictures: RapidOCR (PP-OCR models that ship inside the ``rapidocr`` wheel).

Only the wheel's default models are used: choosing another model type or version makes RapidOCR
download it, and nothing may be downloaded at run time. We change only run-time knobs that leave
the models alone: the detector works on a copy whose longer side is at most ``det_side`` pixels
(the default scales small pictures *up* to 736 px on the shorter side, which triples the time),
no 180-degree text classifier (posted pictures are upright), single-threaded sessions unless told.

Two passes: the picture as posted (captions, certificates, name badges, flyers), then a
"whiteness" copy that lifts faint light strokes off a busy background. Stock-agency watermarks
are semi-transparent white text: on the plain picture the recogniser often sees nothing there.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from monitor.domain import Box, OcrLine

BgrImage = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class OcrSettings:
    # CPU per picture on the development images: first pass 0.135 s at 800 (0.172 s at 960, same
    # text read); faint pass 0.18 s at 640 (0.24 s at 736, 0.37 s at 960). 640 read every agency
    # on 32 resized/recompressed copies of the watermarked development images, as 736 did.
    det_side: int = 800  # longest side the text detector sees on the first pass
    watermark_side: int = 640  # the faint-text pass sees a copy scaled (up or down) to this
    watermark_pass: bool = True
    min_score: float = 0.5  # recogniser confidence below this is dropped
    threads: int = 1  # onnxruntime threads per session; the daemon scans one picture at a time


class TextReader:
    """Reads lines of text, with their boxes in original pixel coordinates."""

    def __init__(self, settings: OcrSettings | None = None) -> None:
        self.settings = settings or OcrSettings()
        # RapidOCR logs every call at INFO; it says nothing a school's log needs.
        logging.getLogger("RapidOCR").setLevel(logging.ERROR)
        from rapidocr import RapidOCR

        s = self.settings
        common: dict[str, Any] = {
            "Global.log_level": "error",
            "Global.text_score": s.min_score,
            "Global.use_cls": False,
            "Det.limit_type": "max",
            "EngineConfig.onnxruntime.intra_op_num_threads": s.threads,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        }
        # One engine (one copy of the models in memory) serves both passes: the faint-text copy
        # is already scaled to watermark_side, which the detector then leaves alone.
        self._engine = RapidOCR(params={**common, "Det.limit_side_len": max(s.det_side, s.watermark_side)})
        self._plain = self._engine
        self._faint = self._engine if s.watermark_pass else None
        self.version = f"rapidocr-{_package_version('rapidocr')}"

    def read(self, bgr: BgrImage) -> tuple[OcrLine, ...]:
        """All lines found; a watermark line found only on the faint-text pass is added too."""
        lines = list(_run(self._plain, bgr))
        if self._faint is not None:
            # Small pictures are scaled up: a watermark on a 500-pixel preview is too thin to see.
            factor = self.settings.watermark_side / max(bgr.shape[:2])
            faint = np.asarray(
                cv2.resize(_lift_faint_text(bgr), None, fx=factor, fy=factor, interpolation=cv2.INTER_LINEAR),
                dtype=np.uint8,
            )
            for extra in _run(self._faint, faint):
                # Keep only confident, wordy lines this pass alone found: it also "reads" textures.
                if extra.confidence < 0.8 or sum(c.isalpha() and c.isascii() for c in extra.text) < 3:
                    continue
                extra = _rescaled(extra, 1 / factor)
                if not any(_overlap(extra.box, line.box) > 0.3 for line in lines):
                    lines.append(extra)
        return tuple(lines)


def _run(engine: Any, image: BgrImage) -> list[OcrLine]:
    # RapidOCR keeps the flags of the previous call, so every call states all three.
    result = engine(image, use_det=True, use_cls=False, use_rec=True)
    if result.txts is None or result.boxes is None:
        return []
    lines: list[OcrLine] = []
    for text, score, quad in zip(result.txts, result.scores, result.boxes, strict=False):
        text = str(text).strip()
        if not text:
            continue
        xs, ys = [float(p[0]) for p in quad], [float(p[1]) for p in quad]
        x0, y0 = max(0, int(min(xs))), max(0, int(min(ys)))
        box = Box(x0, y0, max(1, int(max(xs)) - x0), max(1, int(max(ys)) - y0), round(float(score), 4))
        lines.append(OcrLine(text, box, round(float(score), 4)))
    return lines


def _rescaled(line: OcrLine, factor: float) -> OcrLine:
    b = line.box
    box = Box(
        round(b.x * factor), round(b.y * factor), max(1, round(b.w * factor)), max(1, round(b.h * factor)), b.confidence
    )
    return OcrLine(line.text, box, line.confidence)


def _lift_faint_text(bgr: BgrImage) -> BgrImage:
    """Light, low-saturation strokes (a watermark) as dark text on white; the scene is flattened.

    A semi-transparent white overlay raises all three channels, so the darkest channel rises
    above its local median. On the development corpus this read "fotolia by Adobe" on painted
    wood, where a grey top-hat read nothing, and added no new text elsewhere.
    """
    darkest = bgr.min(axis=2)
    kernel_px = max(15, round(min(darkest.shape) / 16)) | 1
    background = cv2.medianBlur(darkest, kernel_px)
    lifted = cv2.subtract(darkest, background)
    lifted_f = np.asarray(lifted, dtype=np.float32)
    top = float(lifted_f.max()) or 1.0
    stretched = (255.0 - lifted_f * (255.0 / top)).astype(np.uint8)  # min-max stretch, inverted
    return np.asarray(cv2.cvtColor(stretched, cv2.COLOR_GRAY2BGR), dtype=np.uint8)


def _overlap(a: Box, b: Box) -> float:
    ix = max(0, min(a.x + a.w, b.x + b.w) - max(a.x, b.x))
    iy = max(0, min(a.y + a.h, b.y + b.h) - max(a.y, b.y))
    smaller = min(a.w * a.h, b.w * b.h)
    return (ix * iy) / smaller if smaller else 0.0


def _package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"
