"""The custody log is a linear hash chain; `hallmon verify` finds an edited entry or a flipped byte."""

from __future__ import annotations

import itertools
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from monitor.cli import main
from monitor.clock import ManualClock
from monitor.custody import CustodyRecorder, verify_chain, verify_everything
from storage.custody import GENESIS, CustodyLog, CustodyRow
from storage.tables import BlobRow, ItemRow, MediaRow
from storage.database import open_database
from tests.evidence_support import START, seed

ROOT = Path(__file__).resolve().parent.parent


def events_of(seeded_app) -> list[str]:  # type: ignore[no-untyped-def]
    with seeded_app.database.sessions() as session:
        return [e.event for e in CustodyLog(session).entries()]


def test_the_pipeline_and_sender_write_a_chain_that_verifies(tmp_path: Path, database_url: str) -> None:
    s = seed(tmp_path, database_url)
    assert s.app.sender().send_due().sent == (1,)
    events = events_of(s.app)
    assert events.count("captured") == 4  # three posts and one comment
    assert events.count("analysed") == 4
    assert events.count("alerted") == 1 and events.count("delivered") == 1
    with s.app.database.sessions() as session:
        entries = CustodyLog(session).entries()
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    assert entries[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.entry_hash for a, b in itertools.pairwise(entries))
    assert all(e.actor == "system" and e.at == START for e in entries)
    captured = next(e for e in entries if e.event == "captured" and e.details["external_id"] == "p1")
    assert len(captured.details["media_sha256"]) == 1 and len(captured.details["raw_sha256"]) == 64
    report = verify_everything(s.app.database, s.app.evidence)
    assert report.ok and report.files_checked == 2 and report.chain.entries == len(entries)
    s.app.close()


def test_an_edited_or_deleted_entry_is_found_and_named(tmp_path: Path, database_url: str) -> None:
    database = open_database(database_url)
    recorder = CustodyRecorder(database, ManualClock(START))
    for n in range(1, 6):
        recorder.append("captured", "item", n, {"raw_sha256": f"{n:064x}"})
    assert verify_chain(database).ok

    with database.sessions.begin() as session:  # someone edits the details of entry 3
        session.execute(update(CustodyRow).where(CustodyRow.seq == 3).values(details='{"raw_sha256":"ffff"}'))
    report = verify_chain(database)
    assert [p.seq for p in report.problems] == [3]
    assert "altered" in report.problems[0].problem

    with database.sessions.begin() as session:  # ... or recomputes its hash too: entry 4 no longer follows
        row = session.scalar(select(CustodyRow).where(CustodyRow.seq == 3))
        assert row is not None
        from storage.custody import compute_hash

        row.entry_hash = compute_hash(row.seq, row.at, row.actor, row.event, row.subject_type, row.subject_id, row.details, row.prev_hash)
    assert [p.seq for p in verify_chain(database).problems] == [4]

    with database.sessions.begin() as session:  # ... or deletes entry 2
        session.execute(delete(CustodyRow).where(CustodyRow.seq == 2))
    problems = verify_chain(database).problems
    assert {p.seq for p in problems} == {3, 4}
    assert any("missing" in p.problem for p in problems)
    database.dispose()


