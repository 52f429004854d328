"""Benchmark: what each connector costs per poll on a large account served by the local fake platform.

For an account with 500 posts and 5,000 comments it prints, per cycle: items returned, API calls,
quota units (YouTube) or billed reads (X), and wall time. Cycles: the first poll, any catch-up
polls a capped first poll leaves, then steady state with 0 new items and with 5 new items.
The goal: an unchanged account costs at most 1 YouTube unit and 0 billed X reads per poll.

Usage: python bench/connectors.py [--platform x|youtube|instagram_graph|instagram|all]

Adding a platform: write ``bench_<platform>(posts, comments) -> list[Row]`` using its test kit
(tests/fakes/<platform>_kit.py) and add it to ``PLATFORMS``.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connectors.base import Connector, ConnectorEnv
from connectors.instagram import InstaloaderConnector
from connectors.instagram_graph import InstagramGraphConnector
from monitor.domain import Account, Cursor, FetchResult, Usage
from tests.fakes import instagram_graph_kit, instagram_kit, x_kit, youtube_kit
from tests.fakes.server import FakePlatform

NOW = datetime.now(UTC).replace(microsecond=0)


@dataclass(frozen=True)
class Row:
    platform: str
    cycle: str
    items: int
    usage: Usage
    seconds: float
    cpu_seconds: float  # the polling thread only: the fake server's own work is excluded
    cursor_bytes: int


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Poller:
    """Polls one connector as the daemon would: a fresh instance per poll, the stored cursor,
    and the usage ledger summed from earlier results."""

    def __init__(self, platform: str, build: Callable[[Clock, Callable[[str], Usage]], Connector]) -> None:
        self.platform = platform
        self.build = build
        self.clock = Clock(NOW)
        self.cursor: Cursor | None = None
        self.ledger = Usage()
        self.rows: list[Row] = []

    def poll(self, label: str, minutes: int = 15) -> FetchResult:
        self.clock.now += timedelta(minutes=minutes)
        connector = self.build(self.clock, lambda _period: self.ledger)
        started, cpu = time.perf_counter(), time.thread_time()
        result = connector.fetch(self.cursor)
        elapsed, cpu = time.perf_counter() - started, time.thread_time() - cpu
        self.cursor = result.cursor
        self.ledger = self.ledger + result.usage
        self.rows.append(Row(self.platform, label, len(result.items), result.usage, elapsed, cpu, len(result.cursor.value)))
        return result

    def catch_up(self, limit: int = 20) -> None:
        """Polls until a poll returns nothing (a capped first poll resumes where it stopped)."""
        for n in range(limit):
            if not self.poll(f"catch-up {n + 1}").items:
                last = self.rows.pop()
                self.rows.append(Row(last.platform, "steady, 0 new", 0, last.usage, last.seconds, last.cpu_seconds, last.cursor_bytes))
                return


def bench_x(posts: int, comments: int) -> list[Row]:
    fake = x_kit.FakeX()
    start = NOW - timedelta(hours=12 * posts)
    made = [fake.add_post(start + timedelta(hours=12 * n), f"Post {n}: news from Oakfield", photo=n % 5 == 0) for n in range(posts)]
    per_post = comments // posts
    for n, post in enumerate(made):
        for c in range(per_post):
            author = f"14000000000{(n * per_post + c) % 997:08d}"
            fake.add_reply(start + timedelta(hours=12 * n + 1, minutes=c), post, f"@oakfieldprimary comment {c}", author)
    platform = FakePlatform()
    with platform.running():
        fake.install(platform)
        poller = Poller(
            "x",
            lambda clock, usage: x_kit.build(
                platform, clock=clock, usage=usage, options={"monthly_read_budget": "100000"}
            ),
        )
        poller.poll("first")
        poller.catch_up()
        poller.poll("steady, 0 new")
        for c in range(5):
            fake.add_reply(poller.clock.now - timedelta(minutes=5 - c), made[-1], f"@oakfieldprimary new {c}", "1400000000000000777")
        poller.poll("steady, 5 new")
        poller.poll("next (overlap)")
        poller.poll("steady, 0 new")
        poller.poll("daily deletion check", minutes=24 * 60)
    return poller.rows


def bench_youtube(posts: int, comments: int) -> list[Row]:
    fake = youtube_kit.FakeYouTube()
    start = NOW - timedelta(days=posts)
    for n in range(posts):
        fake.add_video(start + timedelta(days=n), f"Video {n}: Oakfield news", "Made by our pupils")
    # Threads of 4 comments, and every tenth a long one that needs comments.list for its replies.
    made = 0
    n = 0
    while made < comments:
        video = fake.videos[n % len(fake.videos)]
        thread = fake.add_comment(video, start + timedelta(days=n % posts, hours=1 + n // posts), f"Comment {n}", f"Parent {n % 300}")
        replies = 12 if n % 10 == 0 else 3
        for r in range(min(replies, comments - made - 1)):
            fake.add_reply(thread, start + timedelta(days=n % posts, hours=2, minutes=r), f"Reply {r}", f"Parent {r}")
        made += 1 + min(replies, comments - made - 1)
        n += 1
    platform = FakePlatform()
    with platform.running():
        fake.install(platform)
        poller = Poller("youtube", lambda clock, usage: youtube_kit.build(platform, clock=clock, usage=usage))
        poller.poll("first")
        poller.catch_up()
        poller.poll("steady, 0 new")
        # One probe a poll, in rotation: a change is seen within two polls.
        for c in range(5):
            fake.add_comment(fake.videos[c], poller.clock.now - timedelta(minutes=1), f"New comment {c}", "Parent New")
        poller.poll("5 new comments, poll 1")
        poller.poll("5 new comments, poll 2")
        for c in range(5):
            fake.add_video(poller.clock.now - timedelta(minutes=5 - c), f"New video {c}")
        poller.poll("5 new videos, poll 1")
        poller.poll("5 new videos, poll 2")
        poller.poll("steady, 0 new")
        # Once a day each probe reads everything: late replies, old edits, deletions.
        poller.poll("daily deep sweep, poll 1", minutes=24 * 60)
        poller.poll("daily deep sweep, poll 2", minutes=15)
    return poller.rows


def _graph_account(posts: int, comments: int) -> instagram_graph_kit.FakeGraph:
    fake = instagram_graph_kit.FakeGraph(now=NOW)
    start = NOW - timedelta(hours=12 * posts)
    made = [
        fake.add_post(start + timedelta(hours=12 * n), f"Post {n}: news from Oakfield", kind="CAROUSEL_ALBUM" if n % 10 == 0 else "IMAGE")
        for n in range(posts)
    ]
    per_post = comments // posts
    for n, post in enumerate(made):
        for c in range(per_post):
            comment = fake.add_comment(post, start + timedelta(hours=12 * n + 1, minutes=c), f"Comment {c}", f"parent.{(n * per_post + c) % 300}")
            if c % 5 == 4:
                fake.add_reply(post, comment, start + timedelta(hours=12 * n + 2, minutes=c), "Thank you", instagram_graph_kit.SCHOOL)
    return fake


def bench_instagram_graph(posts: int, comments: int) -> list[Row]:
    fake = _graph_account(posts, comments)
    platform = FakePlatform()
    with platform.running():
        fake.install(platform)

        def build(clock: Clock, usage: Callable[[str], Usage]) -> Connector:
            env = ConnectorEnv(secret=fake.secrets.get, clock=clock, save_secret=fake.secrets.__setitem__,
                               timeout_seconds=30.0, usage_so_far=usage)
            account = Account("instagram_graph", instagram_graph_kit.SCHOOL, options={"api_base_url": platform.base_url})
            return InstagramGraphConnector(account, env)

        poller = Poller("instagram_graph", build)
        poller.poll("first (with token refresh)")
        poller.catch_up()
        _instagram_steady_state(poller, fake)
    return poller.rows


def _instagram_steady_state(poller: Poller, fake: Any) -> None:
    """The same script for both Instagram connectors: unchanged, 5 new comments, 5 new posts, daily sweep."""
    poller.poll("steady, 0 new")
    newest = fake.media[0]
    for c in range(5):
        fake.add_comment(newest, poller.clock.now - timedelta(minutes=5 - c), f"New comment {c}", "parent.new")
    poller.poll("5 new comments")
    for c in range(5):
        fake.add_post(poller.clock.now - timedelta(minutes=5 - c), f"New post {c}")
    poller.poll("5 new posts")
    poller.poll("steady, 0 new")
    poller.poll("daily full sweep", minutes=24 * 60)


def bench_instagram(posts: int, comments: int) -> list[Row]:
    fake = instagram_kit.FakeWeb(now=NOW)
    start = NOW - timedelta(hours=12 * posts)
    made = [fake.add_post(start + timedelta(hours=12 * n), f"Post {n}: news from Oakfield", kind="album" if n % 10 == 0 else "image") for n in range(posts)]
    per_post = comments // posts
    for n, post in enumerate(made):
        for c in range(per_post):
            comment = fake.add_comment(post, start + timedelta(hours=12 * n + 1, minutes=c), f"Comment {c}", f"parent.{(n * per_post + c) % 300}")
            if c % 5 == 4:
                fake.add_reply(post, comment, start + timedelta(hours=12 * n + 2, minutes=c), "Thank you", instagram_kit.SCHOOL)
    platform = FakePlatform()
    with platform.running():
        fake.install(platform)
        state = instagram_kit.state_dir()

        def build(clock: Clock, usage: Callable[[str], Usage]) -> Connector:
            env = ConnectorEnv(clock=clock, state_dir=state, timeout_seconds=30.0, usage_so_far=usage)
            options = {"web_base_url": platform.base_url, "mobile_base_url": platform.base_url}
            return InstaloaderConnector(Account("instagram", instagram_kit.SCHOOL, options=options), env)

        # instaloader's own rate controller ends a poll early (it never sleeps here): catch-up polls
        # show how many polls a first read of a large account takes.
        poller = Poller("instagram", build)
        poller.poll("first")
        poller.catch_up()
        _instagram_steady_state(poller, fake)
    return poller.rows


PLATFORMS: dict[str, Callable[[int, int], list[Row]]] = {
    "x": bench_x,
    "youtube": bench_youtube,
    "instagram_graph": bench_instagram_graph,
    "instagram": bench_instagram,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--platform", default="all", choices=["all", *PLATFORMS])
    parser.add_argument("--posts", type=int, default=500)
    parser.add_argument("--comments", type=int, default=5000)
    args = parser.parse_args()
    chosen = PLATFORMS if args.platform == "all" else {args.platform: PLATFORMS[args.platform]}
    print(f"account: {args.posts} posts, {args.comments} comments (local fake platform)")
    print("wall ms includes the local fake server; cpu ms is the connector's polling thread alone")
    print(f"{'platform':<15} {'cycle':<34} {'items':>6} {'calls':>6} {'units':>6} {'billed':>7} {'wall ms':>8} {'cpu ms':>7} {'cursor':>7}")
    for bench in chosen.values():
        for row in bench(args.posts, args.comments):
            u = row.usage
            print(
                f"{row.platform:<15} {row.cycle:<34} {row.items:>6} {u.api_calls:>6} {u.quota_units:>6} "
                f"{u.billed_reads:>7} {row.seconds * 1000:>8.0f} {row.cpu_seconds * 1000:>7.0f} {row.cursor_bytes:>7}"
            )


if __name__ == "__main__":
    main()
