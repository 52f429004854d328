"""A fake YouTube Data API v3 on the local FakePlatform: channel, uploads, videos, comments.

Resources are built from the recorded responses in tests/fixtures/youtube/ (same fields, same
nesting) with invented titles, names and texts, and served with ETags and 304s like YouTube.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from connectors.base import ConnectorEnv
from connectors.youtube import YouTubeConnector
from monitor.domain import Account
from tests.fakes.contract import PlatformKit
from tests.fakes.kit_support import error_answer
from tests.fakes.server import FakePlatform, Request, Response

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "youtube"
CHANNEL_ID = "UCoakfield0000000000000a"
UPLOADS = "UUoakfield0000000000000a"
API_KEY = "test-api-key-not-real"
ACCESS_TOKEN = "test-access-token-not-real"
INLINE_REPLIES = 5  # YouTube inlines only a few replies in a comment thread


def _author_channel(author: str) -> str:
    return "UCuser" + hashlib.sha1(author.encode()).hexdigest()[:16]


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _error(name: str, status: int) -> Response:
    return Response.json(fixture(name), status)


def quota_error() -> Response:
    body = {"error": {"code": 403, "message": "The request cannot be completed because you have exceeded your quota.",
                      "errors": [{"message": "quota", "domain": "youtube.quota", "reason": "quotaExceeded"}]}}
    return Response.json(body, 403)


@dataclass
class FakeYouTube:
    """The state of one channel as the fake API serves it."""

    videos: list[dict[str, Any]] = field(default_factory=list)  # newest first
    threads: list[dict[str, Any]] = field(default_factory=list)  # each with "_replies" and "_status"
    all_threads_refused: bool = False
    page_cap: int = 0  # serve at most this many resources a page (0: as asked), to force paging
    seq: int = 0

    # --- building the channel ---

    def add_video(self, when: datetime, title: str, description: str = "", licensed: bool = False) -> dict[str, Any]:
        self.seq += 1
        video = copy.deepcopy(fixture("videos_info_single.json")["items"][0])
        video_id = f"vid{self.seq:08d}"
        video["id"] = video_id
        snippet = video["snippet"]
        snippet.update(
            publishedAt=_iso(when), channelId=CHANNEL_ID, title=title, description=description,
            channelTitle="Oakfield Primary", tags=[],
        )
        snippet.pop("localized", None)
        for size in snippet["thumbnails"].values():
            size["url"] = size["url"].replace("D-lhorsDlUQ", video_id)
        video["contentDetails"] = {**fixture("video_content_details.json"), "licensedContent": licensed}
        video["status"] = fixture("video_status.json")
        video["etag"] = self._etag(video["snippet"])
        self.videos.insert(0, video)
        return video

    def edit_video(self, video: dict[str, Any], title: str) -> None:
        video["snippet"]["title"] = title
        video["etag"] = self._etag(video["snippet"])

    def delete_video(self, video: dict[str, Any]) -> None:
        self.videos.remove(video)

    def add_comment(self, video: dict[str, Any], when: datetime, text: str, author: str, status: str = "published") -> dict[str, Any]:
        self.seq += 1
        thread = copy.deepcopy(fixture("comment_threads_by_video_paged_1.json")["items"][1])
        thread_id = f"Ugthread{self.seq:08d}"
        thread["id"] = thread_id
        thread["snippet"]["videoId"] = video["id"]
        thread["snippet"]["channelId"] = CHANNEL_ID
        top = thread["snippet"]["topLevelComment"]
        top["id"] = thread_id
        top["snippet"].update(
            authorDisplayName=author, authorChannelId={"value": _author_channel(author)},
            videoId=video["id"], textDisplay=text, textOriginal=text, publishedAt=_iso(when), updatedAt=_iso(when),
        )
        thread["_replies"] = []
        thread["_status"] = status
        self._sync(thread)
        self.threads.insert(0, thread)
        return thread

    def add_reply(self, thread: dict[str, Any], when: datetime, text: str, author: str) -> dict[str, Any]:
        self.seq += 1
        reply = copy.deepcopy(fixture("comments_by_parent_paged_1.json")["items"][0])
        reply["id"] = f"{thread['id']}.r{self.seq:06d}"
        reply["snippet"].update(
            authorDisplayName=author, authorChannelId={"value": _author_channel(author)},
            textDisplay=text, textOriginal=text, parentId=thread["id"], publishedAt=_iso(when), updatedAt=_iso(when),
        )
        thread["_replies"].append(reply)
        self._sync(thread)
        return reply

    def edit_comment(self, thread: dict[str, Any], when: datetime, text: str) -> None:
        top = thread["snippet"]["topLevelComment"]["snippet"]
        top.update(textDisplay=text, textOriginal=text, updatedAt=_iso(when))
        self._sync(thread)

    def _sync(self, thread: dict[str, Any]) -> None:
        thread["snippet"]["totalReplyCount"] = len(thread["_replies"])
        thread["etag"] = self._etag([thread["snippet"], thread["_replies"]])

    @staticmethod
    def _etag(value: Any) -> str:
        return hashlib.sha1(json.dumps(value, sort_keys=True).encode()).hexdigest()[:27]

    # --- serving ---

    def install(self, platform: FakePlatform) -> None:
        platform.route("GET", "/youtube/v3/channels", self._guard(self._channels))
        platform.route("GET", "/youtube/v3/playlistItems", self._guard(self._playlist_items))
        platform.route("GET", "/youtube/v3/videos", self._guard(self._videos))
        platform.route("GET", "/youtube/v3/commentThreads", self._guard(self._comment_threads))
        platform.route("GET", "/youtube/v3/comments", self._guard(self._comments))
        platform.route("POST", "/token", self._token)

    def _guard(self, handler: Any) -> Any:
        def route(request: Request) -> Response:
            oauth = request.headers.get("authorization") == f"Bearer {ACCESS_TOKEN}"
            if request.arg("key") != API_KEY and not oauth:
                return _error("error_response.json", 400)  # recorded keyInvalid
            if request.arg("moderationStatus") not in ("", "published") and not oauth:
                return _error("error_permission_resp.json", 403)
            return handler(request)

        return route

    def _token(self, request: Request) -> Response:
        if b"refresh_token=test-refresh-token" not in request.body:
            return Response.json({"error": "invalid_grant", "error_description": "Token has been expired or revoked."}, 400)
        return Response.json({"access_token": ACCESS_TOKEN, "expires_in": 3600, "token_type": "Bearer"})

    def _listing(
        self,
        request: Request,
        kind: str,
        resources: list[dict[str, Any]],
        size_default: int = 5,
        paged: bool = True,
        render: Any = None,
    ) -> Response:
        size = int(request.arg("maxResults", str(size_default)))
        size = min(size, self.page_cap) if self.page_cap and paged else size
        offset = int(request.arg("pageToken", "0") or 0)
        chunk = resources[offset : offset + size]
        if render is not None:  # shape only the page served, not the whole channel
            chunk = [render(r) for r in chunk]
        body: dict[str, Any] = {
            "kind": f"youtube#{kind}ListResponse",
            "etag": self._etag([r.get("etag") for r in chunk] + [offset, len(resources)]),
            "pageInfo": {"totalResults": len(resources), "resultsPerPage": size},
            "items": chunk,
        }
        if offset + size < len(resources):
            body["nextPageToken"] = str(offset + size)
        if request.headers.get("if-none-match") == body["etag"]:
            return Response(304, b"", {"ETag": body["etag"]})
        return Response.json(body, headers={"ETag": body["etag"]})

    def _channels(self, request: Request) -> Response:
        channel = copy.deepcopy(fixture("info.json")["items"][0])
        channel["id"] = CHANNEL_ID
        channel["snippet"]["title"] = "Oakfield Primary"
        channel["contentDetails"] = {"relatedPlaylists": {"likes": "", "uploads": UPLOADS}}
        wanted = request.arg("id") == CHANNEL_ID or request.arg("forHandle").lstrip("@") == "oakfieldprimary"
        body = copy.deepcopy(fixture("info.json"))
        body["items"] = [channel] if wanted else []
        return Response.json(body)

    def _playlist_items(self, request: Request) -> Response:
        template = fixture("playlist_items_paged_1.json")["items"][0]

        def render(video: dict[str, Any]) -> dict[str, Any]:
            entry = copy.deepcopy(template)
            entry["id"] = f"PI{video['id']}"
            entry["etag"] = video["etag"]
            entry["snippet"].update(
                publishedAt=video["snippet"]["publishedAt"], title=video["snippet"]["title"],
                description=video["snippet"]["description"], thumbnails=video["snippet"]["thumbnails"],
                channelId=CHANNEL_ID, playlistId=UPLOADS, resourceId={"kind": "youtube#video", "videoId": video["id"]},
            )
            entry["contentDetails"] = {"videoId": video["id"], "videoPublishedAt": video["snippet"]["publishedAt"]}
            return entry

        return self._listing(request, "playlistItem", self.videos, render=render)

    def _videos(self, request: Request) -> Response:
        ids = request.arg("id").split(",")
        by_id = {v["id"]: v for v in self.videos}
        found = [by_id[i] for i in ids if i in by_id]
        if request.arg("part") == "id":
            found = [{"kind": "youtube#video", "etag": v["etag"], "id": v["id"]} for v in found]
        return self._listing(request, "video", found, size_default=50, paged=False)

    def _comment_threads(self, request: Request) -> Response:
        if request.arg("allThreadsRelatedToChannelId") and self.all_threads_refused:
            body = {"error": {"code": 400, "message": "Invalid parameter", "errors": [{"reason": "invalidParameter", "domain": "youtube.parameter", "message": "no"}]}}
            return Response.json(body, 400)
        status = request.arg("moderationStatus") or "published"
        video = request.arg("videoId")
        pool = [t for t in self.threads if t["_status"] == status and (not video or t["snippet"]["videoId"] == video)]
        pool.sort(key=lambda t: t["snippet"]["topLevelComment"]["snippet"]["publishedAt"], reverse=True)

        def render(thread: dict[str, Any]) -> dict[str, Any]:
            served = {k: v for k, v in thread.items() if not k.startswith("_")}
            if thread["_replies"]:
                served["replies"] = {"comments": thread["_replies"][:INLINE_REPLIES]}
            if status != "published":
                served["snippet"] = copy.deepcopy(served["snippet"])
                served["snippet"]["topLevelComment"]["snippet"]["moderationStatus"] = status
            return served

        return self._listing(request, "commentThread", pool, size_default=20, render=render)

    def _comments(self, request: Request) -> Response:
        parent = request.arg("parentId")
        thread = next((t for t in self.threads if t["id"] == parent), None)
        return self._listing(request, "comment", thread["_replies"] if thread else [], size_default=20)


def small_channel(now: datetime) -> FakeYouTube:
    """Twelve videos, comments on the three newest, one thread with more replies than inlined."""
    fake = FakeYouTube()
    for n in range(12):
        fake.add_video(now - timedelta(days=12 - n), f"Video {n}: Oakfield news", "Made by Year 6", licensed=n == 11)
    newest = fake.videos[0]
    busy = fake.add_comment(newest, now - timedelta(hours=6), "Brilliant assembly!", "Parent Alder")
    for r in range(7):
        fake.add_reply(busy, now - timedelta(hours=5, minutes=50 - r), f"Reply {r}", f"Parent Birch {r}")
    fake.add_comment(fake.videos[1], now - timedelta(hours=3), "Well done everyone", "Parent Cedar")
    fake.add_comment(fake.videos[2], now - timedelta(hours=2), "Lovely singing", "Parent Damson")
    return fake


def build(
    platform: FakePlatform,
    *,
    options: dict[str, str] | None = None,
    clock: Any = None,
    usage: Any = None,
    secrets: dict[str, str] | None = None,
) -> YouTubeConnector:
    values = secrets if secrets is not None else {"YOUTUBE_API_KEY": API_KEY}
    env = ConnectorEnv(
        secret=values.get,
        clock=clock or (lambda: datetime.now(UTC)),
        timeout_seconds=2.0,
        **({"usage_so_far": usage} if usage else {}),
    )
    account = Account(
        "youtube", "oakfieldprimary",
        options={"channel_id": CHANNEL_ID, "api_base_url": platform.base_url, **(options or {})},
    )
    return YouTubeConnector(account, env)


def _serve_account(platform: FakePlatform) -> None:
    small_channel(datetime.now(UTC)).install(platform)


def _serve_error(platform: FakePlatform, status: int, body: bytes, headers: dict[str, str]) -> None:
    platform.route("GET", "/youtube/v3/", lambda _r: error_answer(status, body, headers))


def _build_unconfigured() -> YouTubeConnector:
    return YouTubeConnector(Account("youtube", "oakfieldprimary", options={"channel_id": CHANNEL_ID}), ConnectorEnv())


KIT = PlatformKit(
    platform="youtube",
    serve_account=_serve_account,
    serve_error=_serve_error,
    build=lambda platform: build(platform),
    build_unconfigured=_build_unconfigured,
)
