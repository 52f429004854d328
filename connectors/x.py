"""X (Twitter) connector: the school's own posts, mentions and reply threads through tweepy (API v2).

Cost model: X bills pay-per-use reads (about $0.001 per post returned; empty responses are free),
so every request is planned against a monthly read budget and an unchanged account must cost
nothing. Timelines are read with ``since_id`` and a small time overlap (late-indexed mentions slip
under a plain ``since_id``); the overlap's re-reads are de-duplicated against recently seen ids.

tweepy hard-codes ``https://api.twitter.com``; a requests adapter mounted on ``client.session``
rewrites it to the configured base (default ``https://api.x.com``), also pointing tests at
127.0.0.1. ``wait_on_rate_limit`` stays off: tweepy would retry at once without a reset header.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
import tweepy

from connectors.base import (
    AuthFailed,
    ConnectorEnv,
    NotConfigured,
    QuotaExhausted,
    RateLimited,
    UnexpectedResponse,
)
from connectors.common import (
    DropDebugRecords,
    HostRewriteAdapter,
    account_secret,
    install_log_filter,
    int_option,
    json_document,
    json_object_or_empty,
    parse_utc,
    per_account_name,
    rewrite_url,
    server_error,
    timed_out,
    unreachable,
    url_option,
)
from monitor.domain import Account, Cursor, FetchResult, Item, ItemKind, Media, MediaKind, RawCapture, Usage

log = logging.getLogger(__name__)

# Every per-account option this connector reads (documented in docs/connectors.md).
OPTIONS = (
    "user_id", "api_base_url", "media_base_url", "monthly_read_budget", "overlap_seconds",
    "max_pages_per_poll", "search_conversations", "deletion_check_hours", "billing_cycle_day",
)
TWEEPY_HOST = "https://api.twitter.com"
DEFAULT_BASE = "https://api.x.com"
TWITTER_EPOCH_MS = 1288834974657  # snowflake ids count milliseconds from this instant
SEARCH_WINDOW = timedelta(days=7)
SEARCH_QUERY_LIMIT = 512
SEEN_LIMIT = 2000

TWEET_FIELDS = [
    "created_at", "conversation_id", "in_reply_to_user_id", "entities", "edit_history_tweet_ids",
    "referenced_tweets", "attachments", "author_id",
]
MEDIA_FIELDS = ["media_key", "type", "url", "preview_image_url", "variants", "alt_text"]
USER_FIELDS = ["username", "name"]


# tweepy logs request headers (the bearer token) at DEBUG: drop those records outright.
install_log_filter(DropDebugRecords, "tweepy.client")


@dataclass(frozen=True)
class _Stream:
    """Position in one timeline: newest id read, and an unfinished sweep to resume (a gap)."""

    newest: str | None = None
    gap_token: str | None = None
    gap_since: str | None = None

    def to_json(self) -> dict[str, str | None]:
        return {"newest": self.newest, "gap_token": self.gap_token, "gap_since": self.gap_since}

    @classmethod
    def from_json(cls, data: Any) -> _Stream:
        if not isinstance(data, dict):
            return cls()
        return cls(data.get("newest"), data.get("gap_token"), data.get("gap_since"))


@dataclass(frozen=True)
class _State:
    """The cursor: everything the next poll needs, as small JSON."""

    user_id: str = ""
    polled_at: datetime | None = None
    posts: _Stream = _Stream()
    mentions: _Stream = _Stream()
    # conversation id -> creation time (epoch seconds) of the school's posts still searchable.
    conversations: dict[str, int] = field(default_factory=dict)
    searched: tuple[str, ...] = ()  # conversations searched at least once
    seen: tuple[str, ...] = ()  # recently read tweet ids, to drop overlap re-reads
    deletions_checked_at: datetime | None = None

    def to_cursor(self) -> Cursor:
        data = {
            "v": 1,
            "user_id": self.user_id,
            "polled_at": self.polled_at.isoformat() if self.polled_at else None,
            "posts": self.posts.to_json(),
            "mentions": self.mentions.to_json(),
            "conversations": self.conversations,
            "searched": list(self.searched),
            "seen": list(self.seen[-SEEN_LIMIT:]),
            "deletions_checked_at": self.deletions_checked_at.isoformat() if self.deletions_checked_at else None,
        }
        return Cursor(json.dumps(data, sort_keys=True))

    @classmethod
    def from_cursor(cls, cursor: Cursor | None) -> _State:
        if cursor is None:
            return cls()
        try:
            data = json.loads(cursor.value)
            return cls(
                user_id=str(data.get("user_id") or ""),
                polled_at=parse_utc(data["polled_at"]) if data.get("polled_at") else None,
                posts=_Stream.from_json(data.get("posts")),
                mentions=_Stream.from_json(data.get("mentions")),
                conversations={str(k): int(v) for k, v in (data.get("conversations") or {}).items()},
                searched=tuple(str(s) for s in data.get("searched") or ()),
                seen=tuple(str(s) for s in data.get("seen") or ()),
                deletions_checked_at=(
                    parse_utc(data["deletions_checked_at"]) if data.get("deletions_checked_at") else None
                ),
            )
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            # A cursor we cannot read means a fresh start: ingestion is idempotent, so at worst
            # some items are read (and billed) again.
            log.warning("x cursor unreadable (%s): starting from scratch", exc)
            return cls()


@dataclass
class _Run:
    """What one fetch has read so far: items by external id, evidence, cost, budget left."""

    budget_left: int
    items: dict[str, Item] = field(default_factory=dict)
    captures: list[RawCapture] = field(default_factory=list)
    usage: Usage = Usage()
    seen: list[str] = field(default_factory=list)
    school_posts: set[str] = field(default_factory=set)
    out_of_budget: bool = False


@dataclass(frozen=True)
class _Page:
    body: dict[str, Any]
    raw: RawCapture

    @property
    def tweets(self) -> list[dict[str, Any]]:
        data = self.body.get("data") or []
        return [t for t in data if isinstance(t, dict) and "id" in t] if isinstance(data, list) else []

    @property
    def next_token(self) -> str | None:
        meta = self.body.get("meta") or {}
        token = meta.get("next_token") if isinstance(meta, dict) else None
        return str(token) if token else None

    def includes(self, name: str) -> list[dict[str, Any]]:
        inc = self.body.get("includes") or {}
        values = inc.get(name) if isinstance(inc, dict) else None
        return [v for v in values if isinstance(v, dict)] if isinstance(values, list) else []


class XConnector:
    """Reads one X account: own posts, mentions, and replies in recent conversations."""

    platform = "x"
    version = "1.0"

    def __init__(self, account: Account, env: ConnectorEnv) -> None:
        self.account = account
        self.env = env
        handle = account.handle.lstrip("@")
        token = account_secret(env, "X_BEARER_TOKEN", handle).value
        if not token:
            raise NotConfigured(
                f"X account @{handle}: no API bearer token. Set X_BEARER_TOKEN (or "
                f"{per_account_name('X_BEARER_TOKEN', handle)} for this account only) in the environment "
                "or as a systemd credential."
            )
        opts = account.options
        who = f"X account @{handle}"
        self.handle = handle
        self.user_id = opts.get("user_id", "").strip()
        self.base_url = url_option(opts.get("api_base_url", DEFAULT_BASE), "api_base_url", who)
        media_base = opts.get("media_base_url", "").strip()
        self.media_base_url = url_option(media_base, "media_base_url", who) if media_base else ""
        self.monthly_budget = int_option(opts, "monthly_read_budget", 10_000, who)
        self.overlap = timedelta(seconds=int_option(opts, "overlap_seconds", 120, who))
        self.max_pages = max(1, int_option(opts, "max_pages_per_poll", 10, who))
        self.search_conversations = opts.get("search_conversations", "true").lower() not in ("false", "no", "0")
        self.deletion_check = timedelta(hours=int_option(opts, "deletion_check_hours", 24, who))
        self.billing_cycle_day = min(28, max(1, int_option(opts, "billing_cycle_day", 1, who)))
        self.client = tweepy.Client(bearer_token=token, return_type=requests.Response, wait_on_rate_limit=False)
        self.adapter = HostRewriteAdapter({TWEEPY_HOST: self.base_url}, env.timeout_seconds)
        self.client.session.mount(TWEEPY_HOST, self.adapter)

    # --- the protocol ---

    def fetch(self, since: Cursor | None) -> FetchResult:
        """Posts, mentions and conversation replies new or edited since the cursor."""
        now = self.env.clock()
        state = _State.from_cursor(since)
        used = self.env.usage_so_far("month").billed_reads
        run = _Run(budget_left=self.monthly_budget - used)
        if run.budget_left <= 0:
            raise QuotaExhausted(
                f"X account @{self.handle}: the monthly read budget ({self.monthly_budget}) is used up",
                resets_at=_next_month(now),
            )
        user_id = self.user_id or state.user_id or self._lookup_user_id(run)
        run.school_posts.update(state.conversations)
        own_fields = {"tweet_fields": TWEET_FIELDS, "media_fields": MEDIA_FIELDS, "expansions": ["attachments.media_keys"]}
        other_fields = {**own_fields, "expansions": ["attachments.media_keys", "author_id"], "user_fields": USER_FIELDS}
        seen = set(state.seen)

        posts = self._stream(
            state.posts, state.polled_at, now, run, seen, user_id, min_results=5, own=True,
            call=lambda **p: self.client.get_users_tweets(user_id, **own_fields, **p),
            paging="pagination_token",
        )
        mentions = self._stream(
            state.mentions, state.polled_at, now, run, seen, user_id, min_results=5,
            call=lambda **p: self.client.get_users_mentions(user_id, **other_fields, **p),
            paging="pagination_token",
        )
        conversations = self._recent_conversations(state, run, now)
        searched = set(state.searched)
        if self.search_conversations and conversations:
            searched = self._search_conversations(conversations, searched, state.polled_at, now, run, seen, user_id, other_fields)
        gone: tuple[str, ...] = ()
        # The first poll has just read every post: the first deletion check can wait a period.
        checked_at = state.deletions_checked_at or now
        if self.deletion_check and now - checked_at >= self.deletion_check and conversations:
            gone = self._check_deletions(sorted(conversations, key=int)[-100:], run)
            checked_at = now if not run.out_of_budget else checked_at
        if not run.items and run.out_of_budget and run.usage.api_calls == 0:
            raise QuotaExhausted(
                f"X account @{self.handle}: too little of the monthly read budget is left to read a page",
                resets_at=_next_month(now),
            )
        keep_after = int(_snowflake(now - self.overlap - timedelta(hours=1)))
        new_state = _State(
            user_id=user_id,
            polled_at=now,
            posts=posts,
            mentions=mentions,
            conversations={k: v for k, v in conversations.items() if k not in gone},
            searched=tuple(sorted(s for s in searched if s in conversations)),
            # Only ids the next poll's overlap can return again need remembering.
            seen=tuple(i for i in (*state.seen, *run.seen) if int(i) > keep_after)[-SEEN_LIMIT:],
            deletions_checked_at=checked_at,
        )
        return FetchResult(
            items=tuple(run.items.values()),
            cursor=new_state.to_cursor(),
            gone_external_ids=gone,
            usage=run.usage,
            captures=tuple(run.captures),
        )

    # --- timelines ---

    def _stream(
        self,
        stream: _Stream,
        polled_at: datetime | None,
        now: datetime,
        run: _Run,
        seen: set[str],
        user_id: str,
        *,
        min_results: int,
        call: Callable[..., requests.Response],
        paging: str,
        own: bool = False,
    ) -> _Stream:
        """Finish any unfinished sweep, then read what is newer than the newest id seen."""
        if stream.gap_token:
            _, token = self._sweep(
                call, stream.gap_since, stream.gap_token, run, seen, user_id, min_results, paging, own=own
            )
            if token:
                return replace(stream, gap_token=token)
            stream = replace(stream, gap_token=None, gap_since=None)
        since = self._since_id(stream.newest, polled_at)
        top, token = self._sweep(call, since, None, run, seen, user_id, min_results, paging, own=own)
        newest = _max_id(stream.newest, top)
        return _Stream(newest, token, since if token else None)

    def _since_id(self, newest: str | None, polled_at: datetime | None) -> str | None:
        """``since_id`` pulled back to cover items indexed up to ``overlap`` late."""
        if polled_at is None:
            return newest
        floor = _snowflake(polled_at - self.overlap)
        if newest is None:
            return floor
        return newest if int(newest) < int(floor) else floor

    def _sweep(
        self,
        call: Callable[..., requests.Response],
        since_id: str | None,
        token: str | None,
        run: _Run,
        seen: set[str],
        user_id: str,
        min_results: int,
        paging: str,
        own: bool = False,
        **extra: Any,
    ) -> tuple[str | None, str | None]:
        """Read pages; returns the newest id read and the token to resume with (None when done)."""
        top: str | None = None
        for _ in range(self.max_pages):
            max_results = self._affordable(run, min_results)
            if max_results == 0:
                return top, token or _START
            params: dict[str, Any] = {"max_results": max_results, **extra}
            if since_id:
                params["since_id"] = since_id
            if token and token != _START:
                params[paging] = token
            page = self._request(call, run, **params)
            for tweet in page.tweets:
                top = _max_id(top, str(tweet["id"]))
            self._take(page, run, seen, user_id, own)
            token = page.next_token
            if not token:
                return top, None
        return top, token

    def _affordable(self, run: _Run, min_results: int) -> int:
        """Largest page that fits the budget (a post and its author may both be billed)."""
        fits = min(100, run.budget_left // 2)
        if fits < min_results:
            run.out_of_budget = True
            return 0
        return fits

    # --- conversations and deletions ---

    def _recent_conversations(self, state: _State, run: _Run, now: datetime) -> dict[str, int]:
        """The school's top-level posts still inside recent search's seven-day window."""
        horizon = int((now - SEARCH_WINDOW + timedelta(minutes=5)).timestamp())
        merged = dict(state.conversations)
        for item in run.items.values():
            if item.author_is_school and item.kind == ItemKind.POST:
                merged[item.external_id] = int(item.created_at.timestamp())
        return {k: v for k, v in merged.items() if v >= horizon}

    def _search_conversations(
        self,
        conversations: dict[str, int],
        searched: set[str],
        polled_at: datetime | None,
        now: datetime,
        run: _Run,
        seen: set[str],
        user_id: str,
        fields: dict[str, Any],
    ) -> set[str]:
        """Whole reply threads via ``conversation_id:`` search, batched into as few queries as fit."""
        earliest = now - SEARCH_WINDOW + timedelta(minutes=1)
        known = sorted(c for c in conversations if c in searched)
        fresh = sorted(c for c in conversations if c not in searched)
        done = set(searched)
        # Replies that mention the school come from the mentions timeline and the school's own
        # from its timeline: excluding both keeps every post read (and billed) once.
        suffix = f" -@{self.handle} -from:{self.handle}"
        limit = SEARCH_QUERY_LIMIT - len(suffix) - 2
        for group, start in [(g, None) for g in _query_groups(fresh, limit)] + [
            (g, max(earliest, (polled_at or earliest) - self.overlap)) for g in _query_groups(known, limit)
        ]:
            query = "(" + " OR ".join(f"conversation_id:{c}" for c in group) + ")" + suffix
            extra: dict[str, Any] = {"query": query}
            if start is not None:
                extra["start_time"] = start
            _, token = self._sweep(
                lambda **p: self.client.search_recent_tweets(**fields, **p),
                None, None, run, seen, user_id, 10, "next_token", **extra,
            )
            if run.out_of_budget:
                break
            if token is None:
                done.update(group)
        return done

    def _check_deletions(self, ids: list[str], run: _Run) -> tuple[str, ...]:
        """Look the school's recent posts up; X names each deleted one in ``errors``."""
        if run.budget_left < len(ids):
            run.out_of_budget = True
            return ()
        page = self._request(lambda **p: self.client.get_tweets(ids, **p), run, allow_errors=True, tweet_fields=["id"])
        gone = []
        for error in page.body.get("errors") or []:
            if isinstance(error, dict) and str(error.get("type", "")).endswith("resource-not-found"):
                gone.append(str(error.get("resource_id") or error.get("value")))
        return tuple(g for g in gone if g in ids)

    def _lookup_user_id(self, run: _Run) -> str:
        page = self._request(lambda **p: self.client.get_user(username=self.handle, **p), run, allow_errors=True)
        data = page.body.get("data")
        if not isinstance(data, dict) or not data.get("id"):
            raise UnexpectedResponse(f"X has no user @{self.handle}; set options.user_id for this account")
        return str(data["id"])

    # --- turning pages into items ---

    def _take(self, page: _Page, run: _Run, seen: set[str], user_id: str, own: bool) -> None:
        media = {str(m.get("media_key")): m for m in page.includes("media")}
        users = {str(u.get("id")): u for u in page.includes("users")}
        for tweet in page.tweets:
            tweet_id = str(tweet["id"])
            if tweet_id in seen:
                continue  # an overlap re-read
            seen.add(tweet_id)
            run.seen.append(tweet_id)
            item = self._item(tweet, media, users, user_id, page.raw, run, own)
            run.items[item.external_id] = item
            if item.kind == ItemKind.POST:
                run.school_posts.add(item.external_id)

    def _item(
        self,
        tweet: dict[str, Any],
        media: dict[str, dict[str, Any]],
        users: dict[str, dict[str, Any]],
        user_id: str,
        raw: RawCapture,
        run: _Run,
        own: bool,
    ) -> Item:
        tweet_id = str(tweet["id"])
        history = [str(h) for h in tweet.get("edit_history_tweet_ids") or [tweet_id]]
        author_id = str(tweet.get("author_id") or user_id)
        is_school = own or author_id == user_id  # a user's own timeline holds only their posts
        username = self.handle if is_school else str(users.get(author_id, {}).get("username") or author_id)
        parent = next(
            (str(r.get("id")) for r in tweet.get("referenced_tweets") or [] if isinstance(r, dict) and r.get("type") == "replied_to"),
            None,
        )
        if parent is None:
            kind = ItemKind.POST if is_school else ItemKind.COMMENT
        elif parent in run.school_posts or parent == str(tweet.get("conversation_id", "")):
            kind = ItemKind.COMMENT
        else:
            kind = ItemKind.REPLY
        created = parse_utc(tweet.get("created_at"))
        keys = (tweet.get("attachments") or {}).get("media_keys") or []
        return Item(
            platform=self.platform,
            account_key=self.account.key,
            external_id=history[0],  # edits get new ids; the first one names the post
            kind=kind,
            text=str(tweet.get("text", "")),
            author=username,
            created_at=created,
            permalink=f"https://x.com/{username}/status/{tweet_id}",
            parent_external_id=parent,
            media=tuple(m for key in keys if str(key) in media for m in self._media(media[str(key)])),
            edited_at=created if len(history) > 1 else None,
            raw=raw,
            attributes={"conversation_id": str(tweet.get("conversation_id", "")), "tweet_id": tweet_id},
            author_is_school=is_school,
        )

    def _media(self, m: dict[str, Any]) -> Iterator[Media]:
        key = str(m.get("media_key", ""))
        alt = str(m.get("alt_text") or "")
        if m.get("type") == "photo" and m.get("url"):
            yield self._one_media(MediaKind.IMAGE, str(m["url"]), alt, key)
            return
        if m.get("preview_image_url"):  # videos and GIFs: the still frame is what detectors read
            yield self._one_media(MediaKind.IMAGE, str(m["preview_image_url"]), alt, key)
        mp4 = [v for v in m.get("variants") or [] if isinstance(v, dict) and v.get("content_type") == "video/mp4"]
        if mp4:  # the smallest rendition keeps downloads within the pipeline's size limit
            smallest = min(mp4, key=lambda v: int(v.get("bit_rate") or 0))
            yield self._one_media(MediaKind.VIDEO, str(smallest["url"]), alt, key)

    def _one_media(self, kind: MediaKind, url: str, alt: str, key: str) -> Media:
        return Media(kind=kind, url=url, download_url=rewrite_url(url, self.media_base_url), alt_text=alt, external_id=key)

    # --- one request, with every failure typed ---

    def _request(
        self, call: Callable[..., requests.Response], run: _Run, *, allow_errors: bool = False, **params: Any
    ) -> _Page:
        now = self.env.clock()
        try:
            response = call(**params)
        except tweepy.Unauthorized as exc:
            raise AuthFailed(
                f"X rejected the bearer token for @{self.handle} (401). Create a new bearer token in the "
                "X developer portal and update X_BEARER_TOKEN."
            ) from exc
        except tweepy.Forbidden as exc:
            raise AuthFailed(self._forbidden_message(_error_body(exc.response))) from exc
        except tweepy.TooManyRequests as exc:
            body = _error_body(exc.response)
            if "usage-capped" in json.dumps(body) or str(body.get("title", "")) == "UsageCapExceeded":
                raise QuotaExhausted(
                    f"X account @{self.handle}: the app's monthly usage cap is reached (429 usage-capped); "
                    "reading resumes when X's billing cycle resets",
                    resets_at=_next_month(now, self.billing_cycle_day),
                ) from exc
            reset = datetime.fromtimestamp(exc.reset_time, UTC) if exc.reset_time else now + timedelta(minutes=15)
            raise RateLimited(f"X rate limit reached for @{self.handle} (429)", retry_after=reset) from exc
        except tweepy.TwitterServerError as exc:
            raise server_error("X", exc.response.status_code, f"@{self.handle}") from exc
        except tweepy.HTTPException as exc:
            raise UnexpectedResponse(
                f"X answered {exc.response.status_code} for @{self.handle}: {_detail(_error_body(exc.response))}"
            ) from exc
        except requests.Timeout as exc:
            raise timed_out("X", self.env.timeout_seconds) from exc
        except requests.RequestException as exc:
            raise unreachable("X", self.base_url, exc) from exc
        except (ValueError, AttributeError, TypeError) as exc:
            # tweepy parses error bodies itself and trips on JSON that is not an object: map the
            # status the adapter saw instead.
            status = self.adapter.last_status
            if status in (401, 403):
                raise AuthFailed(f"X refused the credentials for @{self.handle} ({status})") from exc
            if status == 429:
                raise RateLimited(f"X rate limit reached for @{self.handle} (429)", now + timedelta(minutes=15)) from exc
            if status >= 500:
                raise server_error("X", status, f"@{self.handle}") from exc
            raise UnexpectedResponse(f"X sent an error response that could not be read ({status})") from exc
        run.usage = run.usage + Usage(api_calls=1)
        raw = RawCapture(
            uri=response.url,
            body=response.content,
            captured_at=now,
            content_type=response.headers.get("content-type", "application/json"),
            status=response.status_code,
        )
        run.captures.append(raw)
        body = json_document(
            response.content, "X", urlsplit(response.url).path, lambda b: isinstance(b.get("data", []), list | dict)
        )
        if "errors" in body and "data" not in body and "meta" not in body and not allow_errors:
            # e.g. the account is suspended or protected: X answers 200 with only errors.
            raise UnexpectedResponse(f"X could not serve @{self.handle}: {_detail(body)}")
        page = _Page(body, raw)
        reads = len(page.tweets) + len(page.includes("tweets")) + len(page.includes("users"))
        if isinstance(body.get("data"), dict):
            reads += 1
        run.usage = run.usage + Usage(billed_reads=reads)
        run.budget_left -= reads
        return page

    def _forbidden_message(self, body: dict[str, Any]) -> str:
        reason = str(body.get("reason") or "")
        kind = str(body.get("type") or "")
        if reason == "client-not-enrolled" or kind.endswith("client-forbidden"):
            return (
                f"X refused the app used for @{self.handle} ({reason or 'client-forbidden'}): the developer "
                "app must belong to a project on a pay-per-use (production) plan. Attach it to one in the "
                "X developer portal, then restart Hall Monitor."
            )
        return f"X refused access for @{self.handle} (403): {_detail(body)}"


