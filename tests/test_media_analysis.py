"""MediaAnalyser: one analysis per file, and hostile files give a recorded error or a bounded answer."""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from detectors.media_analysis import AnalysisLimits, MediaAnalyser

FIXTURES = Path(__file__).parent / "fixtures" / "images"
ASTRONAUT = FIXTURES / "astronaut.jpg"


@pytest.fixture(scope="module")
def quick() -> MediaAnalyser:
    """No OCR: the hostile-file cases are about decoding, and OCR costs 0.3-1 s a picture."""
    return MediaAnalyser(ocr=False)


@pytest.fixture(scope="module")
def full() -> MediaAnalyser:
    return MediaAnalyser(ocr=True)


def astronaut() -> Image.Image:
    return Image.open(ASTRONAUT).convert("RGB")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_photo_gives_faces_fingerprints_size_and_version(quick: MediaAnalyser) -> None:
    analysis = quick.analyse(ASTRONAUT, "abc")
    assert analysis.error == ""
    assert (analysis.sha256, analysis.width, analysis.height) == ("abc", 400, 400)
    assert len(analysis.faces) == 1 and analysis.faces[0].confidence > 0.9
    assert {"phash", "orb"} <= set(analysis.hashes)
    assert analysis.analyser_version == quick.version and "mtcnn" in quick.version
    assert analysis.metadata["format"] == "JPEG"


def test_text_in_a_picture_is_read_with_boxes_in_file_pixels(full: MediaAnalyser, tmp_path: Path) -> None:
    # a face and a certificate side by side, saved larger than the analyser's working copy
    certificate = Image.open(FIXTURES / "certificate.png").convert("RGB").resize((600, 400))
    board = Image.new("RGB", (1000, 400), "white")
    board.paste(astronaut(), (0, 0))
    board.paste(certificate, (400, 0))
    board = board.resize((2000, 800))
    path = tmp_path / "board.jpg"
    board.save(path, quality=90)
    analysis = full.analyse(path, digest(path))
    assert analysis.error == ""
    assert "Ava Thornton, Year 4" in analysis.ocr_text
    name_line = next(line for line in analysis.ocr if "Ava Thornton" in line.text)
    assert name_line.box.x > 800  # on the certificate half, in the 2000 px file's coordinates
    assert len(analysis.faces) == 1 and analysis.faces[0].x < 800


def test_the_original_file_is_never_modified(quick: MediaAnalyser, tmp_path: Path) -> None:
    path = tmp_path / "rotated.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation "rotate 90": the analyser turns its copy upright, not the file
    astronaut().rotate(90, expand=True).save(path, exif=exif)  # stored sideways, shown upright
    before = (digest(path), path.stat().st_mtime_ns)
    analysis = quick.analyse(path, before[0])
    assert (digest(path), path.stat().st_mtime_ns) == before
    assert len(analysis.faces) == 1


def test_rights_metadata_is_read(quick: MediaAnalyser, tmp_path: Path) -> None:
    path = tmp_path / "credited.jpg"
    exif = Image.Exif()
    exif[0x013B] = "Jane Photographer"
    exif[0x8298] = "(c) Example Stock Agency Ltd"
    astronaut().save(path, exif=exif)
    analysis = quick.analyse(path, digest(path))
    assert analysis.metadata["artist"] == "Jane Photographer"
    assert analysis.metadata["copyright"] == "(c) Example Stock Agency Ltd"


# --- hostile and awkward files: each is an error on record or a bounded answer, never a crash ---


