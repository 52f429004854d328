"""The media register's near-duplicate matching: copies match, unrelated pictures never do."""

from __future__ import annotations

import hashlib
import io
import itertools
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image, ImageOps

from detectors.image_hashes import fingerprint, match_score, matches, register_entry
from detectors.image_io import ImageRejected

FIXTURES = Path(__file__).parent / "fixtures" / "images"
PHOTOS = ["astronaut.jpg", "chelsea.jpg", "coffee.jpg", "brick.jpg", "certificate.png"]


def _crop(fraction: float) -> Callable[[Image.Image], Image.Image]:
    def crop(im: Image.Image) -> Image.Image:
        w, h = im.size
        dx, dy = int(w * fraction / 2), int(h * fraction / 2)
        return im.crop((dx, dy, w - dx, h - dy))

    return crop


def _recompress(im: Image.Image) -> Image.Image:
    buffer = io.BytesIO()
    im.save(buffer, "JPEG", quality=30)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def _letterbox(im: Image.Image) -> Image.Image:
    canvas = Image.new("RGB", (im.width * 16 // 9, im.height), "black")
    canvas.paste(im, ((canvas.width - im.width) // 2, 0))
    return canvas


TRANSFORMS: dict[str, Callable[[Image.Image], Image.Image]] = {
    "half-size": lambda im: im.resize((im.width // 2, im.height // 2)),
    "double-size": lambda im: im.resize((im.width * 2, im.height * 2)),
    "recompressed-q30": _recompress,
    "crop-10%": _crop(0.10),
    "crop-25%": _crop(0.25),
    "off-centre-crop": lambda im: im.crop((0, 0, int(im.width * 0.7), int(im.height * 0.8))),
    "white-border": lambda im: ImageOps.expand(im, border=40, fill="white"),
    "letterboxed": _letterbox,
    "mirrored": ImageOps.mirror,
    "mirrored-cropped-small": lambda im: ImageOps.mirror(_crop(0.1)(im)).resize((200, 200)),
    "greyscale": lambda im: ImageOps.grayscale(im).convert("RGB"),
}


@pytest.fixture(scope="module")
def originals() -> dict[str, dict[str, str]]:
    return {name: fingerprint(FIXTURES / name) for name in PHOTOS}


@pytest.mark.parametrize("photo", ["astronaut.jpg", "coffee.jpg"])
@pytest.mark.parametrize("transform", sorted(TRANSFORMS))
def test_register_round_trip_matches_edited_copies(tmp_path: Path, photo: str, transform: str) -> None:
    entry = register_entry(FIXTURES / photo, own=False, label="agency photo")
    copy = tmp_path / "copy.jpg"
    TRANSFORMS[transform](Image.open(FIXTURES / photo).convert("RGB")).save(copy, quality=85)
    assert matches(fingerprint(copy), entry.hashes)
    assert matches(entry.hashes, fingerprint(copy))  # symmetric enough for either order


def test_register_entry_records_the_file_digest_and_the_register_side() -> None:
    path = FIXTURES / "astronaut.jpg"
    entry = register_entry(path, own=True)
    assert entry.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert entry.own is True and entry.label == "astronaut.jpg"
    assert {"phash", "phash_mirror", "orb", "orb_mirror"} <= set(entry.hashes)
    assert all(isinstance(v, str) for v in entry.hashes.values())


def test_unrelated_pictures_never_match(originals: dict[str, dict[str, str]]) -> None:
    for a, b in itertools.combinations(PHOTOS, 2):
        assert match_score(originals[a], originals[b]) == 0.0, (a, b)


def test_unrelated_pictures_do_not_match_after_editing_either(
    tmp_path: Path, originals: dict[str, dict[str, str]]
) -> None:
    for name, transform in TRANSFORMS.items():
        copy = tmp_path / f"{name}.jpg"
        transform(Image.open(FIXTURES / "astronaut.jpg").convert("RGB")).save(copy)
        edited = fingerprint(copy)
        for other in ("chelsea.jpg", "coffee.jpg", "brick.jpg", "certificate.png"):
            assert not matches(edited, originals[other]), (name, other)


def test_identical_files_score_highest(originals: dict[str, dict[str, str]]) -> None:
    assert match_score(originals["astronaut.jpg"], originals["astronaut.jpg"]) == 1.0


def test_damaged_or_foreign_hash_strings_are_no_match_not_a_crash(originals: dict[str, dict[str, str]]) -> None:
    good = originals["astronaut.jpg"]
    damaged = {"phash": "not-hex", "phash_mirror": "zz", "orb": "%%%", "orb_mirror": "QUJD"}
    assert match_score(good, damaged) == 0.0
    assert match_score(damaged, good) == 0.0
    assert match_score({}, good) == 0.0


def test_registering_a_file_that_is_not_a_picture_says_why(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.jpg"
    bogus.write_text("minutes of the governors' meeting")
    with pytest.raises(ImageRejected, match="not a recognised image format"):
        register_entry(bogus, own=True)


def test_mirrored_post_matches_a_register_entry_from_the_analysis_side(tmp_path: Path) -> None:
    # the stored analysis keeps no mirrored keypoints (size); the register entry's are enough
    from detectors.media_analysis import MediaAnalyser

    entry = register_entry(FIXTURES / "coffee.jpg", own=False)
    copy = tmp_path / "flipped.jpg"
    ImageOps.mirror(_crop(0.3)(Image.open(FIXTURES / "coffee.jpg"))).save(copy)
    analysis = MediaAnalyser(ocr=False, faces=False).analyse(copy, "flipped")
    assert "orb_mirror" not in analysis.hashes
    assert matches(analysis.hashes, entry.hashes) and matches(entry.hashes, analysis.hashes)
