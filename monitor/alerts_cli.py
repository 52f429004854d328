"""``hallmon alerts``: what IT and the headteacher can see of the alert queue from a terminal."""

from __future__ import annotations

import argparse
import getpass
from collections.abc import Callable

from monitor.app import App
from storage.outbox import Outbox
from storage.lifecycle import LifecycleStore
from storage.repository import Repository, as_utc


def run(app: App, args: argparse.Namespace) -> int:
    if args.alerts_command == "list":
        return list_alerts(app, args.status, args.limit)
    if args.alerts_command == "show":
        return show_alert(app, args.id, args.viewer or _login_name())
    handler = LIFECYCLE_HANDLERS.get(args.alerts_command)
    if handler is None:
        print(f"unknown action {args.alerts_command}")
        return 2
    return handler(app, args)


def list_alerts(app: App, status: str | None, limit: int) -> int:
    with app.database.sessions() as session:
        rows = Outbox(session, Repository(session, app.evidence)).list(limit, status)
    if not rows:
        print("No alerts.")
        return 0
    print(f"{'ID':>5}  {'SEVERITY':<8}  {'CLAUSE':<10}  {'CATEGORY':<42}  {'DELIVERY':<8}  {'STATE':<22}  {'CREATED (UTC)':<16}  ACCOUNT")
    for row in rows:
        print(
            f"{row.id:>5}  {row.severity:<8}  {row.clause:<10}  {row.category:<42}  {row.status:<8}  "
            f"{row.state:<22}  {row.created_at:%Y-%m-%d %H:%M}  {row.account_key}"
        )
    return 0


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown user"


def show_alert(app: App, alert_id: int, viewer: str) -> int:
    with app.database.sessions() as session:
        repo = Repository(session, app.evidence)
        try:
            alert = Outbox(session, repo).load(alert_id)
        except KeyError:
            print(f"There is no alert {alert_id}. `hallmon alerts list` shows the alerts there are.")
            return 1
        raw_sha = repo.raw_sha256(alert.item.id)
        lifecycle = LifecycleStore(session).lifecycle(alert_id)
    app.events().record("viewed", "alert", alert_id, {"via": "hallmon alerts show"}, actor=viewer)
    finding = alert.finding.finding
    item = alert.item.item
    print(f"Alert {alert.id}: {finding.severity.upper()} - clause {finding.clause} ({finding.category})")
    print(f"  delivery: {alert.status} after {alert.attempts} attempt(s)" + (f"; last error: {alert.last_error}" if alert.last_error else ""))
    print(f"  state: {alert.state}")
    if lifecycle is not None and lifecycle.acknowledged_at is not None:
        print(f"  acknowledged by {lifecycle.acknowledged_by} at {as_utc(lifecycle.acknowledged_at).isoformat()}" + (f": {lifecycle.ack_note}" if lifecycle.ack_note else ""))  # type: ignore[union-attr]
    if lifecycle is not None and lifecycle.resolved_at is not None:
        print(f"  resolved by {lifecycle.resolved_by} at {as_utc(lifecycle.resolved_at).isoformat()} ({lifecycle.outcome})" + (f": {lifecycle.resolve_note}" if lifecycle.resolve_note else ""))  # type: ignore[union-attr]
    print(f"  Message-ID: {alert.message_id}")
    print(f"  what: {finding.evidence.explanation}")
    print(f"  detector: {finding.detector_ref}, confidence {finding.confidence:.0%}")
    print(f"  account: {item.account_key} ({item.platform}), {item.kind} {item.external_id} revision {alert.item.revision}")
    print(f"  author: {item.author!r}")
    print(f"  posted: {item.created_at.isoformat()}  captured: {alert.item.captured_at.isoformat()}")
    if alert.item.deleted_at:
        print(f"  removed from the platform: {alert.item.deleted_at.isoformat()}")
    print(f"  link: {item.permalink or '(none)'}")
    print(f"  text: {item.text!r}")
    for span in finding.evidence.spans:
        if span.source == "text":
            print(f"    flagged: {item.text[span.start:span.end]!r} at {span.start}-{span.end}")
    for region in finding.evidence.regions:
        print(f"    image region {region.label}: x={region.box.x} y={region.box.y} w={region.box.w} h={region.box.h} in {region.media_sha256[:12]}")
    print(f"  raw payload (evidence): {app.evidence.path_for(raw_sha) if raw_sha else '(none)'}")
    for media in item.media:
        print(f"  media: {media.kind} {media.url} -> {media.local_path or 'not captured'}")
    return 0


LIFECYCLE_HANDLERS: dict[str, Callable[[App, argparse.Namespace], int]] = {}


def add_lifecycle_parsers(alert_sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """``alerts ack`` and ``alerts resolve`` (monitor.lifecycle_cli)."""
    from monitor.lifecycle_cli import add_parsers, handlers

    add_parsers(alert_sub)
    LIFECYCLE_HANDLERS.update(handlers())
