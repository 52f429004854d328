"""A fake X API v2 on the local FakePlatform: timelines, mentions, recent search and lookups.

Tweets are built from the recorded payloads in tests/fixtures/x/ (same fields, same nesting) with
fresh ids and invented text, so the real tweepy client parses exactly what X sends.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from connectors.base import ConnectorEnv
from connectors.x import XConnector
from monitor.domain import Account
from tests.fakes.contract import PlatformKit
from tests.fakes.kit_support import error_answer
from tests.fakes.server import FakePlatform, Request, Response

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "x"
SCHOOL_ID = "1400000000000000001"
SCHOOL = "oakfieldprimary"
TOKEN = "test-bearer-token-not-real"
EPOCH_MS = 1288834974657


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def snowflake(when: datetime, seq: int = 0) -> str:
    return str(((int(when.timestamp() * 1000) - EPOCH_MS) << 22) + seq)


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass
class FakeX:
    """The state of one X account as the fake API serves it."""

    posts: list[dict[str, Any]] = field(default_factory=list)
    mentions: list[dict[str, Any]] = field(default_factory=list)
    replies: list[dict[str, Any]] = field(default_factory=list)  # thread replies without a mention
    media: dict[str, dict[str, Any]] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)
    seq: int = 0

    def __post_init__(self) -> None:
        self.users[SCHOOL_ID] = {"id": SCHOOL_ID, "name": "Oakfield Primary", "username": SCHOOL}

    # --- building the account ---

    def _tweet(self, when: datetime, text: str, author: str, **extra: Any) -> dict[str, Any]:
        # Same shape as the recorded media_tweet.json page: fields X returns for our tweet.fields.
        self.seq += 1
        tweet_id = snowflake(when, self.seq % 4096)
        tweet = {
            "id": tweet_id,
            "text": text,
            "author_id": author,
            "created_at": _iso(when),
            "conversation_id": extra.pop("conversation_id", tweet_id),
            "edit_history_tweet_ids": [tweet_id],
            "entities": {},
        }
        tweet.update(extra)
        return tweet

    def add_post(self, when: datetime, text: str, photo: bool = False, video: bool = False) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        if photo or video:
            template = fixture("photo_tweets.json")["includes"]["media"][0] if photo else fixture("media_tweet.json")["includes"]["media"][0]
            medium = copy.deepcopy(template)
            medium["media_key"] = f"{'3' if photo else '7'}_{self.seq + 1}"
            if photo:
                medium["url"] = f"https://pbs.twimg.com/media/fake{self.seq + 1}.jpg"
                medium["alt_text"] = "Children on the field at sports day"
            self.media[medium["media_key"]] = medium
            extra["attachments"] = {"media_keys": [medium["media_key"]]}
        tweet = self._tweet(when, text, SCHOOL_ID, **extra)
        self.posts.append(tweet)
        return tweet

    def add_user(self, user_id: str, username: str) -> None:
        self.users[user_id] = {"id": user_id, "name": username.title(), "username": username}

    def add_reply(self, when: datetime, parent: dict[str, Any], text: str, author: str, mention: bool = True) -> dict[str, Any]:
        if author not in self.users:
            self.add_user(author, f"parent{author[-4:]}")
        tweet = self._tweet(
            when, text, author,
            conversation_id=parent["conversation_id"],
            in_reply_to_user_id=parent["author_id"],
            referenced_tweets=[{"type": "replied_to", "id": parent["id"]}],
        )
        (self.mentions if mention else self.replies).append(tweet)
        return tweet

    def edit(self, tweet: dict[str, Any], when: datetime, text: str) -> dict[str, Any]:
        """An edit makes a new tweet whose history starts at the original (as in edited.json)."""
        self.seq += 1
        new = copy.deepcopy(tweet)
        new["id"] = snowflake(when, self.seq % 4096)
        new["text"] = text
        new["created_at"] = _iso(when)
        new["edit_history_tweet_ids"] = [*tweet["edit_history_tweet_ids"], new["id"]]
        for bucket in (self.posts, self.mentions, self.replies):
            if tweet in bucket:
                bucket.remove(tweet)
                bucket.append(new)
        return new

    def delete(self, tweet: dict[str, Any]) -> None:
        self.deleted.add(tweet["edit_history_tweet_ids"][0])
        for bucket in (self.posts, self.mentions, self.replies):
            if tweet in bucket:
                bucket.remove(tweet)

    # --- serving ---

    def install(self, platform: FakePlatform) -> None:
        platform.route("GET", "/2/users/", self._users)
        platform.route("GET", "/2/tweets/search/recent", self._search)
        platform.route("GET", "/2/tweets", self._lookup)

    def _authorised(self, request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {TOKEN}"

    def _users(self, request: Request) -> Response:
        if not self._authorised(request):
            return Response.json(fixture("errors/unauthorized.json"), 401)
        parts = request.path.strip("/").split("/")
        if parts[2:4] == ["by", "username"]:
            user = next((u for u in self.users.values() if u["username"] == parts[4]), None)
            return Response.json({"data": user} if user else fixture("not_found_errors.json"))
        if parts[3:] == ["tweets"]:
            return self._page(request, self.posts)
        if parts[3:] == ["mentions"]:
            return self._page(request, self.mentions)
        return Response.json({"title": "Not Found"}, 404)

    def _search(self, request: Request) -> Response:
        if not self._authorised(request):
            return Response.json(fixture("errors/unauthorized.json"), 401)
        query = request.arg("query")
        terms = query.replace("(", " ").replace(")", " ").split()
        wanted = {t.split(":", 1)[1] for t in terms if t.startswith("conversation_id:")}
        not_mentioning = {t[2:].lower() for t in terms if t.startswith("-@")}
        not_from = {t.split(":", 1)[1].lower() for t in terms if t.startswith("-from:")}
        start = request.arg("start_time")
        pool = [
            t for t in self.posts + self.mentions + self.replies
            if t["conversation_id"] in wanted
            and not any(f"@{h}" in t["text"].lower() for h in not_mentioning)
            and self.users.get(t["author_id"], {}).get("username", "").lower() not in not_from
        ]
        if start:
            pool = [t for t in pool if t["created_at"] >= start.replace("Z", ".000Z")]
        return self._page(request, pool, token_name="next_token")

    def _lookup(self, request: Request) -> Response:
        if not self._authorised(request):
            return Response.json(fixture("errors/unauthorized.json"), 401)
        ids = request.arg("ids").split(",")
        alive = {t["edit_history_tweet_ids"][0]: t for t in self.posts + self.mentions + self.replies}
        body: dict[str, Any] = {"data": [alive[i] for i in ids if i in alive]}
        template = fixture("not_found_errors.json")["errors"][0]
        errors = [
            {**template, "value": i, "resource_id": i, "parameter": "ids", "detail": f"Could not find tweet with ids: [{i}]."}
            for i in ids if i not in alive
        ]
        if errors:
            body["errors"] = errors
        if not body["data"]:
            del body["data"]
        return Response.json(body)

    def _page(self, request: Request, pool: list[dict[str, Any]], token_name: str = "pagination_token") -> Response:
        since = int(request.arg("since_id", "0") or 0)
        tweets = sorted((t for t in pool if int(t["id"]) > since), key=lambda t: int(t["id"]), reverse=True)
        size = int(request.arg("max_results", "10"))
        offset = int(request.arg(token_name, "0") or 0)
        chunk = tweets[offset : offset + size]
        if not chunk:
            return Response.json({"meta": {"result_count": 0}})  # X's empty page: no data key
        meta: dict[str, Any] = {"result_count": len(chunk), "newest_id": chunk[0]["id"], "oldest_id": chunk[-1]["id"]}
        if offset + size < len(tweets):
            meta["next_token"] = str(offset + size)
        body: dict[str, Any] = {"data": chunk, "meta": meta}
        includes: dict[str, Any] = {}
        keys = [k for t in chunk for k in (t.get("attachments") or {}).get("media_keys", [])]
        if keys and "attachments.media_keys" in request.arg("expansions"):
            includes["media"] = [self.media[k] for k in keys if k in self.media]
        if "author_id" in request.arg("expansions"):
            includes["users"] = [self.users[a] for a in dict.fromkeys(t["author_id"] for t in chunk) if a in self.users]
        if includes:
            body["includes"] = includes
        return Response.json(body)


def small_account(now: datetime) -> FakeX:
    """Twelve posts (one photo, one video) over twelve days, and a few replies on recent posts."""
    fake = FakeX()
    for n in range(12):
        fake.add_post(now - timedelta(days=12 - n, hours=1), f"Post {n}: news from Oakfield", photo=n == 10, video=n == 11)
    recent = fake.posts[-1]
    first = fake.add_reply(now - timedelta(hours=5), recent, "@oakfieldprimary Lovely to see!", "1400000000000009001")
    fake.add_reply(now - timedelta(hours=4), first, "@parent9001 agreed", "1400000000000009002", mention=False)
    return fake


def build(platform: FakePlatform, *, options: dict[str, str] | None = None, clock: Any = None, usage: Any = None) -> XConnector:
    env = ConnectorEnv(
        secret=lambda name: TOKEN if name == "X_BEARER_TOKEN" else None,
        clock=clock or (lambda: datetime.now(UTC)),
        timeout_seconds=2.0,
        **({"usage_so_far": usage} if usage else {}),
    )
    account = Account("x", SCHOOL, options={"user_id": SCHOOL_ID, "api_base_url": platform.base_url, **(options or {})})
    return XConnector(account, env)


def _serve_account(platform: FakePlatform) -> None:
    fake = small_account(datetime.now(UTC))
    fake.install(platform)
    # Pages of five so even the small account spans several pages.
    platform.route("GET", "/2/users/", _force_page_size(fake._users, 5))


def _force_page_size(handler: Any, size: int) -> Any:
    def route(request: Request) -> Response:
        request.query["max_results"] = [str(min(size, int(request.arg("max_results", "10"))))]
        return handler(request)

    return route


def _serve_error(platform: FakePlatform, status: int, body: bytes, headers: dict[str, str]) -> None:
    for prefix in ("/2/users/", "/2/tweets"):
        platform.route("GET", prefix, lambda _r: error_answer(status, body, headers))


def _build_unconfigured() -> XConnector:
    return XConnector(Account("x", SCHOOL, options={"user_id": SCHOOL_ID}), ConnectorEnv())


KIT = PlatformKit(
    platform="x",
    serve_account=_serve_account,
    serve_error=_serve_error,
    build=lambda platform: build(platform),
    build_unconfigured=_build_unconfigured,
)
