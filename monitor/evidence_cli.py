"""``hallmon evidence export|hold|release``, ``hallmon verify``, ``hallmon report``, ``hallmon purge``."""

from __future__ import annotations

import argparse
import getpass
from collections.abc import Callable
from pathlib import Path


Command = Callable[[argparse.Namespace], int]


def _config_options(parser: argparse.ArgumentParser) -> None:
    """Let --config and --verbose also follow the action (SUPPRESS keeps a value given before it)."""
    parser.add_argument("--config", "-c", default=argparse.SUPPRESS, help="configuration file")
    parser.add_argument("--verbose", "-v", action="store_true", default=argparse.SUPPRESS, help="debug logging")


def _default_actor() -> str:
    try:
        return f"user {getpass.getuser()}"
    except Exception:  # no login name (containers): still record something honest
        return "user (unknown login)"


def add_commands(add: Callable[[str, str], argparse.ArgumentParser]) -> dict[str, Command]:
    """Add the evidence commands; returns their handlers by command name."""
    evidence = add("evidence", "export an alert's evidence bundle, or place and lift legal holds")
    sub = evidence.add_subparsers(dest="evidence_command", metavar="ACTION", required=True)
    export = sub.add_parser("export", help="write a zip of everything about one alert for the police, the LA or a platform")
    export.add_argument("alert_id", type=int)
    export.add_argument("--out", default=".", help="folder to write the zip into (default: the current folder)")
    export.add_argument("--as", dest="as_name", default=None, metavar="NAME", help="who is exporting (for the custody log)")
    hold = sub.add_parser("hold", help="keep an alert's evidence beyond the retention period (e.g. for a police investigation)")
    hold.add_argument("alert_id", type=int)
    hold.add_argument("--as", dest="as_name", required=True, metavar="NAME")
    hold.add_argument("--reason", required=True, help="why it must be kept, e.g. 'police investigation, ref 123'")
    release = sub.add_parser("release", help="lift the legal hold on an alert's evidence")
    release.add_argument("alert_id", type=int)
    release.add_argument("--as", dest="as_name", required=True, metavar="NAME")
    release.add_argument("--note", default="")
    for parser in (export, hold, release):
        _config_options(parser)

    add("verify", "re-hash every stored evidence file and the custody log; exit 1 if anything changed")

    report = add("report", "make the weekly audit report (HTML and PDF), and email it with --send")
    report.add_argument("--week", help="ISO week such as 2026-W47 (default: last complete week)")
    report.add_argument("--out", help="folder for the HTML and PDF (default: [report] out_dir or STATE/reports)")
    report.add_argument("--send", action="store_true", help="email it to the [report] recipients")

    purge = add("purge", "delete what the retention rules say must go (the daemon also does this hourly)")
    purge.add_argument("--dry-run", action="store_true", help="list what would be purged, change nothing")
    return {"evidence": cmd_evidence, "verify": cmd_verify, "report": cmd_report, "purge": cmd_purge}


def _app(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from monitor.cli import build_app

    return build_app(args)


def cmd_evidence(args: argparse.Namespace) -> int:
    from monitor.evidence_bundle import export_alert
    from monitor.retention import LegalHolds
    from storage.lifecycle import LifecycleError

    app = _app(args)
    try:
        if args.evidence_command == "export":
            try:
                result = export_alert(
                    args.alert_id, app.database, app.evidence, Path(args.out), app.clock(), app.events(), args.as_name or _default_actor()
                )
            except KeyError:
                print(f"There is no alert {args.alert_id}. `hallmon alerts list` shows the alerts there are.")
                return 1
            except ValueError as exc:  # an original no longer matches its hash
                print(f"Not exported: {exc}. Run `hallmon verify` and tell IT.")
                return 1
            print(f"Evidence for alert {args.alert_id} written to {result.path}")
            print(f"  {result.files} files; SHA-256 of the zip: {result.sha256}")
            print("  The export is recorded in the custody log. README.txt inside explains the bundle to the recipient.")
            return 0
        holds = LegalHolds(app.database, app.clock, app.events())
        try:
            if args.evidence_command == "hold":
                hold_id = holds.place(args.alert_id, args.as_name, args.reason)
                print(f"Legal hold {hold_id} placed on the evidence of alert {args.alert_id}: it will not be purged until the hold is lifted.")
            else:
                lifted = holds.lift(args.alert_id, args.as_name, args.note)
                print(f"Lifted {len(lifted)} legal hold(s) on alert {args.alert_id}; the retention rules apply again.")
        except LifecycleError as exc:
            print(exc)
            return 1
        return 0
    finally:
        app.close()


def cmd_verify(args: argparse.Namespace) -> int:
    from monitor.custody import verify_everything

    app = _app(args)
    try:
        report = verify_everything(app.database, app.evidence)
        print("\n".join(report.lines()))
        return 0 if report.ok else 1
    finally:
        app.close()


def cmd_report(args: argparse.Namespace) -> int:
    from monitor.lifecycle_jobs import services
    from monitor.report import ReportError, parse_week

    app = _app(args)
    try:
        s = services(app)
        try:
            week = parse_week(args.week, s.config.zone) if args.week else None
        except ReportError as exc:
            print(f"hallmon report: {exc}")
            return 2
        out = Path(args.out) if args.out else (s.config.report.out_dir or app.settings.state_dir / "reports")
        result = s.reporter.run(week, out_dir=out, send=args.send)
        print(f"Weekly report {result.week}: {result.html} and {result.pdf}")
        if result.sent:
            print(f"Emailed to {', '.join(s.config.report.recipients)}")
        if not result.verify_ok:
            print("Warning: hallmon verify found changes; see the report.")
        return 0
    finally:
        app.close()


def cmd_purge(args: argparse.Namespace) -> int:
    from monitor.lifecycle_jobs import services

    app = _app(args)
    try:
        purger = services(app).purger
        if args.dry_run:
            due = purger.due()
            print(f"{len(due)} item(s) are due for deletion under the retention rules.")
            for c in due:
                print(f"  item {c.item_id}: {c.platform} {c.account_key} {c.external_id} ({c.rule})")
            return 0
        print("\n".join(purger.run().lines()))
        return 0
    finally:
        app.close()


__all__ = ["add_commands"]
