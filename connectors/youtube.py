"""YouTube connector: the school channel's videos and their comments (Data API v3).

Quota is the constraint: 10,000 units a day per Google project by default, every call costs at
least one unit (errors and 304s included), and the day resets at midnight Pacific. So:

* the uploads playlist is found once (``channels.list``) and read with ``playlistItems.list``
  (1 unit), never ``search.list`` (its own bucket is 100 calls a day);
* details come from ``videos.list`` (1 unit per 50 videos) only for new or edited videos;
* comments come from ``commentThreads.list(allThreadsRelatedToChannelId)``, newest first, falling
  back to one call per recent video where that parameter is refused; a thread holding more replies
  than the ones inlined gets ``comments.list(parentId)``;
* each poll runs one *probe* (uploads, comments, and with OAuth the held-for-review and likely-spam
  queues) in rotation, so an unchanged channel costs one unit per poll; the first poll runs all.

googleapiclient is used with the bundled discovery document (``static_discovery=True``), the base
URL from ``client_options`` (tests point it at 127.0.0.1) and ``RawModel`` so the exact response
bytes are kept as evidence.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import google.auth.exceptions
import google_auth_httplib2
import httplib2
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from googleapiclient.model import RawModel

from connectors.base import (
    AuthFailed,
    ConnectorEnv,
    NotConfigured,
    QuotaExhausted,
    RateLimited,
    TransientError,
    UnexpectedResponse,
)
from connectors.common import (
    DropDebugRecords,
    install_log_filter,
    int_option,
    json_document,
    parse_utc,
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
    "channel_id", "api_base_url", "media_base_url", "oauth_refresh_url", "daily_quota_units",
    "quota_reserve_units", "max_pages_per_poll", "probes_per_poll", "recent_videos", "deep_sweep_hours",
)
DEFAULT_BASE = "https://youtube.googleapis.com"
DEFAULT_TOKEN_URL = "https://oauth2.googleapis.com/token"
SCOPES = ["https://www.googleapis.com/auth/youtube.force-ssl"]
THREAD_STATE_LIMIT = 3000
QUOTA_REASONS = {"quotaExceeded", "dailyLimitExceeded", "dailyLimitExceededUnreg"}
RATE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded"}
AUTH_REASONS = {"keyInvalid", "keyExpired", "authError", "unauthorized", "accessNotConfigured", "ipRefererBlocked"}
# allThreadsRelatedToChannelId refused: fall back to one call per recent video.
FALLBACK_REASONS = {"invalidParameter", "badRequest", "forbidden", "channelNotFound", "operationNotSupported"}
THUMBNAIL_ORDER = ("maxres", "standard", "high", "medium", "default")


# googleapiclient logs request URLs (with the API key) at DEBUG: drop those records.
install_log_filter(DropDebugRecords, "googleapiclient.discovery", "googleapiclient.model", "googleapiclient.http")


class _OutOfQuota(Exception):
    """Internal: the next call would pass the daily budget; stop this probe, keep what we have."""


class _Tolerated(Exception):
    """Internal: an error reason the caller asked to handle itself (e.g. comments disabled)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class _State:
    """The cursor, as a mutable working copy during one fetch."""

    channel_id: str = ""
    channel_title: str = ""
    uploads: str = ""
    probe: int = 0
    initialised: bool = False
    per_video_comments: bool = False
    videos: dict[str, list[Any]] = field(default_factory=dict)  # id -> [fingerprint, published (epoch)]
    threads: dict[str, list[int]] = field(default_factory=dict)  # id -> [reply count, updated (epoch)]
    deep: dict[str, str] = field(default_factory=dict)  # probe -> when it last read everything (ISO)
    etags: dict[str, str] = field(default_factory=dict)  # probe -> ETag of its first page
    resume: dict[str, str] = field(default_factory=dict)  # probe -> page token of an unfinished sweep
    quota_day: str = ""  # Pacific date the tally below belongs to
    quota_units: int = 0

    @classmethod
    def load(cls, cursor: Cursor | None) -> _State:
        if cursor is None:
            return cls()
        try:
            data = json.loads(cursor.value)
            state = cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})
            for name in ("videos", "threads", "etags", "resume", "deep"):
                if not isinstance(getattr(state, name), dict):
                    raise TypeError(f"{name} is not a mapping")
            return state
        except (ValueError, TypeError, AttributeError) as exc:
            log.warning("youtube cursor unreadable (%s): starting from scratch", exc)
            return cls()

    def dump(self) -> Cursor:
        if len(self.threads) > THREAD_STATE_LIMIT:  # keep the most recently seen threads
            self.threads = dict(list(self.threads.items())[-THREAD_STATE_LIMIT:])
        # Per-video comment checks ("comments:<id>") of videos no longer known are dropped.
        for table in (self.etags, self.resume):
            for key in [k for k in table if ":" in k and k.split(":", 1)[1] not in self.videos]:
                del table[key]
        return Cursor(json.dumps(self.__dict__, sort_keys=True))


