"""Keeps the custody log: every capture, analysis, alert, delivery, view, acknowledgement,
resolution, export and purge becomes a hash-chained entry with who did it and when (UTC).

The pipeline and the sender call :meth:`CustodyRecorder.record` after each commit. Appends are
serialised so the chain stays one line: a process-wide lock covers the two scheduler threads,
``pg_advisory_xact_lock`` covers other processes on PostgreSQL, and the unique ``seq`` makes a
racing writer on SQLite (a CLI command beside the daemon) fail and retry instead of forking it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError, OperationalError

from monitor.clock import Clock
from storage.custody import ChainProblem, CustodyEntry, CustodyLog
from storage.database import Database
from storage.evidence import EvidenceStore

log = logging.getLogger(__name__)

_APPEND_LOCK = threading.Lock()
ATTEMPTS = 8
ACTOR_MAX = 200


class CustodyError(Exception):
    """The custody log could not be written after several attempts."""


@dataclass(frozen=True)
class ChainReport:
    entries: int
    head_hash: str
    problems: tuple[ChainProblem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def clean_actor(actor: str) -> str:
    """A named user as typed on the command line, without control characters."""
    cleaned = "".join(ch for ch in actor if ch.isprintable()).strip()
    return cleaned[:ACTOR_MAX] or "unknown"


class CustodyRecorder:
    """An :class:`monitor.events.EventRecorder` that appends to the tamper-evident log."""

    def __init__(self, database: Database, clock: Clock) -> None:
        self.database = database
        self.clock = clock

    def record(
        self, event: str, subject_type: str, subject_id: int, details: Mapping[str, Any], actor: str = "system"
    ) -> None:
        """Append one entry. Never raises into the pipeline: a failure is logged loudly instead."""
        try:
            self.append(event, subject_type, subject_id, details, actor)
        except CustodyError as exc:
            log.error("custody log: could not record %s of %s %s: %s", event, subject_type, subject_id, exc)

    def append(
        self, event: str, subject_type: str, subject_id: int, details: Mapping[str, Any], actor: str = "system"
    ) -> CustodyEntry:
        """Append one entry in its own short transaction; raises :class:`CustodyError`."""
        last: Exception | None = None
        for attempt in range(ATTEMPTS):
            with _APPEND_LOCK:
                try:
                    with self.database.sessions.begin() as session:
                        return CustodyLog(session).append(
                            event, subject_type, subject_id, dict(details), clean_actor(actor), self.clock()
                        )
                except (IntegrityError, OperationalError) as exc:
                    # Another process appended after the tail we read (or held the SQLite lock).
                    last = exc
            time.sleep(0.02 * (attempt + 1))
        raise CustodyError(f"{type(last).__name__}: {last}")

    def verify(self) -> ChainReport:
        """Re-hash the whole chain."""
        return verify_chain(self.database)

    def entries_for(self, subject_type: str, subject_ids: list[int]) -> list[CustodyEntry]:
        with self.database.sessions() as session:
            return CustodyLog(session).entries(subject_type, subject_ids)


@dataclass(frozen=True)
class FileProblem:
    sha256: str
    path: str
    source_url: str
    problem: str


@dataclass(frozen=True)
class VerifyReport:
    """The result of ``hallmon verify``: every evidence file and the custody chain re-hashed."""

    files_checked: int
    file_problems: tuple[FileProblem, ...]
    chain: ChainReport
    record_problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.file_problems and self.chain.ok and not self.record_problems

    def lines(self) -> list[str]:
        """Plain-language lines for IT; each problem names the file or the log entry."""
        out = [f"Evidence files checked: {self.files_checked}; problems: {len(self.file_problems)}"]
        for p in self.file_problems:
            out.append(f"  PROBLEM evidence file {p.path}: {p.problem} (captured from {p.source_url or 'unknown'})")
        out.append(f"Custody log entries checked: {self.chain.entries}; problems: {len(self.chain.problems)}")
        for c in self.chain.problems:
            out.append(f"  PROBLEM custody log entry {c.seq}: {c.problem}")
        out.append(f"Captures cross-checked against the log; problems: {len(self.record_problems)}")
        out += [f"  PROBLEM {problem}" for problem in self.record_problems]
        out.append(f"Custody log head: {self.chain.head_hash}")
        out.append("Result: everything matches." if self.ok else "Result: CHANGES FOUND - see the problems above.")
        return out


def verify_everything(database: Database, evidence: EvidenceStore) -> VerifyReport:
    """Re-hash every kept evidence file against its name, then the custody chain."""
    from storage.custody import kept_blobs

    with database.sessions() as session:
        blobs = kept_blobs(session)
    problems: list[FileProblem] = []
    for blob in blobs:
        path = evidence.path_for(blob.sha256)
        if not path.exists():
            problems.append(FileProblem(blob.sha256, str(path), blob.source_url, "is missing"))
        elif not evidence.verify(blob.sha256):
            problems.append(FileProblem(blob.sha256, str(path), blob.source_url, "has been altered: its SHA-256 no longer matches its name"))
    return VerifyReport(len(blobs), tuple(problems), verify_chain(database), tuple(cross_check(database)))


def cross_check(database: Database) -> list[str]:
    """Each item still points at the files the log says were captured for it, and each of those
    files is still recorded (kept, or purged by the retention rules), so deleting a file *and*
    its database record, or swapping an item's file, is found too."""
    from storage.custody import blob_purge_state, item_evidence_refs

    with database.sessions() as session:
        captures = CustodyLog(session).entries(event="captured")
        refs = item_evidence_refs(session)
        blobs = blob_purge_state(session)
    problems: list[str] = []
    for entry in captures:
        raw = entry.details.get("raw_sha256")
        media = tuple(str(m) for m in entry.details.get("media_sha256", []))
        current = refs.get(entry.subject_id)
        where = f"item {entry.subject_id} (custody log entry {entry.seq})"
        if current is None:
            problems.append(f"{where} is no longer in the database")
            continue
        if current[0] != raw or current[1] != media:
            problems.append(f"{where} no longer points at the files recorded when it was captured")
        for sha in ([raw] if raw else []) + list(media):
            if sha not in blobs:
                problems.append(f"{where}: the record of evidence file {sha} has been deleted")
    return problems


def verify_chain(database: Database) -> ChainReport:
    """Re-hash the whole custody chain."""
    with database.sessions() as session:
        count, head, problems = CustodyLog(session).verify()
    return ChainReport(count, head, tuple(problems))
