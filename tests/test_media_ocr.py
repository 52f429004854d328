"""OCR with RapidOCR's bundled models: certificates, faint watermarks, blank pictures."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from detectors.copyright import find_agencies
from detectors.ocr import OcrSettings, TextReader

FIXTURES = Path(__file__).parent / "fixtures" / "images"


@pytest.fixture(scope="module")
def reader() -> TextReader:
    return TextReader()


def _bgr(image: Image.Image) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])


def _watermarked(word: str, size: tuple[int, int] = (520, 400), alpha: int = 90) -> Image.Image:
    """A busy, diagonal-striped "photo" with a faint semi-transparent white word over it, the way
    stock previews are marked."""
    rng = np.random.default_rng(7)
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w]
    stripes = (np.sin((xx + yy) / 9.0) * 40 + 110).astype(np.float32)
    noise = rng.normal(0, 18, (h, w)).astype(np.float32)
    base = np.clip(stripes + noise, 0, 255).astype(np.uint8)
    photo = Image.fromarray(
        np.dstack([base // 2, base, np.clip(base.astype(int) + 40, 0, 255).astype(np.uint8)])
    ).convert("RGBA")
    overlay = Image.new("RGBA", photo.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    font = ImageFont.load_default(size=56)
    text_w = draw.textlength(word, font=font)
    draw.text(((w - text_w) / 2, h / 2 - 30), word, font=font, fill=(255, 255, 255, alpha))
    return Image.alpha_composite(photo, overlay).convert("RGB")


def test_reads_the_pupils_name_on_a_certificate(reader: TextReader) -> None:
    image = Image.open(FIXTURES / "certificate.png")
    lines = reader.read(_bgr(image))
    text = "\n".join(line.text for line in lines)
    assert "Ava Thornton" in text
    assert "Certificate of Achievement" in text
    name_line = next(line for line in lines if "Ava Thornton" in line.text)
    box = name_line.box
    # the box lies on the name: inside the picture, wider than tall, in the middle band
    assert box.x >= 0 and box.x + box.w <= image.width and box.y >= 0 and box.y + box.h <= image.height
    assert box.w > 3 * box.h
    assert image.height * 0.3 < box.y < image.height * 0.8


def test_blank_and_photographic_pictures_give_no_text(reader: TextReader) -> None:
    assert reader.read(np.full((300, 400, 3), 255, dtype=np.uint8)) == ()
    brick = cv2.imread(str(FIXTURES / "brick.jpg"))
    lines = reader.read(brick)
    assert find_agencies(lines) == []


@pytest.mark.parametrize(
    ("word", "alpha", "agency"), [("shutterstock", 50, "Shutterstock"), ("depositphotos", 90, "Depositphotos")]
)
def test_watermark_is_read(reader: TextReader, word: str, alpha: int, agency: str) -> None:
    lines = reader.read(_bgr(_watermarked(word, alpha=alpha)))
    assert agency in {hit.agency for hit in find_agencies(lines)}, [line.text for line in lines]


def test_the_faint_text_pass_is_what_reads_a_very_faint_mark() -> None:
    image = _bgr(_watermarked("shutterstock", alpha=50))
    plain_only = TextReader(OcrSettings(watermark_pass=False))
    assert find_agencies(plain_only.read(image)) == []


def test_boxes_are_in_original_pixels_for_a_small_picture(reader: TextReader) -> None:
    # The faint-text pass works on an enlarged copy; its boxes must come back to file pixels.
    image = _watermarked("shutterstock", size=(400, 300))
    lines = reader.read(_bgr(image))
    assert lines
    for line in lines:
        assert line.box.x + line.box.w <= image.width + 2 and line.box.y + line.box.h <= image.height + 2


def test_reader_version_names_the_package(reader: TextReader) -> None:
    assert reader.version.startswith("rapidocr-")
