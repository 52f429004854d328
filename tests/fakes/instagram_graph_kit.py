"""A fake Instagram API (graph.instagram.com) on the local FakePlatform.

Media, comments and replies are built from the recorded Graph responses in
tests/fixtures/instagram/ (same fields, same nesting, same paging block with the access token
echoed in ``paging.next``), with fresh ids and invented captions, so the connector's real httpx
client reads exactly the shapes Instagram sends.
"""

from __future__ import annotations

import copy
import json
import weakref
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from connectors.base import ConnectorEnv
from connectors.instagram_graph import InstagramGraphConnector
from monitor.domain import Account
from tests.fakes.contract import PlatformKit
from tests.fakes.kit_support import error_answer
from tests.fakes.server import FakePlatform, Request, Response

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "instagram"
SCHOOL = "oakfield.primary"
TOKEN = "IGQtest-long-lived-token-not-real-0001"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def graph_time(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


@dataclass
class FakeGraph:
    """The state of one Instagram professional account as the fake API serves it."""

    now: datetime = NOW
    media: list[dict[str, Any]] = field(default_factory=list)  # newest first
    comments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # media id -> comments
    replies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # comment id -> replies
    tokens: set[str] = field(default_factory=lambda: {TOKEN})
    secrets: dict[str, str] = field(default_factory=lambda: {"INSTAGRAM_ACCESS_TOKEN": TOKEN})
    refreshes: int = 0
    inline_replies: int = 2
    seq: int = 0

    # --- building the account ---

    def _id(self, prefix: str) -> str:
        self.seq += 1
        return f"{prefix}{self.seq:011d}"

    def add_post(self, when: datetime, caption: str, kind: str = "IMAGE") -> dict[str, Any]:
        page1, page2 = fixture("medias_p1.json")["data"], fixture("medias_p2.json")["data"]
        node: dict[str, Any]
        if kind == "CAROUSEL_ALBUM":
            node = copy.deepcopy(page2[0])  # the recorded album: two images and a video
            for child in node["children"]["data"]:
                child["id"] = self._id("1790")
        elif kind == "VIDEO":
            node = copy.deepcopy(page2[0]["children"]["data"][2])  # the recorded video, thumbnail and all
        else:
            node = copy.deepcopy(page1[0])
        node.update(id=self._id("1789"), caption=caption, timestamp=graph_time(when), comments_count=0)
        node["permalink"] = f"https://www.instagram.com/p/Fake{self.seq}/"
        node.pop("shortcode", None)
        self.media.insert(0, node)
        self.media.sort(key=lambda m: m["timestamp"], reverse=True)
        self.comments[node["id"]] = []
        return node

    def add_comment(self, post: dict[str, Any], when: datetime, text: str, username: str) -> dict[str, Any]:
        comment = dict(
            fixture("comments_p1.json")["data"][0],
            id=self._id("1785"),
            text=text,
            timestamp=graph_time(when),
            username=username,
        )
        self.comments[post["id"]].insert(0, comment)
        self.replies[comment["id"]] = []
        post["comments_count"] += 1
        return comment

    def add_reply(
        self, post: dict[str, Any], comment: dict[str, Any], when: datetime, text: str, username: str
    ) -> dict[str, Any]:
        reply = dict(
            fixture("replies.json")["data"][0],
            id=self._id("1784"),
            text=text,
            timestamp=graph_time(when),
            username=username,
        )
        self.replies[comment["id"]].append(reply)
        post["comments_count"] += 1
        return reply

    def edit(self, post: dict[str, Any], caption: str) -> None:
        post["caption"] = caption

    def delete(self, post: dict[str, Any]) -> None:
        self.media.remove(post)

    def delete_comment(self, post: dict[str, Any], comment: dict[str, Any]) -> None:
        self.comments[post["id"]].remove(comment)
        post["comments_count"] -= 1 + len(self.replies.pop(comment["id"], []))

    # --- serving ---

    def install(self, platform: FakePlatform) -> None:
        _FAKES[platform] = self
        platform.route("GET", "/", lambda request: self._serve(platform, request))

    def _serve(self, platform: FakePlatform, request: Request) -> Response:
        parts = request.path.strip("/").split("/")
        if parts and parts[0].startswith("v") and "." in parts[0]:
            parts = parts[1:]  # an api_version prefix such as v22.0
        token = request.arg("access_token")
        if token not in self.tokens:
            return Response.json(
                {
                    "error": {
                        "message": "Invalid OAuth access token - Cannot parse access token",
                        "type": "OAuthException",
                        "code": 190,
                        "fbtrace_id": "AbCdEf",
                    }
                },
                400,
            )
        if parts == ["refresh_access_token"]:
            self.refreshes += 1
            new = f"IGQtest-refreshed-{self.refreshes:04d}-not-real"
            self.tokens.add(new)
            return Response.json({"access_token": new, "token_type": "bearer", "expires_in": 5184000})
        if len(parts) == 2 and parts[1] == "media":
            return self._page(platform, request, self.media, request.path)
        if len(parts) == 2 and parts[1] == "comments" and parts[0] in self.comments:
            nodes = [self._with_replies(platform, c, request) for c in self.comments[parts[0]]]
            return self._page(platform, request, nodes, request.path)
        if len(parts) == 2 and parts[1] == "replies" and parts[0] in self.replies:
            return self._page(platform, request, self.replies[parts[0]], request.path)
        return Response.json(
            {
                "error": {
                    "message": "Unsupported get request.",
                    "type": "GraphMethodException",
                    "code": 100,
                    "error_subcode": 33,
                }
            },
            400,
        )

    def _with_replies(self, platform: FakePlatform, comment: dict[str, Any], request: Request) -> dict[str, Any]:
        replies = self.replies.get(comment["id"], [])
        if "replies{" not in request.arg("fields") or not replies:
            return comment
        block: dict[str, Any] = {"data": replies[: self.inline_replies]}
        if len(replies) > self.inline_replies:
            block["paging"] = {
                "cursors": {"before": "0", "after": str(self.inline_replies)},
                "next": f"https://graph.instagram.com/{comment['id']}/replies?access_token={request.arg('access_token')}"
                f"&after={self.inline_replies}",
            }
        return dict(comment, replies=block)

    def _page(self, platform: FakePlatform, request: Request, nodes: list[dict[str, Any]], path: str) -> Response:
        start = int(request.arg("after", "0") or 0)
        limit = int(request.arg("limit", "25") or 25)
        chunk = nodes[start : start + limit]
        body: dict[str, Any] = {"data": chunk}
        if chunk:
            body["paging"] = {"cursors": {"before": str(start), "after": str(start + len(chunk))}}
            if start + len(chunk) < len(nodes):
                # As recorded: the next link carries the caller's access token.
                body["paging"]["next"] = (
                    f"https://graph.instagram.com{path}?access_token={request.arg('access_token')}"
                    f"&limit={limit}&after={start + len(chunk)}"
                )
        return Response.json(body)


_FAKES: weakref.WeakKeyDictionary[FakePlatform, FakeGraph] = weakref.WeakKeyDictionary()


def school_account(fake: FakeGraph) -> None:
    """A small recorded-shape account: five posts (album, video) over two pages, comments, replies."""
    day = timedelta(days=1)
    first = fake.add_post(NOW - 40 * day, "Welcome back to the autumn term at Oakfield!")
    fake.add_post(NOW - 30 * day, "Harvest festival photos", kind="CAROUSEL_ALBUM")
    video = fake.add_post(NOW - 3 * day, "Year 4 assembly rehearsal", kind="VIDEO")
    fake.add_post(NOW - 2 * day, "Lunch menu for next week")
    news = fake.add_post(NOW - day, "Sports day is on Friday. Bring a water bottle.")
    c1 = fake.add_comment(first, NOW - 39 * day, "Lovely to see everyone back", "parent.larkin")
    fake.add_reply(first, c1, NOW - 38 * day, "Thank you!", SCHOOL)
    fake.add_comment(video, NOW - 2 * day, "Great singing", "grandad.peverell")
    c3 = fake.add_comment(news, NOW - day + timedelta(hours=2), "What time does it start?", "mum.of.two")
    for n in range(3):
        fake.add_reply(news, c3, NOW - day + timedelta(hours=3 + n), f"Reply {n}", "parent.quill")


def connector(
    platform: FakePlatform, fake: FakeGraph | None = None, timeout: float = 10.0, **options: str
) -> InstagramGraphConnector:
    """The real connector pointed at the fake platform, with the fake's clock and secret store."""
    fake = fake or _FAKES.get(platform) or FakeGraph()
    env = ConnectorEnv(
        secret=fake.secrets.get,
        clock=lambda: fake.now,
        save_secret=fake.secrets.__setitem__,
        timeout_seconds=timeout,
    )
    opts = {"api_base_url": platform.base_url, "page_size": "2", **options}
    return InstagramGraphConnector(Account("instagram_graph", SCHOOL, options=opts), env)


def serve_school(platform: FakePlatform) -> FakeGraph:
    """The school's account (see ``school_account``) served on the fake platform."""
    fake = FakeGraph()
    school_account(fake)
    fake.install(platform)
    return fake


def _serve_account(platform: FakePlatform) -> None:
    serve_school(platform)


def _serve_error(platform: FakePlatform, status: int, body: bytes, headers: dict[str, str]) -> None:
    _FAKES.setdefault(platform, FakeGraph())
    platform.route("GET", "/", lambda _request: error_answer(status, body, headers))


def _build_unconfigured() -> InstagramGraphConnector:
    return InstagramGraphConnector(Account("instagram_graph", SCHOOL), ConnectorEnv())


KIT = PlatformKit(
    platform="instagram_graph",
    serve_account=_serve_account,
    serve_error=_serve_error,
    build=lambda platform: connector(platform),
    build_unconfigured=_build_unconfigured,
)
