"""Safe decoding of untrusted image files into a bounded, 8-bit RGB copy.

Every image a platform hands us is hostile until decoded: decompression bombs, truncated files,
wrong extensions, animated GIFs, CMYK and 16-bit PNGs. This module is the one place that opens
them, with hard limits, and raises :class:`ImageRejected` with a plain reason instead of crashing.
The original file is only read, never modified.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from detectors.image_metadata import read_metadata

MAX_FILE_BYTES = 40 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a 40-megapixel photo is already larger than any phone takes
MAX_FRAMES = 3  # frames of an animated image that are analysed (first, middle, last)
WORK_SIDE = 1600  # decoded copies are reduced to this longest side; detectors need no more

_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF", "MPO")

# Pillow's own bomb guard raises a *warning* up to 2x its limit; ours raises an error earlier.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


class ImageRejected(ValueError):
    """The file is not an image we will analyse; the message says why, in plain words."""


@dataclass(frozen=True)
class DecodedImage:
    """Frames of one file as 8-bit RGB copies, plus the original size and format."""

    frames: tuple[Image.Image, ...]
    width: int  # of the file as stored, before any reduction
    height: int
    format: str
    frame_count: int = 1
    metadata: Mapping[str, str] = field(default_factory=dict)

    @property
    def first(self) -> Image.Image:
        return self.frames[0]


def decode(path: Path, max_bytes: int = MAX_FILE_BYTES, max_pixels: int = MAX_PIXELS) -> DecodedImage:
    """Decode ``path`` into bounded RGB frames or raise :class:`ImageRejected`."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ImageRejected(f"cannot read file: {exc.strerror or exc}") from exc
    if size > max_bytes:
        raise ImageRejected(f"file is {size} bytes, over the {max_bytes}-byte limit")
    if size == 0:
        raise ImageRejected("file is empty")
    try:
        with warnings.catch_warnings(), _truncated_files_are_errors():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                width, height = im.size
                if width * height > max_pixels:
                    raise ImageRejected(f"image is {width}x{height} pixels, over the {max_pixels}-pixel limit")
                if (im.format or "") not in _FORMATS:
                    raise ImageRejected(f"unsupported picture format {im.format}")
                metadata = read_metadata(im)
                count = int(getattr(im, "n_frames", 1) or 1)
                frames = _frames(im)
                fmt = im.format or ""
    except ImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRejected(f"decompression bomb refused: {exc}") from exc
    except UnidentifiedImageError as exc:
        raise ImageRejected("not a recognised image format") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:  # truncated/corrupt data
        raise ImageRejected(f"corrupt or truncated image: {exc}") from exc
    except MemoryError as exc:
        raise ImageRejected("image too large to decode") from exc
    return DecodedImage(tuple(frames), width, height, fmt, count, metadata)


@contextmanager
def _truncated_files_are_errors() -> Iterator[None]:
    """Pillow's truncated-file tolerance is process-wide, and WeasyPrint (the weekly report)
    switches it on when imported: switch it off while we decode, then put it back."""
    previous = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        yield
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = previous


def _frames(im: Image.Image) -> list[Image.Image]:
    count = getattr(im, "n_frames", 1) or 1
    wanted = sorted({0, count // 2, count - 1})[:MAX_FRAMES] if count > 1 else [0]
    frames = []
    for index in wanted:
        if index:
            im.seek(index)
        frames.append(_rgb_copy(im))
    return frames


def _rgb_copy(im: Image.Image) -> Image.Image:
    im.draft("RGB", (WORK_SIDE, WORK_SIDE))  # JPEG: decode at reduced scale, far less memory
    im.load()
    frame = ImageOps.exif_transpose(im) or im
    if frame.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        # 16-bit greyscale: scale to 8 bits ourselves (Pillow's convert would clip to white)
        arr = np.asarray(frame, dtype=np.uint32)
        top = int(arr.max()) or 1
        frame = Image.fromarray((arr * 255 // top).astype(np.uint8), "L")
    if frame.mode in ("RGBA", "LA", "PA") or (frame.mode == "P" and "transparency" in frame.info):
        rgba = frame.convert("RGBA")
        canvas = Image.new("RGB", rgba.size, (255, 255, 255))
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        frame = canvas
    rgb = frame.convert("RGB")  # CMYK, P, L, 1, YCbCr all end up here
    rgb.thumbnail((WORK_SIDE, WORK_SIDE), Image.Resampling.LANCZOS)
    return rgb


def to_bgr(image: Image.Image) -> np.ndarray:
    """OpenCV's channel order, as a contiguous array."""
    return np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])