def test_concurrent_appends_from_threads_and_processes_keep_one_line(tmp_path: Path, database_url: str) -> None:
    database = open_database(database_url)
    recorder = CustodyRecorder(database, ManualClock(START))
    script = (
        "import sys\n"
        "from datetime import datetime, UTC\n"
        "from monitor.custody import CustodyRecorder\n"
        "from storage.database import open_database\n"
        "db = open_database(sys.argv[1])\n"
        "r = CustodyRecorder(db, lambda: datetime(2026, 11, 16, tzinfo=UTC))\n"
        "for n in range(25):\n"
        "    r.append('analysed', 'item', 1000 + n, {'n': n}, actor='other process')\n"
    )
    other = subprocess.Popen([sys.executable, "-c", script, database_url], cwd=ROOT)

    def work(base: int) -> None:
        for n in range(25):
            recorder.append("captured", "item", base + n, {"n": n})

    threads = [threading.Thread(target=work, args=(b,)) for b in (0, 100)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert other.wait(timeout=120) == 0
    report = verify_chain(database)
    assert report.ok, report.problems
    assert report.entries == 75
    with database.sessions() as session:
        actors = [e.actor for e in CustodyLog(session).entries()]
    assert actors.count("other process") == 25
    database.dispose()


def test_verify_command_names_a_flipped_byte_and_an_edited_log_entry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    s = seed(tmp_path, f"sqlite:///{tmp_path / 'hallmon.db'}")
    config = str(s.app.settings.path)
    assert main(["verify", "--config", config]) == 0
    assert "Result: everything matches." in capsys.readouterr().out

    with s.app.database.sessions() as session:
        media_sha = next(e for e in CustodyLog(session).entries(event="captured") if e.details["media_sha256"]).details["media_sha256"][0]
    path = s.app.evidence.path_for(media_sha)
    path.chmod(0o640)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # one flipped bit in the middle of the picture
    path.write_bytes(bytes(data))
    with s.app.database.sessions.begin() as session:
        session.execute(update(CustodyRow).where(CustodyRow.seq == 2).values(actor="mallory"))

    assert main(["verify", "--config", config]) == 1
    out = capsys.readouterr().out
    assert f"PROBLEM evidence file {path}: has been altered" in out
    assert "PROBLEM custody log entry 2: has been altered" in out
    assert "CHANGES FOUND" in out
    s.app.close()


def test_a_missing_evidence_file_is_reported(tmp_path: Path) -> None:
    s = seed(tmp_path, f"sqlite:///{tmp_path / 'hallmon.db'}")
    with s.app.database.sessions() as session:
        raw = next(iter(CustodyLog(session).entries(event="captured"))).details["raw_sha256"]
    s.app.evidence.delete(raw)
    report = verify_everything(s.app.database, s.app.evidence)
    assert [(p.sha256, p.problem) for p in report.file_problems] == [(raw, "is missing")]
    s.app.close()


def test_deleting_a_file_with_its_record_or_swapping_an_items_file_is_found(tmp_path: Path, database_url: str) -> None:
    s = seed(tmp_path, database_url)
    with s.app.database.sessions() as session:
        captured = CustodyLog(session).entries(event="captured")
    p1 = next(e for e in captured if e.details["external_id"] == "p1")
    p2 = next(e for e in captured if e.details["external_id"] == "p2")
    media = p1.details["media_sha256"][0]
    s.app.evidence.delete(media)
    with s.app.database.sessions.begin() as session:
        session.execute(update(ItemRow).where(ItemRow.id == p2.subject_id).values(raw_sha256=None))
        session.execute(update(MediaRow).where(MediaRow.sha256 == media).values(sha256=None))
        session.execute(delete(BlobRow).where(BlobRow.sha256 == media))
    report = verify_everything(s.app.database, s.app.evidence)
    assert not report.ok and report.file_problems == ()  # the file and its record are both gone...
    problems = "\n".join(report.record_problems)  # ... but the log still remembers them
    assert f"item {p1.subject_id} (custody log entry {p1.seq}) no longer points at the files recorded" in problems
    assert f"item {p2.subject_id} (custody log entry {p2.seq}) no longer points at the files recorded" in problems
    assert f"the record of evidence file {media} has been deleted" in problems
    s.app.close()


def test_migration_0002_matches_the_tables_and_downgrades_cleanly(tmp_path: Path, database_url: str) -> None:
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.config import Config
    from alembic.migration import MigrationContext
    from sqlalchemy import inspect

    import storage.lifecycle  # noqa: F401  (registers its tables on the metadata)
    from storage.database import MIGRATIONS
    from storage.tables import Base

    database = open_database(database_url)
    mine = {"custody_log", "alert_lifecycle", "legal_holds", "digest_entries", "item_purges"}
    with database.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata)
        assert [d for d in diff if any(name in repr(d) for name in mine)] == []  # others' tables are theirs
        assert mine <= set(inspect(connection).get_table_names())
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    for target in ("0001", "heads"):
        with database.engine.begin() as connection:
            config.attributes["connection"] = connection
            (command.downgrade if target == "0001" else command.upgrade)(config, target)
        with database.engine.connect() as connection:
            present = mine & set(inspect(connection).get_table_names())
        assert present == (set() if target == "0001" else mine)
    database.dispose()
