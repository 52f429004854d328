"""Face detection on licence-permitted photos: faces found on people, none on cats, cups or walls."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageOps

from detectors.faces import MIN_CONFIDENCE, FaceDetector

FIXTURES = Path(__file__).parent / "fixtures" / "images"


@pytest.fixture(scope="module")
def detector() -> FaceDetector:
    return FaceDetector()


def astronaut() -> Image.Image:
    return Image.open(FIXTURES / "astronaut.jpg").convert("RGB")


def test_one_face_on_the_astronaut_portrait(detector: FaceDetector) -> None:
    faces = detector.detect(astronaut())
    assert len(faces) == 1
    face = faces[0]
    assert face.confidence > MIN_CONFIDENCE
    # the face is in the upper middle of the 400x400 portrait, about 70-90 px tall
    assert 100 < face.x < 200 and 20 < face.y < 100 and 50 < face.h < 130


@pytest.mark.parametrize(
    "variant",
    [
        pytest.param(lambda im: ImageOps.grayscale(im).convert("RGB"), id="greyscale"),
        pytest.param(ImageOps.mirror, id="mirrored"),
        pytest.param(lambda im: im.resize((1600, 1600)), id="upscaled-4x"),
        pytest.param(lambda im: ImageOps.expand(im, border=200, fill=(255, 255, 255)), id="small-in-a-big-white-frame"),
    ],
)
def test_face_survives_common_variants(detector: FaceDetector, variant: object) -> None:
    image = variant(astronaut())  # type: ignore[operator]
    assert len(detector.detect(image)) == 1


def test_boxes_are_in_the_coordinates_of_the_image_given(detector: FaceDetector) -> None:
    small = detector.detect(astronaut())[0]
    large = detector.detect(astronaut().resize((1600, 1600)))[0]  # searched on a 1024 px copy
    assert abs(large.x - 4 * small.x) < 30 and abs(large.w - 4 * small.w) < 40


@pytest.mark.parametrize("name", ["chelsea.jpg", "coffee.jpg", "brick.jpg", "certificate.png"])
def test_no_face_on_cat_cup_wall_or_document(detector: FaceDetector, name: str) -> None:
    assert detector.detect(Image.open(FIXTURES / name)) == ()


def test_a_drawn_smiley_is_not_a_face(detector: FaceDetector) -> None:
    image = Image.new("RGB", (300, 300), "white")
    draw = ImageDraw.Draw(image)
    draw.ellipse((50, 50, 250, 250), fill=(255, 220, 0), outline="black", width=4)
    draw.ellipse((100, 110, 130, 140), fill="black")
    draw.ellipse((170, 110, 200, 140), fill="black")
    draw.arc((100, 130, 200, 210), 20, 160, fill="black", width=6)
    assert detector.detect(image) == ()


def test_faces_below_the_minimum_size_are_ignored(detector: FaceDetector) -> None:
    tiny = astronaut().resize((80, 80))  # the face is about 15 px: too small to count
    assert detector.detect(tiny) == ()
    assert FaceDetector(min_face_px=10).detect(astronaut().resize((160, 160))) != ()


def test_images_too_small_to_hold_a_face_give_no_boxes(detector: FaceDetector) -> None:
    assert detector.detect(Image.new("RGB", (5, 3), "grey")) == ()
