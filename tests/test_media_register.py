"""``hallmon media register``: the real command writes the register that detectors later read."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from PIL import Image, ImageOps

from detectors.image_hashes import fingerprint, matches
from monitor.app import App
from monitor.config import load_settings
from tests.exports import archive_config

FIXTURES = Path(__file__).parent / "fixtures" / "images"
HALLMON = [sys.executable, "-m", "monitor.cli"]


def register(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*HALLMON, "media", "--config", str(config), "register", *args], capture_output=True, text=True, timeout=300
    )


def test_register_round_trip_through_the_cli_and_the_database(tmp_path: Path) -> None:
    config = archive_config(tmp_path, f"sqlite:///{tmp_path / 'hallmon.db'}", {})
    bogus = tmp_path / "minutes.jpg"
    bogus.write_text("not a picture")

    third = register(config, str(FIXTURES / "coffee.jpg"), "--third-party", "--label", "Example Agency")
    assert third.returncode == 0, third.stderr
    assert "Registered 1 file(s) as third-party media." in third.stdout
    own = register(config, str(FIXTURES / "astronaut.jpg"), str(bogus), "--own")
    assert own.returncode == 1  # one file failed, and the command says which and why
    assert "minutes.jpg: not registered: not a recognised image format" in own.stdout
    assert "Registered 1 file(s) as the school's own media; 1 failed." in own.stdout

    app = App.build(load_settings(config, {"archive"}))
    try:
        known = {entry.label: entry for entry in app.school_context().known_media}
    finally:
        app.close()
    assert set(known) == {"Example Agency", "astronaut.jpg"}
    assert known["Example Agency"].own is False and known["astronaut.jpg"].own is True

    # a cropped, mirrored, recompressed repost of the agency picture matches its stored entry
    repost = tmp_path / "repost.jpg"
    edited = ImageOps.mirror(Image.open(FIXTURES / "coffee.jpg")).crop((30, 20, 380, 250))
    edited.save(repost, quality=60)
    assert matches(fingerprint(repost), known["Example Agency"].hashes)
    assert not matches(fingerprint(repost), known["astronaut.jpg"].hashes)
