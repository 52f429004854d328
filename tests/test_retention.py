"""Retention purges exactly what the rules say, keeps what a legal hold protects, and logs it all."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from monitor.cli import main
from monitor.custody import verify_everything
from monitor.domain import Account, Cursor, FetchResult, Item, ItemKind, Media, MediaKind, RawCapture
from monitor.lifecycle import AlertLifecycle, Outcome
from monitor.lifecycle_jobs import services
from monitor.retention import LegalHolds
from storage.custody import CustodyLog
from storage.lifecycle import LifecycleError
from storage.tables import AlertRow, BlobRow, FindingRow, ItemRow
from tests.evidence_support import START, picture, seed
from tests.exports import comment, post

RETENTION = """
[retention]
no_finding_days = 30
finding_days = 90
resolved_days = 365
x_deleted_hours = 12
"""


class FakeX:
    """Stands in for the X connector: two replies, each captured in its own response."""

    platform = "x"
    version = "test"

    def __init__(self, image: Path) -> None:
        self.gone: tuple[str, ...] = ()
        self.image = image

    def fetch(self, since: Cursor | None) -> FetchResult:
        items = []
        for external_id, text in (("x1", "urgent: forbidden threat"), ("x2", "forbidden insult")):
            raw = RawCapture(f"https://api.x.invalid/2/tweets/{external_id}", f'{{"id":"{external_id}","text":"{text}"}}'.encode(), START)
            media = (Media(MediaKind.IMAGE, url=f"https://pbs.x.invalid/{external_id}.png", local_path=self.image),) if external_id == "x1" else ()
            items.append(Item("x", "x:school", external_id, ItemKind.REPLY, text, "troll", START, f"https://x.invalid/s/{external_id}", "100", media, raw=raw))
        return FetchResult(tuple(items) if not self.gone else (), Cursor("c"), self.gone)


def purge_rules(s) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with s.app.database.sessions() as session:
        return {f"{e.details['external_id']}": e.details["rule"] for e in CustodyLog(session).entries(event="purged")}


def blob_state(s, sha: str) -> tuple[bool, datetime | None]:  # type: ignore[no-untyped-def]
    with s.app.database.sessions() as session:
        row = session.get(BlobRow, sha)
        assert row is not None
        return s.app.evidence.has(sha), row.purged_at


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_retention_rules_and_legal_holds(tmp_path: Path, database_url: str) -> None:
    clean = picture(tmp_path / "export" / "images" / "clean.png", (10, 200, 10))
    s = seed(
        tmp_path,
        database_url,
        [
            post("p1", "Year 5 trip to the museum", [comment("c1", "Mr Testman is a forbidden disgrace")], media=["images/trip.png"]),
            post("p2", "Cake sale, maybe bring a friend"),
            post("p3", "Harvest festival thank you", media=["images/clean.png"]),
        ],
        extra=RETENTION,
    )
    assert s.app.evidence.has(sha(clean))
    x_image = picture(tmp_path / "x1.png", (250, 0, 0))
    x = FakeX(x_image)
    x_account = Account("x", "school")
    assert s.pipeline.poll(x_account, x).items_new == 2
    s.pipeline.scan_pending()
    purger = services(s.app).purger
    holds = LegalHolds(s.app.database, s.app.clock, s.app.events())
    life = AlertLifecycle(s.app.database, s.app.clock, s.app.events())
    with s.app.database.sessions() as session:
        alert_of = {
            ext: aid
            for ext, aid in session.execute(
                select(ItemRow.external_id, AlertRow.id)
                .join(FindingRow, ItemRow.id == FindingRow.item_id)
                .join(AlertRow, AlertRow.finding_id == FindingRow.id)
            ).all()
        }
        raw_of = dict(session.execute(select(ItemRow.external_id, ItemRow.raw_sha256)).all())
    assert set(alert_of) == {"c1", "x1", "x2"}

    # The comment's alert is resolved on day 1; both X replies are deleted on X an hour in.
    s.clock.advance(timedelta(hours=1))
    x.gone = ("x1", "x2")
    assert s.pipeline.poll(x_account, x).items_gone == 2
    holds.place(alert_of["x2"], "Ms DSL", "police investigation, ref 4711")
    with pytest.raises(LifecycleError, match="needs a reason"):
        holds.place(alert_of["x2"], "Ms DSL", "  ")

    s.clock.advance(timedelta(hours=11))
    assert purger.run().purged == ()

    s.clock.advance(timedelta(hours=2))  # 13 hours after the deletion on X
    report = purger.run()
    assert [(p.candidate.external_id, p.candidate.rule) for p in report.purged] == [("x1", "x_deleted")]
    assert blob_state(s, raw_of["x1"])[0] is False and blob_state(s, raw_of["x1"])[1] is not None
    assert blob_state(s, sha(x_image))[0] is False
    assert blob_state(s, raw_of["x2"]) == (True, None), "under a legal hold"
    with s.app.database.sessions() as session:
        x1 = session.scalar(select(ItemRow).where(ItemRow.external_id == "x1"))
        assert x1 is not None and (x1.text, x1.author) == ("", "")
    assert verify_everything(s.app.database, s.app.evidence).ok

    life.resolve(alert_of["c1"], "Ms Head", Outcome.POST_REMOVED)
    s.clock.advance(timedelta(days=29))
    assert purger.run().purged == ()
    s.clock.advance(timedelta(days=2))  # day 31: the clean post goes with its picture
    report = purger.run()
    assert [(p.candidate.external_id, p.candidate.rule) for p in report.purged] == [("p3", "no_finding")]
    assert blob_state(s, sha(clean))[0] is False
    trip = sha(s.export / "images" / "trip.png")
    assert blob_state(s, trip) == (True, None), "p1 is the context of the alerted comment on it"
    assert blob_state(s, raw_of["p1"]) == (True, None), "the export file is still evidence for the comment"

    s.clock.advance(timedelta(days=60))  # day 91: the medium finding with no alert goes
    assert [(p.candidate.external_id, p.candidate.rule) for p in purger.run().purged] == [("p2", "finding_no_alert")]

    s.clock.advance(timedelta(days=276))  # a year after the alert was resolved: the comment, then its post
    assert [(p.candidate.external_id, p.candidate.rule) for p in purger.run().purged] == [("c1", "alert_closed")]
    assert blob_state(s, trip)[0] is True
    assert [(p.candidate.external_id, p.candidate.rule) for p in purger.run().purged] == [("p1", "no_finding")]
    assert blob_state(s, trip)[0] is False
    assert blob_state(s, raw_of["c1"])[0] is False

    with pytest.raises(LifecycleError, match="already been purged"):
        holds.place(alert_of["x1"], "Ms DSL", "too late")
    holds.lift(alert_of["x2"], "Ms DSL", "case closed")
    assert [(p.candidate.external_id, p.candidate.rule) for p in purger.run().purged] == [("x2", "x_deleted")]
    assert purger.run().purged == ()

    assert purge_rules(s) == {"x1": "x_deleted", "p1": "no_finding", "p3": "no_finding", "p2": "finding_no_alert", "c1": "alert_closed", "x2": "x_deleted"}
    with s.app.database.sessions() as session:
        entries = CustodyLog(session).entries()
    assert [e.actor for e in entries if e.event in ("hold_placed", "hold_lifted")] == ["Ms DSL", "Ms DSL"]
    assert verify_everything(s.app.database, s.app.evidence).ok
    s.app.close()


def test_a_purge_interrupted_before_the_files_went_is_finished_next_time(tmp_path: Path) -> None:
    s = seed(tmp_path, f"sqlite:///{tmp_path / 'hallmon.db'}", extra=RETENTION)
    trip = sha(s.export / "images" / "trip.png")
    with s.app.database.sessions.begin() as session:  # as if the process died after the commit
        row = session.get(BlobRow, trip)
        assert row is not None
        row.purged_at = START
    assert s.app.evidence.has(trip)
    assert services(s.app).purger.run().files_deleted == 1
    assert not s.app.evidence.has(trip)
    s.app.close()


def test_purge_command_dry_run_and_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    s = seed(tmp_path, f"sqlite:///{tmp_path / 'hallmon.db'}", extra="[retention]\nno_finding_days = 1\n")
    config = str(s.app.settings.path)
    # The CLI uses the real clock: the seeded items were captured in the past, so they are due.
    assert main(["purge", "--dry-run", "--config", config]) == 0
    out = capsys.readouterr().out
    assert "1 item(s) are due" in out and "archive:school p3 (no_finding)" in out
    assert main(["purge", "--config", config]) == 0
    assert "Purged 1 item(s) and 0 evidence file(s)" in capsys.readouterr().out
    assert main(["purge", "--config", config]) == 0
    assert "Nothing is due" in capsys.readouterr().out
    s.app.close()
