"""``hallmon check``: the real command in a subprocess, JSON Lines in and out."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HALLMON = [sys.executable, "-m", "monitor.cli"]


def run_check(args: list[str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([*HALLMON, "check", *args], input=stdin, capture_output=True, text=True, timeout=300)


def test_jsonl_keeps_order_and_reports_bad_lines_without_stopping(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": "a", "kind": "post", "text": "Please call Sam's mum on 07700 900123 about the coat."}),
        "this is not json",
        json.dumps({"id": "b", "kind": "comment", "text": 42}),
        json.dumps({"id": "c", "kind": "post", "text": "Our library is open on Thursdays."}),
        json.dumps({"id": "d", "kind": "post", "text": "Look", "media": [str(tmp_path / "missing.jpg")]}),
        json.dumps({"id": "e", "kind": "tweet", "text": "x"}),
    ]
    result = run_check(["--jsonl", "-"], "\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == ["a", "line-2", "b", "c", "d", "e"]
    phone = [f for f in out[0]["findings"] if f["clause"] == "4.1(c)"]
    assert phone and phone[0]["category"].startswith("personal_data.")
    start, end = phone[0]["spans"][0]
    assert "900123" in json.loads(lines[0])["text"][start:end]
    assert set(phone[0]) == {"clause", "category", "severity", "confidence", "detector", "spans", "regions", "explanation"}
    assert "@" in phone[0]["detector"]
    assert out[1]["errors"] and "JSONDecodeError" in out[1]["errors"][0]
    assert out[2]["errors"] == ["BadInput: 'text' must be a string"]
    assert out[3]["findings"] == [] and out[3]["errors"] == []
    assert any("media file not found" in e for e in out[4]["errors"])
    assert out[5]["errors"] == ["BadInput: 'kind' must be 'post', 'comment' or 'reply'"]


def test_human_check_of_a_draft_post(tmp_path: Path) -> None:
    draft = tmp_path / "draft.json"
    draft.write_text(json.dumps({"id": "draft-1", "kind": "post", "text": "Ring Mrs Patel's mobile 07700 900456 for tickets"}))
    result = run_check([str(draft)])
    assert result.returncode == 1, result.stderr
    assert "draft-1" in result.stdout and "clause 4.1(c)" in result.stdout and "[HIGH]" in result.stdout

    clean = tmp_path / "clean.json"
    clean.write_text(json.dumps({"id": "draft-2", "kind": "post", "text": "Happy half term, everyone!"}))
    result = run_check([str(clean)])
    assert result.returncode == 0 and "no problems found" in result.stdout


def test_plugins_lists_every_connector_and_detector() -> None:
    result = subprocess.run([*HALLMON, "plugins"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    kinds = {(row[0], row[1]) for row in rows}
    assert ("connector", "archive") in kinds
    assert ("detector", "personal_data") in kinds and ("detector", "abuse") in kinds
    assert all(len(row) == 4 and row[2] for row in rows)


def test_help_everywhere() -> None:
    for args in (["--help"], ["run", "--help"], ["alerts", "--help"], ["check", "--help"], ["roster", "import", "--help"]):
        result = subprocess.run(HALLMON + args, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0 and "usage:" in result.stdout, args