@dataclass
class _Run:
    units_left: int
    items: dict[str, Item] = field(default_factory=dict)
    gone: list[str] = field(default_factory=list)
    captures: list[RawCapture] = field(default_factory=list)
    usage: Usage = Usage()
    out_of_quota: bool = False


@dataclass
class _Sweep:
    """What one pass down the uploads playlist found."""

    changed: list[str] = field(default_factory=list)
    listed: dict[str, int] = field(default_factory=dict)  # video id -> published (epoch)
    etag: str = ""
    token: str | None = None
    complete: bool = False
    stopped_early: bool = False


@dataclass(frozen=True)
class _Page:
    body: dict[str, Any]
    raw: RawCapture

    @property
    def items(self) -> list[dict[str, Any]]:
        values = self.body.get("items") or []
        return [v for v in values if isinstance(v, dict)] if isinstance(values, list) else []

    @property
    def next_token(self) -> str | None:
        token = self.body.get("nextPageToken")
        return str(token) if token else None


class YouTubeConnector:
    """Reads one YouTube channel: its uploads, and the comment threads on them."""

    platform = "youtube"
    version = "1.0"

    def __init__(self, account: Account, env: ConnectorEnv) -> None:
        self.account = account
        self.env = env
        opts = account.options
        handle = account.handle
        who = f"YouTube channel {handle}"
        api_key = env.secret("YOUTUBE_API_KEY")
        oauth = env.secret("YOUTUBE_OAUTH_TOKEN_FILE")
        if not api_key and not oauth:
            raise NotConfigured(
                f"YouTube channel {handle}: no credentials. Set YOUTUBE_API_KEY (an API key from the "
                "Google Cloud console) in the environment or as a systemd credential; optionally "
                "YOUTUBE_OAUTH_TOKEN_FILE as well, to also see comments held for review."
            )
        self.channel_id = opts.get("channel_id", "").strip()
        self.base_url = url_option(opts.get("api_base_url", DEFAULT_BASE), "api_base_url", who)
        media_base = opts.get("media_base_url", "").strip()
        self.media_base_url = url_option(media_base, "media_base_url", who) if media_base else ""
        self.daily_units = int_option(opts, "daily_quota_units", 10_000, who)
        self.reserve = int_option(opts, "quota_reserve_units", max(5, self.daily_units // 50), who)
        self.max_pages = max(1, int_option(opts, "max_pages_per_poll", 50, who))
        self.probes_per_poll = max(1, int_option(opts, "probes_per_poll", 1, who))
        self.recent_videos = max(1, int_option(opts, "recent_videos", 5, who))
        # Edits, deletions and late replies on older videos and threads only show in a full read.
        self.deep_period = timedelta(hours=int_option(opts, "deep_sweep_hours", 24, who))
        self.oauth = bool(oauth)
        http = httplib2.Http(timeout=env.timeout_seconds)
        if oauth:
            token_url = url_option(opts.get("oauth_refresh_url", DEFAULT_TOKEN_URL), "oauth_refresh_url", who)
            http = google_auth_httplib2.AuthorizedHttp(_credentials(oauth, handle, token_url), http=http)
        self.service = build(
            "youtube",
            "v3",
            developerKey=api_key or None,
            http=http,
            static_discovery=True,
            cache_discovery=False,
            model=RawModel(),
            client_options={"api_endpoint": self.base_url},
        )

    # --- the protocol ---

    def fetch(self, since: Cursor | None) -> FetchResult:
        """New and edited videos and comments since the cursor, within the day's quota."""
        now = self.env.clock()
        state = _State.load(since)
        day = _pacific_day(now).isoformat()
        tally = state.quota_units if state.quota_day == day else 0
        used = max(self.env.usage_so_far("day").quota_units, tally)
        run = _Run(units_left=self.daily_units - self.reserve - used)
        if run.units_left <= 0:
            raise QuotaExhausted(
                f"YouTube channel {self.account.handle}: today's quota ({self.daily_units} units, "
                f"{self.reserve} kept in reserve) is used up",
                resets_at=_next_pacific_midnight(now),
            )
        try:
            if not state.uploads:
                self._find_channel(state, run)
            probes = ["uploads", "comments"] + (["heldForReview", "likelySpam"] if self.oauth else [])
            if state.initialised:
                chosen = [probes[(state.probe + i) % len(probes)] for i in range(min(self.probes_per_poll, len(probes)))]
            else:
                chosen = probes
            for probe in chosen:
                deep = self._deep_due(state, probe, now)
                if probe == "uploads":
                    done = self._probe_uploads(state, run, deep)
                else:
                    done = self._probe_comments(state, run, None if probe == "comments" else probe, deep)
                if deep and done:
                    state.deep[probe] = now.isoformat()
            state.probe = (state.probe + len(chosen)) % len(probes)
            state.initialised = True
        except _OutOfQuota:
            run.out_of_quota = True
        if run.out_of_quota and run.usage.api_calls == 0:
            raise QuotaExhausted(
                f"YouTube channel {self.account.handle}: too little of today's quota is left for a call",
                resets_at=_next_pacific_midnight(now),
            )
        state.quota_day = day
        state.quota_units = tally + run.usage.quota_units
        return FetchResult(
            items=tuple(run.items.values()),
            cursor=state.dump(),
            gone_external_ids=tuple(run.gone),
            usage=run.usage,
            captures=tuple(run.captures),
        )

    def _deep_due(self, state: _State, probe: str, now: datetime) -> bool:
        last = state.deep.get(probe)
        if last is None:  # the first read of a probe reads everything anyway
            state.deep[probe] = now.isoformat()
            return False
        return bool(self.deep_period) and now - parse_utc(last) >= self.deep_period

    # --- channel and uploads ---

    def _find_channel(self, state: _State, run: _Run) -> None:
        lookup = {"id": self.channel_id} if self.channel_id else {"forHandle": self.account.handle}
        page = self._call(self.service.channels().list(part="snippet,contentDetails", **lookup), run)
        assert page is not None
        if not page.items:
            raise UnexpectedResponse(
                f"YouTube has no channel {self.channel_id or self.account.handle}; check options.channel_id"
            )
        channel = page.items[0]
        uploads = ((channel.get("contentDetails") or {}).get("relatedPlaylists") or {}).get("uploads")
        if not uploads:
            raise UnexpectedResponse("YouTube did not name the channel's uploads playlist")
        state.channel_id = str(channel.get("id") or self.channel_id)
        state.channel_title = str((channel.get("snippet") or {}).get("title") or self.account.handle)
        state.uploads = str(uploads)

    def _probe_uploads(self, state: _State, run: _Run, deep: bool) -> bool:
        """Newest uploads first until a known one, then any unfinished older sweep; ``deep`` reads
        the whole playlist. Returns whether the playlist was read to its end."""
        try:
            head = self._upload_pages(state, run, None, None if deep else state.etags.get("uploads"), deep)
            if head is None:  # 304: the first page is as it was
                head = _Sweep()
            else:
                self._uploads_gone(state, run, head)
            resume = state.resume.pop("uploads", None)
            older = self._upload_pages(state, run, resume, None, deep) if resume and not head.complete else None
            changed = list(dict.fromkeys(head.changed + (older.changed if older else [])))
            self._video_details(changed, state, run)
        except _OutOfQuota:
            run.out_of_quota = True
            return False
        # Only a finished sweep may leave a token behind: the details above were all fetched.
        leftover = older.token if older else head.token if head.stopped_early else None
        if leftover:
            state.resume["uploads"] = leftover
        if head.etag:
            state.etags["uploads"] = head.etag
        return head.complete

    def _upload_pages(
        self, state: _State, run: _Run, token: str | None, etag: str | None, deep: bool = False
    ) -> _Sweep | None:
        sweep = _Sweep()
        resume_from = token
        for number in range(self.max_pages):
            request = self.service.playlistItems().list(
                part="snippet,contentDetails", playlistId=state.uploads, maxResults=50, pageToken=token
            )
            page = self._call(request, run, etag=etag if number == 0 else None)
            if page is None:
                return None
            if number == 0:
                sweep.etag = str(page.body.get("etag") or "")
            reached_known = False
            for entry in page.items:
                video_id, fingerprint, published = _playlist_entry(entry)
                if not video_id:
                    continue
                sweep.listed[video_id] = published
                known = state.videos.get(video_id)
                reached_known = reached_known or known is not None
                if known is None or known[0] != fingerprint:
                    sweep.changed.append(video_id)
            token = page.next_token
            if token is None:
                sweep.complete = True
                return sweep
            if reached_known and not deep and resume_from is None:
                return sweep  # newest first: past the first known video, the rest is known
        sweep.token, sweep.stopped_early = token, True
        return sweep

    def _video_details(self, ids: list[str], state: _State, run: _Run) -> None:
        for start in range(0, len(ids), 50):
            batch = ids[start : start + 50]
            request = self.service.videos().list(part="snippet,contentDetails,status", id=",".join(batch), maxResults=50)
            page = self._call(request, run)
            assert page is not None
            for video in page.items:
                item = self._video_item(video, state, page.raw)
                run.items[item.external_id] = item
                published = int(item.created_at.timestamp())
                state.videos[item.external_id] = [_fingerprint(video.get("snippet") or {}), published]

    def _uploads_gone(self, state: _State, run: _Run, sweep: _Sweep) -> None:
        """Known videos missing from the stretch of the playlist just read; videos.list confirms."""
        if not sweep.listed:
            return
        oldest = None if sweep.complete else min(sweep.listed.values())
        missing = [
            v for v, (_, published) in state.videos.items()
            if v not in sweep.listed and (oldest is None or int(published) >= oldest)
        ]
        for start in range(0, len(missing), 50):
            batch = missing[start : start + 50]
            page = self._call(self.service.videos().list(part="id", id=",".join(batch), maxResults=50), run)
            assert page is not None
            alive = {str(v.get("id")) for v in page.items}
            for video_id in batch:
                if video_id not in alive:
                    run.gone.append(video_id)
                    state.videos.pop(video_id, None)

    # --- comments ---

    def _probe_comments(self, state: _State, run: _Run, moderation: str | None, deep: bool) -> bool:
        """Comment threads newest first (``deep``: all of them); returns whether all were read."""
        try:
            return self._comment_sweeps(state, run, moderation, deep)
        except _OutOfQuota:
            run.out_of_quota = True
            return False

    def _comment_sweeps(self, state: _State, run: _Run, moderation: str | None, deep: bool) -> bool:
        """The channel-wide thread listing, or one listing per recent video where that is refused."""
        probe = moderation or "comments"
        extra = {"moderationStatus": moderation} if moderation else {}
        if not state.per_video_comments:
            try:
                selector = {"allThreadsRelatedToChannelId": state.channel_id, **extra}
                tolerate = FALLBACK_REASONS | {"commentsDisabled"}
                return self._thread_sweep(state, run, probe, selector, moderation, tolerate, deep)
            except _Tolerated as refused:
                log.info(
                    "youtube %s: allThreadsRelatedToChannelId refused (%s); reading per video",
                    self.account.handle, refused.reason,
                )
                state.per_video_comments = True
        recent = sorted(state.videos, key=lambda v: int(state.videos[v][1]), reverse=True)[: self.recent_videos]
        complete = True
        for video_id in recent:
            try:
                selector = {"videoId": video_id, **extra}
                complete &= self._thread_sweep(
                    state, run, f"{probe}:{video_id}", selector, moderation, {"commentsDisabled"}, deep
                )
            except _Tolerated:
                continue  # comments disabled on this video
        return complete

    def _thread_sweep(
        self,
        state: _State,
        run: _Run,
        probe: str,
        selector: dict[str, str],
        moderation: str | None,
        tolerate: set[str],
        deep: bool,
    ) -> bool:
        """Newest threads first until a page reaches known ones, then any unfinished older sweep."""
        resume = state.resume.pop(probe, None)
        complete = self._thread_pages(state, run, probe, selector, moderation, None, tolerate, deep)
        if resume and not complete:
            complete = self._thread_pages(state, run, probe, selector, moderation, resume, tolerate, deep)
        return complete

    def _thread_pages(
        self,
        state: _State,
        run: _Run,
        probe: str,
        selector: dict[str, str],
        moderation: str | None,
        token: str | None,
        tolerate: set[str],
        deep: bool = False,
    ) -> bool:
        """Reads thread pages; True when the listing was read to its end."""
        resuming = token is not None
        for number in range(self.max_pages):
            request = self.service.commentThreads().list(
                part="snippet,replies", maxResults=100, order="time", textFormat="plainText", pageToken=token, **selector
            )
            etag = state.etags.get(probe) if number == 0 and not resuming and not deep else None
            try:
                page = self._call(request, run, etag=etag, tolerate=tolerate)
            except _OutOfQuota:
                if token:
                    state.resume[probe] = token
                raise
            if page is None:
                return False
            if number == 0 and not resuming and page.body.get("etag"):
                state.etags[probe] = str(page.body["etag"])
            known_before = sum(1 for thread in page.items if str(thread.get("id")) in state.threads)
            news = sum(self._thread(state, run, thread, page.raw, moderation) for thread in page.items)
            token = page.next_token
            if token is None:
                return True
            # Newest first: a page that reaches threads seen before needs no successor.
            if (news == 0 or known_before > 0) and not resuming and not deep:
                return False
        if token:
            state.resume[probe] = token
        return False

    def _thread(self, state: _State, run: _Run, thread: dict[str, Any], raw: RawCapture, moderation: str | None) -> int:
        """Emit a thread's new or edited parts; returns 1 when anything in it was new."""
        snippet = thread.get("snippet") or {}
        top = snippet.get("topLevelComment") or {}
        thread_id = str(thread.get("id") or top.get("id") or "")
        if not thread_id:
            return 0
        top_snippet = top.get("snippet") or {}
        updated = int(parse_utc(top_snippet.get("updatedAt") or top_snippet.get("publishedAt")).timestamp())
        count = int(snippet.get("totalReplyCount") or 0)
        previous = state.threads.get(thread_id)
        changed = previous is None or int(previous[1]) != updated
        if changed:
            item = self._comment_item(top, snippet.get("videoId"), ItemKind.COMMENT, raw, state, moderation)
            run.items[item.external_id] = item
        more_replies = count > 0 and (previous is None or int(previous[0]) != count)
        if more_replies:
            inline = [c for c in (thread.get("replies") or {}).get("comments") or [] if isinstance(c, dict)]
            replies = iter(inline) if len(inline) >= count else self._all_replies(thread_id, run)
            for reply in replies:
                item = self._comment_item(reply, snippet.get("videoId"), ItemKind.REPLY, raw, state, moderation)
                run.items[item.external_id] = item
        state.threads.pop(thread_id, None)
        state.threads[thread_id] = [count, updated]
        return 1 if changed or more_replies else 0

    def _all_replies(self, parent_id: str, run: _Run) -> Iterator[dict[str, Any]]:
        token: str | None = None
        for _ in range(self.max_pages):
            request = self.service.comments().list(
                part="snippet", parentId=parent_id, maxResults=100, textFormat="plainText", pageToken=token
            )
            try:
                page = self._call(request, run, tolerate={"commentNotFound", "notFound"})
            except _Tolerated:
                return  # the thread was deleted between listing it and reading its replies
            assert page is not None
            for reply in page.items:
                yield {**reply, "_raw": page.raw}
            token = page.next_token
            if token is None:
                return

    # --- items ---

    def _video_item(self, video: dict[str, Any], state: _State, raw: RawCapture) -> Item:
        snippet = video.get("snippet") or {}
        details = video.get("contentDetails") or {}
        status = video.get("status") or {}
        video_id = str(video.get("id"))
        title = str(snippet.get("title") or "")
        description = str(snippet.get("description") or "")
        attributes = {
            "title": title,
            "licensedContent": "true" if details.get("licensedContent") else "false",
            "privacyStatus": str(status.get("privacyStatus") or ""),
            "madeForKids": "true" if status.get("madeForKids") else "false",
        }
        known = state.videos.get(video_id)
        return Item(
            platform=self.platform,
            account_key=self.account.key,
            external_id=video_id,
            kind=ItemKind.POST,
            text=f"{title}\n\n{description}".strip(),
            author=str(snippet.get("channelTitle") or state.channel_title),
            created_at=parse_utc(snippet.get("publishedAt")),
            permalink=f"https://www.youtube.com/watch?v={video_id}",
            media=tuple(self._thumbnail(video_id, snippet.get("thumbnails") or {})),
            # A video seen before with a different title or description was edited (time unknown).
            edited_at=self.env.clock() if known is not None else None,
            raw=raw,
            attributes=attributes,
            author_is_school=True,
        )

    def _thumbnail(self, video_id: str, thumbnails: dict[str, Any]) -> Iterator[Media]:
        for size in THUMBNAIL_ORDER:
            url = (thumbnails.get(size) or {}).get("url")
            if url:
                yield Media(
                    kind=MediaKind.IMAGE,
                    url=str(url),
                    download_url=rewrite_url(str(url), self.media_base_url),
                    external_id=f"{video_id}:{size}",
                )
                return

    def _comment_item(
        self, comment: dict[str, Any], video_id: Any, kind: ItemKind, raw: RawCapture, state: _State, moderation: str | None
    ) -> Item:
        snippet = comment.get("snippet") or {}
        comment_id = str(comment.get("id"))
        published = parse_utc(snippet.get("publishedAt"))
        updated = parse_utc(snippet.get("updatedAt") or snippet.get("publishedAt"))
        author_channel = str((snippet.get("authorChannelId") or {}).get("value") or "")
        video = str(video_id or snippet.get("videoId") or "")
        attributes = {"authorChannelId": author_channel}
        if moderation or snippet.get("moderationStatus"):
            attributes["moderationStatus"] = str(snippet.get("moderationStatus") or moderation)
        parent = str(snippet.get("parentId")) if kind == ItemKind.REPLY else (video or None)
        return Item(
            platform=self.platform,
            account_key=self.account.key,
            external_id=comment_id,
            kind=kind,
            text=str(snippet.get("textOriginal") or snippet.get("textDisplay") or ""),
            author=str(snippet.get("authorDisplayName") or ""),
            created_at=published,
            permalink=f"https://www.youtube.com/watch?v={video}&lc={comment_id}" if video else "",
            parent_external_id=parent,
            edited_at=updated if updated != published else None,
            raw=comment.get("_raw", raw),
            attributes=attributes,
            author_is_school=bool(author_channel) and author_channel == state.channel_id,
        )

    # --- one call, costed and typed ---

    def _call(
        self, request: Any, run: _Run, *, etag: str | None = None, tolerate: set[str] | frozenset[str] = frozenset()
    ) -> _Page | None:
        """Execute one request (1 unit); ``None`` for 304 Not Modified."""
        if run.units_left < 1:
            raise _OutOfQuota()
        run.units_left -= 1
        run.usage = run.usage + Usage(api_calls=1, quota_units=1)
        if etag:
            request.headers["If-None-Match"] = etag
        now = self.env.clock()
        uri = _without_key(str(request.uri))
        try:
            content = request.execute(num_retries=0)
        except HttpError as exc:
            if exc.resp.status == 304:
                return None
            self._raise_for(exc, now, tolerate)
        except google.auth.exceptions.RefreshError as exc:
            raise AuthFailed(
                f"YouTube channel {self.account.handle}: Google refused to refresh the OAuth token. Run the "
                "consent flow again and replace YOUTUBE_OAUTH_TOKEN_FILE. If the Google Cloud OAuth app is "
                "still in 'Testing' status its refresh tokens expire after 7 days: publish the app."
            ) from exc
        except google.auth.exceptions.TransportError as exc:
            raise TransientError(f"could not reach Google to refresh the OAuth token: {type(exc).__name__}") from exc
        except TimeoutError as exc:
            raise timed_out("YouTube", self.env.timeout_seconds) from exc
        except (OSError, httplib2.HttpLib2Error) as exc:
            raise unreachable("YouTube", self.base_url, exc) from exc
        body_bytes = content if isinstance(content, bytes) else str(content).encode("utf-8")
        raw = RawCapture(uri=uri, body=body_bytes, captured_at=now)
        run.captures.append(raw)
        body = json_document(body_bytes, "YouTube", urlsplit(uri).path, lambda b: isinstance(b.get("items", []), list))
        return _Page(body, raw)

    def _raise_for(self, exc: HttpError, now: datetime, tolerate: set[str] | frozenset[str]) -> None:
        status = exc.resp.status
        reason, message = _error_reason(exc.content)
        handle = self.account.handle
        if reason in tolerate:
            raise _Tolerated(reason)
        if reason in QUOTA_REASONS:
            raise QuotaExhausted(
                f"YouTube quota exceeded ({reason}) for the Google project used by {handle}; it resets at "
                "midnight Pacific time",
                resets_at=_next_pacific_midnight(now),
            ) from exc
        if reason in RATE_REASONS or status == 429:
            retry = exc.resp.get("retry-after")
            wait = int(retry) if retry and str(retry).isdigit() else 60
            raise RateLimited(f"YouTube rate limit for {handle} ({reason or status})", retry_after=now + timedelta(seconds=wait)) from exc
        if status in (401, 403) or reason in AUTH_REASONS:
            raise AuthFailed(
                f"YouTube refused the credentials for {handle} ({status} {reason or ''}: {message}). Check "
                "YOUTUBE_API_KEY and that the YouTube Data API v3 is enabled for its Google Cloud project."
            ) from exc
        if status >= 500:
            raise server_error("YouTube", status, handle) from exc
        raise UnexpectedResponse(f"YouTube answered {status} {reason or ''} for {handle}: {message}") from exc


def _playlist_entry(entry: dict[str, Any]) -> tuple[str, str, int]:
    snippet = entry.get("snippet") or {}
    details = entry.get("contentDetails") or {}
    video_id = str(details.get("videoId") or (snippet.get("resourceId") or {}).get("videoId") or "")
    published = str(details.get("videoPublishedAt") or snippet.get("publishedAt") or "")
    return video_id, _fingerprint(snippet), int(parse_utc(published).timestamp())


def _fingerprint(snippet: dict[str, Any]) -> str:
    """Title and description decide whether a video was edited."""
    basis = f"{snippet.get('title', '')}\n{snippet.get('description', '')}"
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:10]


def _error_reason(content: bytes) -> tuple[str, str]:
    try:
        error = json.loads(content).get("error") or {}
        errors = error.get("errors") or [{}]
        return str(errors[0].get("reason") or error.get("status") or ""), str(error.get("message") or "")[:200]
    except (ValueError, AttributeError, TypeError, IndexError):
        return "", "unreadable error body"


def _credentials(secret: str, handle: str, token_url: str) -> Credentials:
    """OAuth user credentials from a credentials JSON (systemd credential) or a path to one."""
    try:
        text = secret if secret.lstrip().startswith("{") else open(secret, encoding="utf-8").read()
        info = json.loads(text)
        # Built directly: from_authorized_user_info always forces Google's token endpoint, and the
        # endpoint is a documented option here (proxies, tests).
        return Credentials(  # type: ignore[no-untyped-call]
            token=None,
            refresh_token=str(info["refresh_token"]),
            client_id=str(info["client_id"]),
            client_secret=str(info["client_secret"]),
            token_uri=token_url,
            scopes=SCOPES,
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise NotConfigured(
            f"YouTube channel {handle}: YOUTUBE_OAUTH_TOKEN_FILE is not a readable OAuth credentials file "
            f"with client_id, client_secret and refresh_token ({type(exc).__name__})"
        ) from None


def _pacific() -> Any:
    try:
        return ZoneInfo("America/Los_Angeles")
    except ZoneInfoNotFoundError:  # no tz database: UTC-8 is never earlier than the real reset
        from datetime import timezone

        return timezone(timedelta(hours=-8))


def _pacific_day(now: datetime) -> date:
    return now.astimezone(_pacific()).date()


def _next_pacific_midnight(now: datetime) -> datetime:
    """When YouTube's daily quota resets."""
    tomorrow = _pacific_day(now) + timedelta(days=1)
    return datetime.combine(tomorrow, time(0), tzinfo=_pacific()).astimezone(UTC)


def _without_key(uri: str) -> str:
    """The request URI as evidence, without the API key."""
    parts = urlsplit(uri)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "key"]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))
