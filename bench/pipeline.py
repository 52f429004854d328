"""Benchmark: the whole spine on a generated archive export (no network).

Prints items/s for ingest+capture and for scanning with the real built-in detectors, alerts queued
and delivered to the local outbox, and peak memory. Usage: python bench/pipeline.py [--posts N]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connectors.registry import available_connectors
from monitor.app import App
from monitor.config import load_settings

COMMENTS = [
    "Lovely photos, well done everyone!",
    "What time does the fair start on Saturday?",
    "Mr Hartley is a useless idiot and should be sacked",
    "Can't wait for the nativity play",
    "My number is 07700 900321 if anyone found a blue coat",
]


def make_export(folder: Path, posts: int, comments_per_post: int) -> None:
    folder.mkdir(parents=True)
    data = []
    for p in range(posts):
        data.append(
            {
                "id": f"p{p}",
                "text": f"Class {p % 7} enjoyed their trip to the museum today. Post number {p}.",
                "created_at": "2026-11-20T10:00:00Z",
                "comments": [
                    {"id": f"p{p}c{c}", "author": f"parent{c}", "text": COMMENTS[(p + c) % len(COMMENTS)], "created_at": "2026-11-20T11:00:00Z"}
                    for c in range(comments_per_post)
                ],
            }
        )
    (folder / "posts.json").write_text(json.dumps({"posts": data}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--comments", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_export(root / "export", args.posts, args.comments)
        config = root / "hallmon.toml"
        config.write_text(
            f'[storage]\nstate_dir = "{root / "state"}"\n[alerts]\nrecipients = ["head@bench.invalid"]\n'
            f'[[accounts]]\nplatform = "archive"\nhandle = "bench"\noptions = {{ path = "{root / "export"}" }}\n'
        )
        app = App.build(load_settings(config, set(available_connectors())), environ={})
        pipeline = app.pipeline()
        entry = app.connect_accounts()[0]
        assert entry.connector is not None
        total = args.posts * (1 + args.comments)
        t0 = time.perf_counter()
        poll = pipeline.poll(entry.account, entry.connector)
        t1 = time.perf_counter()
        scan = pipeline.scan_pending()
        t2 = time.perf_counter()
        sent = app.sender().send_due()
        t3 = time.perf_counter()
        again = pipeline.poll(entry.account, entry.connector)
        t4 = time.perf_counter()
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"pipeline benchmark: {args.posts} posts x {args.comments} comments = {total} items (SQLite, {app.database.dialect})")
        print(f"  ingest + evidence capture: {poll.items_new} items in {t1 - t0:.2f} s = {poll.items_new / (t1 - t0):.0f} items/s")
        print(f"  scan (all built-in detectors): {scan.items} items in {t2 - t1:.2f} s = {scan.items / (t2 - t1):.0f} items/s; {scan.findings} findings, {len(scan.alerts)} alerts")
        print(f"  alert emails composed and written: {len(sent.sent)} in {t3 - t2:.2f} s")
        print(f"  unchanged re-poll: {again.items_new} new items in {t4 - t3:.2f} s")
        print(f"  peak RSS: {peak_mb:.0f} MB")
        app.close()


if __name__ == "__main__":
    main()
