"""Retention (UK GDPR data minimisation) and legal holds.

Rules, each configurable in ``[retention]``:
- captures and media of items with no finding go after ``no_finding_days``;
- items with findings that raised no alert (below the alert threshold) after ``finding_days``;
- evidence for alerts ``resolved_days`` after the last of the item's alerts was closed;
- content deleted on X goes ``x_deleted_hours`` after we notice (X's developer terms: within
  24 hours), whatever it showed.
An item under a legal hold is never purged until the hold is lifted. A purge redacts the item's
text in the database and deletes its evidence files (unless another kept item uses the same
file), and each purged item gets a custody-log entry.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from monitor.clock import Clock
from monitor.custody import clean_actor
from monitor.events import EventRecorder
from monitor.evidence_settings import RetentionSettings
from storage.database import Database
from storage.evidence import EvidenceStore
from storage.lifecycle import LifecycleError, LifecycleStore, PurgeCandidate, PurgedItem, RetentionStore, item_id_for_alert

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PurgeReport:
    purged: tuple[PurgedItem, ...] = ()
    files_deleted: int = 0
    by_rule: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        if not self.purged:
            return ["Nothing is due for deletion under the retention rules."]
        out = [f"Purged {len(self.purged)} item(s) and {self.files_deleted} evidence file(s):"]
        out += [f"  {rule}: {count} item(s)" for rule, count in sorted(self.by_rule.items())]
        return out


class RetentionPurger:
    def __init__(
        self, database: Database, evidence: EvidenceStore, settings: RetentionSettings, clock: Clock, events: EventRecorder
    ) -> None:
        self.database = database
        self.evidence = evidence
        self.settings = settings
        self.clock = clock
        self.events = events

    def due(self) -> list[PurgeCandidate]:
        """What the rules say must go now (a dry run)."""
        now = self.clock()
        s = self.settings
        with self.database.sessions() as session:
            return RetentionStore(session).candidates(
                now,
                no_finding_before=now - timedelta(days=s.no_finding_days),
                finding_before=now - timedelta(days=s.finding_days),
                closed_before=now - timedelta(days=s.resolved_days),
                x_deleted_before=now - timedelta(hours=s.x_deleted_hours),
            )

    def run(self) -> PurgeReport:
        """Purge everything due: database first (one transaction), then the files, then the log."""
        now = self.clock()
        s = self.settings
        with self.database.sessions.begin() as session:
            store = RetentionStore(session)
            candidates = store.candidates(
                now,
                no_finding_before=now - timedelta(days=s.no_finding_days),
                finding_before=now - timedelta(days=s.finding_days),
                closed_before=now - timedelta(days=s.resolved_days),
                x_deleted_before=now - timedelta(hours=s.x_deleted_hours),
            )
            purged = store.purge(candidates, now)
        deleted = sum(1 for p in purged for sha in p.blobs if self.evidence.delete(sha))
        deleted += self._sweep()
        for p in purged:
            c = p.candidate
            self.events.record(
                "purged",
                "item",
                c.item_id,
                {"rule": c.rule, "platform": c.platform, "account": c.account_key, "external_id": c.external_id, "files_sha256": list(p.blobs)},
            )
        if purged:
            log.info("retention: purged %d item(s), %d evidence file(s)", len(purged), deleted)
        return PurgeReport(tuple(purged), deleted, dict(Counter(p.candidate.rule for p in purged)))

    def _sweep(self) -> int:
        """Files whose purge was committed but not finished (a crash in between) go now."""
        with self.database.sessions() as session:
            purged = RetentionStore(session).purged_blobs_on_disk()
        return sum(1 for sha in purged if self.evidence.has(sha) and self.evidence.delete(sha))


class LegalHolds:
    """Keep one alert's evidence beyond retention (and beyond X's 24 hours) for a recorded reason."""

    def __init__(self, database: Database, clock: Clock, events: EventRecorder) -> None:
        self.database = database
        self.clock = clock
        self.events = events

    def place(self, alert_id: int, by: str, reason: str) -> int:
        actor = clean_actor(by)
        if not reason.strip():
            raise LifecycleError("A legal hold needs a reason (e.g. 'police investigation, ref 123').")
        with self.database.sessions.begin() as session:
            item_id = item_id_for_alert(session, alert_id)
            if item_id is None:
                raise LifecycleError(f"There is no alert {alert_id}.")
            if RetentionStore(session).is_purged(item_id):
                raise LifecycleError(f"The evidence of alert {alert_id} has already been purged; there is nothing left to hold.")
            hold_id = LifecycleStore(session).place_hold(item_id, alert_id, reason.strip(), actor, self.clock())
        self.events.record("hold_placed", "alert", alert_id, {"hold": hold_id, "item_id": item_id, "reason": reason.strip()}, actor=actor)
        return hold_id

    def lift(self, alert_id: int, by: str, note: str) -> list[int]:
        actor = clean_actor(by)
        with self.database.sessions.begin() as session:
            item_id = item_id_for_alert(session, alert_id)
            if item_id is None:
                raise LifecycleError(f"There is no alert {alert_id}.")
            lifted = LifecycleStore(session).lift_holds(item_id, actor, note, self.clock())
        if not lifted:
            raise LifecycleError(f"Alert {alert_id} has no legal hold to lift.")
        self.events.record("hold_lifted", "alert", alert_id, {"holds": lifted, "item_id": item_id, "note": note}, actor=actor)
        return lifted
