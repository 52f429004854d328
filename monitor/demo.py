"""``hallmon demo``: a complete monitoring cycle with no credentials and no network.

Bundled demo accounts (exports read by the archive connector, invented names, public-domain or
generated images), a SQLite database and evidence store under the output folder, and alert emails
written as .eml files to ``<output>/outbox`` instead of being sent.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from monitor.app import App
from monitor.config import load_settings
from monitor.daemon import Daemon
from monitor.school_cli import import_roster
from storage.outbox import Outbox
from storage.repository import Repository

MARKER = ".hallmon-demo"
DEMO_DATA = Path(__file__).resolve().parent / "demo_data"

DEMO_CONFIG = """\
# Written by `hallmon demo`. Use it to look around afterwards, for example:
#   hallmon alerts list --config {output}/hallmon.toml
#   hallmon alerts show 1 --config {output}/hallmon.toml
log_level = "WARNING"

[school]
name = "St Mary's Demo Primary School"
other_names = ["St Mary's", "St Marys"]
domain = "demo.hallmon.invalid"
phones = ["0151 496 0000"]
emails = ["office@stmarys-demo.invalid"]
websites = ["https://stmarys-demo.invalid"]

[storage]
state_dir = "state"

[alerts]
min_severity = "high"
recipients = ["headteacher@stmarys-demo.invalid"]
from = "hall-monitor@stmarys-demo.invalid"
outbox_dir = "outbox"

[[accounts]]
platform = "archive"
handle = "demo-instagram"
display_name = "St Mary's on Instagram (demo export)"
poll_minutes = 15
options = {{ path = "exports/instagram", source_platform = "instagram" }}

[[accounts]]
platform = "archive"
handle = "demo-x"
display_name = "St Mary's on X (demo export)"
poll_minutes = 15
options = {{ path = "exports/x", source_platform = "x" }}
"""


def prepare(output: Path) -> Path:
    """Lay out a fresh demo folder (only ever deleting a folder an earlier demo made)."""
    if output.exists():
        if not (output / MARKER).exists() and any(output.iterdir()):
            raise SystemExit(f"{output} exists and was not made by `hallmon demo`; choose another --output")
        shutil.rmtree(output)
    output.mkdir(parents=True)
    (output / MARKER).write_text("made by hallmon demo\n")
    data = DEMO_DATA
    for account in ("instagram", "x"):
        shutil.copytree(data / "accounts" / account, output / "exports" / account)
    shutil.copytree(data / "images", output / "exports" / "instagram" / "images", ignore=shutil.ignore_patterns("*.md"))
    config = output / "hallmon.toml"
    config.write_text(DEMO_CONFIG.format(output=output))
    return config


def run_demo(output: Path) -> int:
    started = time.monotonic()
    output = output.resolve()
    config = prepare(output)
    from connectors.registry import available_connectors

    settings = load_settings(config, set(available_connectors()))
    # The demo is self-contained: it must not pick up a real school's database or secrets.
    app = App.build(settings, environ={})
    data = DEMO_DATA
    import_roster(app, data / "pupils.csv", "pupils")
    import_roster(app, data / "staff.csv", "staff")
    report = Daemon(app).cycle_once()
    with app.database.sessions() as session:
        outbox = Outbox(session, Repository(session, app.evidence))
        summaries = outbox.list(limit=100)
        loaded = [outbox.load(s.id) for s in sorted(summaries, key=lambda s: s.id)]
        clean = [
            f"post {item.external_id} ({_short(item.text, 40)})"
            for item in Repository(session, app.evidence).posts_without_findings()
        ]
    app.close()
    elapsed = time.monotonic() - started

    print()
    print("Hall Monitor demo: one full monitoring cycle on two bundled demo accounts")
    print("=" * 74)
    for poll in report.polls:
        print(f"  polled {poll.account_key}: {poll.items_new} item(s) captured as evidence")
    print(f"  scanned {report.scan.items} item(s): {report.scan.findings} finding(s), {len(report.scan.alerts)} alert(s) for the headteacher")
    print()
    for alert in loaded:
        finding = alert.finding.finding
        item = alert.item.item
        print(f"  ALERT {alert.id} [{finding.severity.upper()}] clause {finding.clause} - {finding.category}")
        print(f"      {item.kind} {item.external_id} on {item.platform}: {_short(item.text)}")
        print(f"      {finding.evidence.explanation}")
    if clean:
        print()
        print("  No finding (as expected) on: " + "; ".join(clean))
    print()
    print(f"  Alert emails (.eml) written to: {settings.alerts.outbox_dir}")
    print(f"  Database and evidence: {settings.state_dir}")
    print(f"  Look around: hallmon alerts list --config {config}")
    print(f"  Demo finished in {elapsed:.1f} s.")
    return 0


def _short(text: str, limit: int = 70) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
