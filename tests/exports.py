"""Builds archive-connector export folders and configs for tests (invented names only)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import write_config


def post(post_id: str, text: str, comments: list[dict[str, Any]] | None = None, media: list[str] | None = None) -> dict[str, Any]:
    return {
        "id": post_id,
        "text": text,
        "author": "testschool",
        "created_at": "2026-11-20T10:00:00Z",
        "permalink": f"https://example.invalid/p/{post_id}",
        "media": [{"file": m, "kind": "image"} for m in (media or [])],
        "comments": comments or [],
    }


def comment(comment_id: str, text: str, author: str = "member.of.public") -> dict[str, Any]:
    return {"id": comment_id, "text": text, "author": author, "created_at": "2026-11-20T11:00:00Z"}


def write_export(folder: Path, posts: list[dict[str, Any]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "posts.json").write_text(json.dumps({"posts": posts}), encoding="utf-8")
    return folder


def archive_config(directory: Path, database_url: str, exports: dict[str, Path], extra: str = "") -> Path:
    accounts = "".join(
        f"""
[[accounts]]
platform = "archive"
handle = "{handle}"
poll_minutes = 5
options = {{ path = "{path}" }}
"""
        for handle, path in exports.items()
    )
    return write_config(
        directory,
        f"""
[school]
name = "Test Primary School"
domain = "test.invalid"
phones = ["0151 496 0999"]

[storage]
state_dir = "{directory / 'state'}"
database_url = "{database_url}"

[alerts]
min_severity = "high"
recipients = ["head@test.invalid"]
from = "monitor@test.invalid"
{extra}
{accounts}
""",
    )