def test_decompression_bomb_is_refused(quick: MediaAnalyser, tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    Image.new("1", (12_000, 12_000)).save(path)  # a few kB on disk, 144 megapixels decoded
    assert path.stat().st_size < 100_000
    analysis = quick.analyse(path, digest(path))
    assert "megapixel" in analysis.error or "pixel" in analysis.error
    assert analysis.faces == () and analysis.hashes == {}


def test_file_over_the_size_limit_is_refused_before_decoding(tmp_path: Path) -> None:
    path = tmp_path / "huge.jpg"
    with path.open("wb") as handle:
        astronaut().save(handle, "JPEG")
        handle.truncate(3 * 1024 * 1024)  # sparse: 3 MB on paper, nothing written
    analyser = MediaAnalyser(ocr=False, limits=AnalysisLimits(max_image_bytes=2 * 1024 * 1024))
    analysis = analyser.analyse(path, "huge")
    assert "limit" in analysis.error and analysis.faces == ()


def test_truncated_jpeg_is_an_error(quick: MediaAnalyser, tmp_path: Path) -> None:
    path = tmp_path / "cut.jpg"
    data = ASTRONAUT.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    analysis = quick.analyse(path, "cut")
    assert "truncated" in analysis.error


def test_empty_and_non_image_files_are_errors(quick: MediaAnalyser, tmp_path: Path) -> None:
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    text = tmp_path / "letter.png"
    text.write_text("<html><script>alert(1)</script></html>")
    missing = tmp_path / "gone.jpg"
    assert "empty" in quick.analyse(empty, "e").error
    assert "not a recognised image format" in quick.analyse(text, "t").error
    assert "cannot read" in quick.analyse(missing, "m").error


def test_wrong_extension_is_read_by_content(quick: MediaAnalyser, tmp_path: Path) -> None:
    path = tmp_path / "photo.gif"  # really a PNG
    astronaut().save(path, "PNG")
    analysis = quick.analyse(path, "png")
    assert analysis.error == "" and analysis.metadata["format"] == "PNG" and len(analysis.faces) == 1


def test_animated_gif_frames_are_sampled(quick: MediaAnalyser, tmp_path: Path) -> None:
    path = tmp_path / "anim.gif"
    blanks = [Image.new("RGB", (400, 400), (0, 0, 40 + 20 * i)) for i in range(6)]
    frames = [*blanks, astronaut(), astronaut().rotate(2), astronaut().rotate(4), astronaut().rotate(6)]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    analysis = quick.analyse(path, "gif")
    assert analysis.error == ""
    assert analysis.metadata["frames"] == "10"
    assert len(analysis.faces) == 1  # found on a later frame, counted once


def test_cmyk_jpeg_is_analysed(quick: MediaAnalyser, tmp_path: Path) -> None:
    path = tmp_path / "print.jpg"
    astronaut().convert("CMYK").save(path, "JPEG", quality=90)
    analysis = quick.analyse(path, "cmyk")
    assert analysis.error == "" and analysis.metadata["mode"] == "CMYK" and len(analysis.faces) == 1


def test_16_bit_png_is_scaled_not_clipped(quick: MediaAnalyser, tmp_path: Path) -> None:
    path = tmp_path / "scan16.png"
    grey = np.asarray(astronaut().convert("L"), dtype=np.uint16) * 257
    Image.fromarray(grey).save(path)
    assert Image.open(path).mode.startswith("I")
    analysis = quick.analyse(path, "16bit")
    assert analysis.error == "" and len(analysis.faces) == 1


def test_time_limit_gives_a_bounded_answer(tmp_path: Path) -> None:
    analyser = MediaAnalyser(ocr=False, limits=AnalysisLimits(seconds=0.0))
    analysis = analyser.analyse(ASTRONAUT, "slow")
    assert "time limit" in analysis.error
    assert analysis.hashes  # what was learnt before the limit is kept


def _write_video(path: Path, fourcc: str) -> None:
    frame = np.ascontiguousarray(np.asarray(astronaut())[:, :, ::-1])
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*fourcc), 10, (400, 400))
    assert writer.isOpened()
    for index in range(30):
        writer.write(frame if index >= 10 else np.zeros_like(frame))
    writer.release()


def test_video_keyframes_are_analysed(quick: MediaAnalyser, tmp_path: Path) -> None:
    path = tmp_path / "assembly.mp4"
    _write_video(path, "mp4v")
    analysis = quick.analyse(path, "video")
    assert analysis.error == ""
    assert analysis.metadata["format"] == "video" and int(analysis.metadata["keyframes"]) >= 2
    assert (analysis.width, analysis.height) == (400, 400)
    assert len(analysis.faces) == 1


def test_a_video_named_as_a_photo_is_still_analysed(quick: MediaAnalyser, tmp_path: Path) -> None:
    path = tmp_path / "clip.jpg"
    _write_video(tmp_path / "clip.mp4", "mp4v")  # the writer picks its format by extension
    (tmp_path / "clip.mp4").rename(path)
    analysis = quick.analyse(path, "video")
    assert analysis.metadata.get("format") == "video" and len(analysis.faces) == 1


def test_a_broken_video_is_an_error(quick: MediaAnalyser, tmp_path: Path) -> None:
    path = tmp_path / "broken.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64)
    analysis = quick.analyse(path, "broken")
    assert "video" in analysis.error


def test_in_memory_round_trip_of_every_fixture_never_raises(quick: MediaAnalyser, tmp_path: Path) -> None:
    # each fixture, cut at several points: every cut is an error string or a valid analysis
    for source in sorted(FIXTURES.glob("*.*g")):
        data = source.read_bytes()
        for fraction in (0.05, 0.3, 0.9):
            path = tmp_path / f"cut-{source.name}"
            path.write_bytes(data[: int(len(data) * fraction)])
            analysis = quick.analyse(path, "cut")
            assert analysis.error or analysis.width > 0


def test_a_heic_photo_is_not_mistaken_for_a_video(quick: MediaAnalyser, tmp_path: Path) -> None:
    path = tmp_path / "IMG_0001.HEIC"  # Pillow has no HEIC decoder here: a clear error, not a video probe
    path.write_bytes(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 256)
    analysis = quick.analyse(path, "heic")
    assert analysis.error == "not a recognised image format"


def test_truncated_jpeg_is_an_error_even_when_pillow_is_set_to_tolerate_it(
    quick: MediaAnalyser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # WeasyPrint (the weekly report) sets this process-wide flag when it is imported
    from PIL import ImageFile

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    path = tmp_path / "cut.jpg"
    data = ASTRONAUT.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert "truncated" in quick.analyse(path, "cut").error
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # the report's setting is left as it was