# A sentinel "resume from the start" token: a sweep stopped before its first page.
_START = "__start__"


def _query_groups(ids: list[str], limit: int) -> list[list[str]]:
    """Split conversation ids into ``OR`` queries that fit X's query length limit."""
    groups: list[list[str]] = []
    current: list[str] = []
    length = 0
    for conversation in ids:
        term = len(f"conversation_id:{conversation}") + 4
        if current and length + term > limit:
            groups.append(current)
            current, length = [], 0
        current.append(conversation)
        length += term
    if current:
        groups.append(current)
    return groups


def _error_body(response: Any) -> dict[str, Any]:
    return json_object_or_empty(getattr(response, "content", None))


def _detail(body: dict[str, Any]) -> str:
    detail = body.get("detail") or body.get("title") or ""
    if not detail and isinstance(body.get("errors"), list) and body["errors"]:
        first = body["errors"][0]
        detail = (first.get("detail") or first.get("message") or first.get("title") or "") if isinstance(first, dict) else str(first)
    return str(detail)[:300] or "no details given"


def _snowflake(when: datetime) -> str:
    """The smallest X id that could have been created at ``when``."""
    ms = int(when.timestamp() * 1000)
    return str(max(0, ms - TWITTER_EPOCH_MS) << 22)


def _max_id(a: str | None, b: str | None) -> str | None:
    if a is None:
        return b
    if b is None:
        return a
    return a if int(a) >= int(b) else b


def _next_month(now: datetime, day: int = 1) -> datetime:
    """The next ``day``-of-month midnight UTC after ``now`` (a monthly budget's reset)."""
    now = now.astimezone(UTC)
    candidate = now.replace(day=day, hour=0, minute=0, second=0, microsecond=0)
    if candidate > now:
        return candidate
    year, month = (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)
    return candidate.replace(year=year, month=month)
