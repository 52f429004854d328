"""``hallmon status``: each account's health, for the IT technician."""

from __future__ import annotations

from sqlalchemy import select

from monitor.app import App
from storage.repository import Repository, as_utc
from storage.tables import AccountRow


def print_status(app: App) -> int:
    now = app.clock()
    configured = {a.key for a in app.settings.accounts}
    with app.database.sessions() as session:
        repo = Repository(session, app.evidence)
        rows = {row.key: row for row in session.scalars(select(AccountRow))}
        if not configured:
            print("No accounts are configured.")
        for key in sorted(configured):
            row = rows.get(key)
            if row is None:
                print(f"{key}: not polled yet")
                continue
            day = repo.usage_since(key, "day", now)
            month = repo.usage_since(key, "month", now)
            last_ok = as_utc(row.last_success_at)
            paused = as_utc(row.paused_until)
            print(f"{key}: {row.status}")
            print(f"    last success: {last_ok.isoformat() if last_ok else 'never'}")
            if row.last_error_class:
                last_error_at = as_utc(row.last_error_at)
                print(f"    last error: {row.last_error_class} at {last_error_at.isoformat() if last_error_at else '?'}: {row.last_error_message}")
            print(f"    consecutive failures: {row.consecutive_failures}; polls ok/failed: {row.polls_ok}/{row.polls_failed}")
            if paused and paused > now:
                print(f"    paused until: {paused.isoformat()}")
            print(f"    usage today: {day.api_calls} calls, {day.quota_units} quota units, {day.billed_reads} billed reads")
            print(f"    usage this month: {month.api_calls} calls, {month.quota_units} quota units, {month.billed_reads} billed reads")
    return 0
