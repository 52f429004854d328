"""``hallmon alerts ack|resolve``: the headteacher or DSL records what they did about an alert."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from monitor.app import App
from monitor.lifecycle import AlertLifecycle, Outcome
from storage.lifecycle import LifecycleError


def _config_options(parser: argparse.ArgumentParser) -> None:
    """Let --config and --verbose also follow the action (SUPPRESS keeps a value given before it)."""
    parser.add_argument("--config", "-c", default=argparse.SUPPRESS, help="configuration file")
    parser.add_argument("--verbose", "-v", action="store_true", default=argparse.SUPPRESS, help="debug logging")


def add_parsers(alert_sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``ack`` and ``resolve`` to ``hallmon alerts``."""
    ack = alert_sub.add_parser("ack", help="acknowledge an alert: you have seen it and are dealing with it")
    ack.add_argument("id", type=int, help="the alert id (from the email or `hallmon alerts list`)")
    ack.add_argument("--as", dest="as_name", required=True, metavar="NAME", help="your name, as it should appear in the custody log")
    ack.add_argument("--note", default="", help="what you are doing about it")
    resolve = alert_sub.add_parser("resolve", help="close an alert and record the outcome")
    resolve.add_argument("id", type=int, help="the alert id")
    resolve.add_argument("--as", dest="as_name", required=True, metavar="NAME", help="your name, as it should appear in the custody log")
    resolve.add_argument(
        "--outcome",
        required=True,
        choices=[o.value for o in Outcome],
        help="post-removed: the post was taken down; false-positive: nothing was wrong; actioned: dealt with otherwise",
    )
    resolve.add_argument("--note", default="", help="what was done")
    _config_options(ack)
    _config_options(resolve)


def _ack(app: App, args: argparse.Namespace) -> int:
    try:
        change = AlertLifecycle(app.database, app.clock, app.events()).acknowledge(args.id, args.as_name, args.note)
    except LifecycleError as exc:
        print(exc)
        return 1
    print(f"Alert {change.alert_id} acknowledged by {args.as_name} at {change.at:%Y-%m-%d %H:%M} UTC (was {change.before.value}).")
    print(f"When it is dealt with: hallmon alerts resolve {change.alert_id} --as \"{args.as_name}\" --outcome post-removed|false-positive|actioned")
    return 0


def _resolve(app: App, args: argparse.Namespace) -> int:
    try:
        change = AlertLifecycle(app.database, app.clock, app.events()).resolve(args.id, args.as_name, Outcome(args.outcome), args.note)
    except LifecycleError as exc:
        print(exc)
        return 1
    print(f"Alert {change.alert_id} resolved ({args.outcome}) by {args.as_name} at {change.at:%Y-%m-%d %H:%M} UTC.")
    return 0


def handlers() -> dict[str, Callable[[App, argparse.Namespace], int]]:
    """The handlers ``hallmon alerts`` dispatches to, by action name."""
    return {"ack": _ack, "resolve": _resolve}
