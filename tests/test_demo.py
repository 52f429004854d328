"""The embedded default: `hallmon demo` runs a full cycle with no network and no credentials."""

from __future__ import annotations

import os
import subprocess
import sys
from email import policy
from email.parser import BytesParser
from pathlib import Path


def test_demo_cycle_lands_the_expected_alerts_in_the_outbox(tmp_path: Path) -> None:
    output = tmp_path / "demo-output"
    # No credentials and no proxy: anything that tried the network would fail loudly.
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_TOKEN", "_API_KEY", "_PASSWORD"))}
    env.update({"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"})
    result = subprocess.run(
        [sys.executable, "-m", "monitor.cli", "demo", "--output", str(output)],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    mails = sorted((output / "outbox").glob("*.eml"))
    messages = [BytesParser(policy=policy.default).parsebytes(m.read_bytes()) for m in mails]
    by_clause = {m["X-Hallmon-Clause"]: m for m in messages}
    assert set(by_clause) == {"4.1(f)", "4.1(c)", "appendix-1"}, [m["Subject"] for m in messages]
    assert len(messages) == 3

    # A pupil named beside a photo with a face, no photo consent on the roster.
    picture = by_clause["4.1(f)"]
    assert picture["X-Hallmon-Severity"] == "critical"
    assert "Ava Thornton" in picture.get_body(("plain",)).get_content()
    # A parent's mobile number; an abusive comment about a named teacher.
    assert "07700 900123" in by_clause["4.1(c)"].get_body(("plain",)).get_content()
    abuse = by_clause["appendix-1"].get_body(("plain",)).get_content()
    assert "Hartley" in abuse and "Do not reply" in abuse

    # The clean posts raise nothing and the summary says so.
    assert "No finding (as expected) on: post ig-1002" in result.stdout
    assert "1860000000000000003" in result.stdout.split("No finding")[1]
    # Everything stays under the output folder: database, evidence, outbox.
    assert (output / "state" / "hallmon.db").is_file()
    assert any((output / "state" / "evidence").rglob("*"))

    # Looking around afterwards works with the config the demo wrote.
    listing = subprocess.run(
        [sys.executable, "-m", "monitor.cli", "alerts", "list", "--config", str(output / "hallmon.toml")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert listing.returncode == 0 and listing.stdout.count(" sent ") == 3
