"""Benchmark: what the two Instagram connectors cost per poll on a large account (local fake platform).

For an account with 500 posts and 5,000 comments it prints, per cycle: items returned, API calls
(HTTP requests), wall time and the cursor's size. Cycles: the first poll, catch-up polls where the
first one stopped early, steady state with 0 and with 5 new items, and the daily full listing.
Instagram has no quota units or billed reads; its limits are calls per hour (Graph API) and
instaloader's own request pacing, so API calls are the cost.

Usage: python bench/connectors_instagram.py [--platform instagram_graph|instagram|all]

The timeout is generous (60 s) so a busy machine measures slowly rather than failing a poll.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connectors.base import Connector
from monitor.domain import Cursor, FetchResult, Usage
from tests.fakes import instagram_graph_kit as graph_kit
from tests.fakes import instagram_kit as web_kit
from tests.fakes.server import FakePlatform


@dataclass(frozen=True)
class Row:
    platform: str
    cycle: str
    items: int
    usage: Usage
    seconds: float
    cursor_bytes: int


class Poller:
    """Polls like the daemon: the stored cursor in, the clock moved on between polls."""

    def __init__(self, platform: str, build: Callable[[], Connector], advance: Callable[[timedelta], None]) -> None:
        self.platform = platform
        self.build = build
        self.advance = advance
        self.connector = build()
        self.cursor: Cursor | None = None
        self.rows: list[Row] = []

    def poll(self, label: str, minutes: int = 15, fresh: bool = False) -> FetchResult:
        self.advance(timedelta(minutes=minutes))
        if fresh:
            self.connector = self.build()
        started = time.perf_counter()
        result = self.connector.fetch(self.cursor)
        elapsed = time.perf_counter() - started
        self.cursor = result.cursor
        self.rows.append(Row(self.platform, label, len(result.items), result.usage, elapsed, len(result.cursor.value)))
        return result


def bench_graph(posts: int, comments: int) -> list[Row]:
    fake = graph_kit.FakeGraph()
    start = fake.now - timedelta(days=posts)
    made = [
        fake.add_post(
            start + timedelta(days=n), f"Post {n}: news from Oakfield", kind="CAROUSEL_ALBUM" if n % 7 == 0 else "IMAGE"
        )
        for n in range(posts)
    ]
    per_post = comments // posts
    for n, post in enumerate(made):
        for c in range(per_post):
            fake.add_comment(post, start + timedelta(days=n, hours=1, minutes=c), f"Comment {c}", f"parent.{c}")
    platform = FakePlatform()
    with platform.running():
        fake.install(platform)

        def advance(delta: timedelta) -> None:
            fake.now += delta

        poller = Poller("graph", lambda: graph_kit.connector(platform, fake, timeout=60.0, page_size="50"), advance)
        poller.poll("first (token refresh, full listing)")
        for n in range(20):  # max_calls_per_poll spreads the first read over polls
            if poller.poll(f"catch-up {n + 1}").items == ():
                poller.rows.pop()
                break
        poller.poll("steady, 0 new")
        for c in range(3):
            fake.add_comment(made[-1 - c], fake.now, f"New comment {c}", "parent.new")
        fake.add_post(fake.now, "New post 1")
        fake.add_post(fake.now, "New post 2")
        poller.poll("steady, 5 new (2 posts, 3 comments)")
        poller.poll("steady, 0 new")
        poller.poll("daily full listing", minutes=24 * 60)
    return poller.rows


def bench_instaloader(posts: int, comments: int) -> list[Row]:
    fake = web_kit.FakeWeb()
    start = fake.now - timedelta(days=posts)
    made = [
        fake.add_post(
            start + timedelta(days=n), f"Post {n}: news from Oakfield", kind="album" if n % 7 == 0 else "image"
        )
        for n in range(posts)
    ]
    per_post = comments // posts  # at most 12 a post: instaloader reads those with one GraphQL query
    for n, post in enumerate(made):
        for c in range(per_post):
            fake.add_comment(post, start + timedelta(days=n, hours=1, minutes=c), f"Comment {c}", f"parent.{c}")
    platform = FakePlatform()
    with platform.running():
        fake.install(platform)
        state = web_kit.state_dir()

        def advance(delta: timedelta) -> None:
            fake.now += delta

        poller = Poller("instaloader", lambda: web_kit.connector(platform, fake, state=state, timeout=60.0), advance)
        poller.poll("first (comment reads capped per poll)")
        # Polls here follow each other at once, so instaloader's own real-time pacing (about 275
        # queries in ten minutes) would stop them; a new instance stands in for the 15 minutes.
        for n in range(30):
            if poller.poll(f"catch-up {n + 1}", fresh=True).items == ():
                poller.rows.pop()
                break
        poller.poll("steady, 0 new", fresh=True)
        poller.poll("steady, 0 new (same instance)")
        for c in range(3):
            fake.add_comment(made[-1 - c], fake.now, f"New comment {c}", "parent.new")
        fake.add_post(fake.now, "New post 1")
        fake.add_post(fake.now, "New post 2")
        poller.poll("steady, 5 new (2 posts, 3 comments)")
        poller.poll("steady, 0 new")
        poller.poll("daily full listing", minutes=24 * 60, fresh=True)
    return poller.rows


PLATFORMS: dict[str, Callable[[int, int], list[Row]]] = {"instagram_graph": bench_graph, "instagram": bench_instaloader}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--platform", default="all", choices=["all", *PLATFORMS])
    parser.add_argument("--posts", type=int, default=500)
    parser.add_argument("--comments", type=int, default=5000)
    args = parser.parse_args()
    chosen = PLATFORMS if args.platform == "all" else {args.platform: PLATFORMS[args.platform]}
    print(f"account: {args.posts} posts, {args.comments} comments (local fake platform)")
    print(f"{'connector':<12} {'cycle':<44} {'items':>6} {'calls':>6} {'wall ms':>8} {'cursor':>8}")
    for bench in chosen.values():
        for row in bench(args.posts, args.comments):
            print(
                f"{row.platform:<12} {row.cycle:<44} {row.items:>6} {row.usage.api_calls:>6} "
                f"{row.seconds * 1000:>8.0f} {row.cursor_bytes:>8}"
            )


if __name__ == "__main__":
    main()
