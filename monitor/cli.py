"""The ``hallmon`` command line. Thin: parse arguments, build the app, call one thing, print."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from typing import TYPE_CHECKING

from monitor.config import ConfigError, Settings, load_settings
from monitor.secrets import RedactingFilter

if TYPE_CHECKING:
    from monitor.app import App

DEFAULT_CONFIG = Path("/etc/hallmon/hallmon.toml")
log = logging.getLogger("hallmon")

Command = Callable[[argparse.Namespace], int]
COMMANDS: dict[str, Command] = {}


def command(name: str) -> Callable[[Command], Command]:
    def register(func: Command) -> Command:
        COMMANDS[name] = func
        return func

    return register


def setup_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    under_systemd = bool(os.environ.get("JOURNAL_STREAM") or os.environ.get("INVOCATION_ID"))
    fmt = "%(levelname)s %(name)s: %(message)s" if under_systemd else "%(asctime)s %(levelname)s %(name)s: %(message)s"
    handler.setFormatter(logging.Formatter(fmt))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    for noisy in ("apscheduler", "httpx", "httpcore", "urllib3", "googleapiclient", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # Font-subsetting advice from the PDF renderer is not something a school can act on.
    for chatty in ("weasyprint", "fontTools"):
        logging.getLogger(chatty).setLevel(logging.ERROR)


def config_path(args: argparse.Namespace) -> Path:
    value = getattr(args, "config", None) or os.environ.get("HALLMON_CONFIG")
    return Path(value) if value else DEFAULT_CONFIG


def load(args: argparse.Namespace) -> Settings:
    from connectors.registry import available_connectors

    return load_settings(config_path(args), set(available_connectors()))


def build_app(args: argparse.Namespace) -> App:
    from monitor.app import App

    settings = load(args)
    setup_logging(settings.log_level if not getattr(args, "verbose", False) else "DEBUG")
    return App.build(settings)


# --- commands ---


@command("run")
def cmd_run(args: argparse.Namespace) -> int:
    from monitor.daemon import Daemon

    app = build_app(args)
    return Daemon(app, extra_jobs=_extra_jobs(app)).run()


def _extra_jobs(app: App) -> list[tuple[str, Callable[[], object], dict[str, object]]]:
    """Weekly report, daily digest, escalation and retention purges (monitor.lifecycle_jobs)."""
    from monitor.lifecycle_jobs import scheduled_jobs

    return list(scheduled_jobs(app))


@command("poll")
def cmd_poll(args: argparse.Namespace) -> int:
    from monitor.daemon import Daemon

    app = build_app(args)
    report = Daemon(app).cycle_once()
    for poll in report.polls:
        print(f"{poll.account_key}: {poll.status}, {poll.items_new} new or changed, {poll.items_gone} gone" + (f" ({poll.message})" if poll.message else ""))
    for entry in report.disabled:
        print(f"{entry.account.key}: disabled: {entry.problem}")
    print(f"scanned {report.scan.items} item(s), {report.scan.findings} finding(s), {len(report.scan.alerts)} alert(s) queued")
    print(f"alerts delivered: {len(report.send.sent)}, failed: {len(report.send.failed)}")
    app.close()
    return 0 if not report.send.failed else 1


@command("alerts")
def cmd_alerts(args: argparse.Namespace) -> int:
    from monitor import alerts_cli

    app = build_app(args)
    try:
        return alerts_cli.run(app, args)
    finally:
        app.close()


@command("demo")
def cmd_demo(args: argparse.Namespace) -> int:
    from monitor.demo import run_demo

    setup_logging("WARNING")
    return run_demo(Path(args.output))


@command("check")
def cmd_check(args: argparse.Namespace) -> int:
    from detectors.base import SchoolContext
    from detectors.registry import build_detectors
    from monitor.check import BadInput, Checker, describe, result_to_json

    setup_logging("WARNING")
    context = SchoolContext()
    analyser = None
    if args.config or os.environ.get("HALLMON_CONFIG"):
        app = build_app(args)
        context, analyser, detectors = app.school_context(), app.analyser, app.detectors
    else:
        detectors = build_detectors()
        try:
            from detectors.media_analysis import MediaAnalyser

            analyser = MediaAnalyser()
        except Exception as exc:
            print(f"note: image analysis unavailable: {exc}", file=sys.stderr)
    checker = Checker(detectors, context, analyser)
    if args.jsonl is not None:
        source = sys.stdin if args.jsonl == "-" else open(args.jsonl, encoding="utf-8", errors="replace")
        with source:
            for answer in checker.check_lines(source):
                sys.stdout.write(json.dumps(answer, ensure_ascii=False) + "\n")
                sys.stdout.flush()
        return 0
    if not args.file:
        print("hallmon check: give a JSON file, or --jsonl FILE|- (see hallmon check --help)", file=sys.stderr)
        return 2
    try:
        data = json.loads(Path(args.file).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        print(f"hallmon check: cannot read {args.file}: {exc}", file=sys.stderr)
        return 2
    records = data if isinstance(data, list) else [data]
    worst = 0
    for index, record in enumerate(records, start=1):
        try:
            result = checker.check(record, f"item-{index}")
        except BadInput as exc:
            print(f"item {index}: {exc}")
            worst = 2
            continue
        print(describe(result) if not args.json else json.dumps(result_to_json(result), ensure_ascii=False))
        worst = max(worst, 1 if result.findings else 0)
    return worst


@command("check-config")
def cmd_check_config(args: argparse.Namespace) -> int:
    settings = load(args)
    print(f"{settings.path}: OK")
    print(f"  school: {settings.school.name}")
    print(f"  state directory: {settings.state_dir}")
    print(f"  database: {_safe_url(settings.database_url)}")
    print(f"  alerts at or above: {settings.alerts.min_severity}, to: {', '.join(settings.alerts.recipients) or '(none)'}")
    print(f"  delivery: {'SMTP ' + settings.smtp.host if settings.smtp.host else 'files in ' + str(settings.alerts.outbox_dir)}")
    for account in settings.accounts:
        print(f"  account {account.key}: every {int(account.poll_interval.total_seconds() // 60)} min")
    life, report, keep = settings.evidence.lifecycle, settings.evidence.report, settings.evidence.retention
    hours = int(life.escalate_after.total_seconds() // 3600)
    print(
        f"  unacknowledged {'/'.join(life.escalate_severities)} alerts escalate after {hours} h to: "
        f"{', '.join(life.escalate_to) or '(no DSL listed: [lifecycle] dsl)'}"
    )
    print(f"  daily digest at {life.digest_time:%H:%M} ({life.timezone}) to: {', '.join(life.digest_recipients)}")
    print(f"  weekly report {report.day} {report.time:%H:%M} to: {', '.join(report.recipients)}")
    print(f"  account failures emailed to: {', '.join(report.it_recipients) or '(nobody: the log only; set [report] recipients)'}")
    print(
        f"  evidence kept: {keep.no_finding_days} days without a finding, {keep.finding_days} with one, "
        f"{keep.resolved_days} after an alert is resolved; copies of posts deleted on X removed within {keep.x_deleted_hours} h"
    )
    return 0


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@command("plugins")
def cmd_plugins(args: argparse.Namespace) -> int:
    from connectors.registry import available_connectors
    from detectors.registry import available_detectors

    for name, plugin in available_connectors().items():
        print(f"connector\t{name}\t{plugin.version}\t{plugin.origin}")
    for name, detector in available_detectors().items():
        try:
            version = getattr(detector.factory, "version", "?")
        except Exception:
            version = "?"
        print(f"detector\t{name}\t{version}\t{detector.origin}")
    return 0


@command("status")
def cmd_status(args: argparse.Namespace) -> int:
    from monitor.status import print_status

    app = build_app(args)
    try:
        return print_status(app)
    finally:
        app.close()


@command("roster")
def cmd_roster(args: argparse.Namespace) -> int:
    from monitor.school_cli import import_roster

    app = build_app(args)
    try:
        return import_roster(app, Path(args.file), args.kind)
    finally:
        app.close()


@command("media")
def cmd_media(args: argparse.Namespace) -> int:
    from monitor.school_cli import register_media

    app = build_app(args)
    try:
        return register_media(app, [Path(p) for p in args.paths], own=args.own, label=args.label)
    finally:
        app.close()


# --- argument parsing ---


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="hallmon",
        description="Hall Monitor: audits a school's own social media accounts against its social media policy.",
    )
    top.add_argument("--version", action="version", version=f"hallmon {_version()}")
    sub = top.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, help_text: str, config: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        if config:
            p.add_argument("--config", "-c", help=f"configuration file (default: $HALLMON_CONFIG or {DEFAULT_CONFIG})")
            p.add_argument("--verbose", "-v", action="store_true", help="debug logging")
        return p

    add("run", "run the monitoring daemon (what the systemd service starts)")
    poll = add("poll", "poll every account once, scan, and send alerts, then exit")
    poll.add_argument("--once", action="store_true", required=True, help="one cycle, then exit")

    alerts = add("alerts", "list or show alerts")
    alert_sub = alerts.add_subparsers(dest="alerts_command", metavar="ACTION", required=True)
    listing = alert_sub.add_parser("list", help="recent alerts, newest first")
    _config_after_action(listing)
    listing.add_argument("--status", help="only alerts in this delivery status or state (queued, sent, open, ...)")
    listing.add_argument("--limit", type=int, default=50)
    show = alert_sub.add_parser("show", help="everything about one alert (recorded as viewed in the custody log)")
    show.add_argument("id", type=int)
    _config_after_action(show)
    show.add_argument("--as", dest="viewer", default="", help="your name, for the custody log (default: your login name)")
    _add_lifecycle_arguments(alert_sub)

    demo = add("demo", "run a complete monitoring cycle on bundled demo accounts (no network, no credentials)", config=False)
    demo.add_argument("--output", default="demo-output", help="where to put the database, evidence and outbox (default: ./demo-output)")

    check = add("check", "check a draft post (or a JSON Lines batch) against the policy without any platform")
    check.add_argument("file", nargs="?", help='JSON file: {"id", "kind": "post"|"comment", "text", "media": [paths]} or a list of them')
    check.add_argument("--jsonl", nargs="?", const="-", metavar="FILE|-", help="read one JSON object per line, write one result per line")
    check.add_argument("--json", action="store_true", help="print JSON instead of a readable report")

    add("check-config", "check the configuration file and print a summary")
    add("plugins", "list every connector and detector (kind, name, version, origin)", config=False)
    add("status", "health of each account: last success, last error, failures, quota used")

    roster = add("roster", "manage the pupil and staff rosters (stored only as keyed hashes)")
    roster_sub = roster.add_subparsers(dest="roster_command", metavar="ACTION", required=True)
    imp = roster_sub.add_parser("import", help="replace a roster from a CSV export of the school's MIS")
    imp.add_argument("file")
    imp.add_argument("--kind", choices=["pupils", "staff"], required=True)
    _config_after_action(imp)

    media = add("media", "manage the media register used for copyright checks")
    media_sub = media.add_subparsers(dest="media_command", metavar="ACTION", required=True)
    reg = media_sub.add_parser("register", help="add images to the register")
    reg.add_argument("paths", nargs="+")
    who = reg.add_mutually_exclusive_group(required=True)
    who.add_argument("--own", action="store_true", help="the school's own media (never flagged)")
    who.add_argument("--third-party", action="store_true", help="someone else's media (flagged when posted)")
    reg.add_argument("--label", default="", help="a note such as the photographer or agency")
    _config_after_action(reg)

    _add_extra_commands(sub, add)
    return top


def _config_after_action(parser: argparse.ArgumentParser) -> None:
    """Accept --config/--verbose after the action too (``hallmon alerts show 1 --config F``)."""
    parser.add_argument("--config", "-c", default=argparse.SUPPRESS, help="configuration file")
    parser.add_argument("--verbose", "-v", action="store_true", default=argparse.SUPPRESS, help="debug logging")


def _add_lifecycle_arguments(alert_sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from monitor.alerts_cli import add_lifecycle_parsers

    add_lifecycle_parsers(alert_sub)


def _add_extra_commands(sub: argparse._SubParsersAction, add: Callable[..., argparse.ArgumentParser]) -> None:  # type: ignore[type-arg]
    """Evidence, verify, report and purge commands (monitor.evidence_cli)."""
    from monitor.evidence_cli import add_commands

    COMMANDS.update(add_commands(add))


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("hallmon")
    except PackageNotFoundError:
        return "0+unknown"


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if not args.command:
        parser().print_help()
        return 2
    try:
        return COMMANDS[args.command](args)
    except ConfigError as exc:
        print(exc.report(), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
