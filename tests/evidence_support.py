"""Builds a seeded Hall Monitor through the real pipeline for the evidence and lifecycle tests.

Invented names only. A text-only keyword detector stands in for the real ones so the tests are
fast and exact: "forbidden" is a high finding (appendix-1), "maybe" a medium one (4.1(d)).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image

from detectors.base import SchoolContext
from monitor.app import App
from monitor.clock import ManualClock
from monitor.config import load_settings
from monitor.domain import Clause, Evidence, Finding, ScanItem, Severity, TextSpan
from monitor.pipeline import Pipeline
from tests.exports import archive_config, comment, post, write_export

START = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)  # Monday of ISO week 2026-W47

WORDS = {
    "forbidden": (Clause.STAFF_ABUSE, "abuse.test", Severity.HIGH),
    "maybe": (Clause.DISREPUTE, "disrepute.test", Severity.MEDIUM),
    "urgent": (Clause.STAFF_ABUSE, "abuse.threat", Severity.CRITICAL),
}


class KeywordDetector:
    name = "keyword"
    version = "1.2"

    def detect(self, item: ScanItem, context: SchoolContext) -> Sequence[Finding]:
        found = []
        for word, (clause, category, severity) in WORDS.items():
            at = item.item.text.find(word)
            if at >= 0:
                found.append(
                    Finding(clause, category, severity, 0.9, self.name, self.version, Evidence(f"The word '{word}' was used.", (TextSpan(at, at + len(word)),)))
                )
        return found


@dataclass
class Seeded:
    app: App
    pipeline: Pipeline
    clock: ManualClock
    export: Path


def build_app(tmp_path: Path, database_url: str, clock: ManualClock, export: Path, extra: str = "", platform: str = "archive") -> App:
    config = archive_config(tmp_path, database_url, {"school": export}, extra=extra)
    settings = load_settings(config)
    app = App.build(settings, clock=clock, environ={})
    app._detectors = [KeywordDetector()]
    app._analyser_loaded = True  # text-only: no face or OCR models in these tests
    return app


def picture(path: Path, colour: tuple[int, int, int] = (30, 120, 200)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (80, 60), colour).save(path)
    return path


def seed(tmp_path: Path, database_url: str, posts: list[dict[str, object]] | None = None, extra: str = "") -> Seeded:
    """Poll and scan one archive account with a picture post, an abusive comment and a clean post."""
    clock = ManualClock(START)
    export = tmp_path / "export"
    picture(export / "images" / "trip.png")
    write_export(
        export,
        posts
        or [
            post("p1", "Year 5 trip to the museum", [comment("c1", "Mr Testman is a forbidden disgrace <b>x</b>", author="angry.parent")], media=["images/trip.png"]),
            post("p2", "Cake sale on Friday, maybe bring a friend"),
            post("p3", "Harvest festival thank you"),
        ],
    )
    app = build_app(tmp_path, database_url, clock, export, extra)
    pipeline = app.pipeline()
    connector = app.connect_accounts()[0].connector
    assert connector is not None
    assert pipeline.poll(app.settings.accounts[0], connector).status == "ok"
    pipeline.scan_pending()
    return Seeded(app, pipeline, clock, export)


def poll_again(seeded: Seeded) -> None:
    connector = seeded.app.connect_accounts()[0].connector
    assert connector is not None
    seeded.pipeline.poll(seeded.app.settings.accounts[0], connector)
    seeded.pipeline.scan_pending()
