"""Instagram connector through the official Instagram API (Instagram Login, graph.instagram.com).

The recommended Instagram connector: it needs a business or creator account and a long-lived
access token, and reads the school's media, their comments and the replies to those comments.

Cost model: every poll lists the newest media (one call per page) and re-lists older pages only
while they hold posts younger than ``recent_days``; a full listing every ``full_sweep_hours``
catches caption edits and new comments on old posts and proves deletions. Comments are read
only for media whose ``comments_count`` changed, so an unchanged account costs one call a poll.

Long-lived tokens last 60 days. The connector refreshes the token when fewer than
``refresh_when_days_left`` days remain and hands the new one to ``env.save_secret``; the token's
expiry (never the token) lives in the cursor. The token travels as the documented
``access_token`` query parameter, so it is cut out of every capture's URI and body (Instagram
echoes it inside ``paging.next``) before anything is kept as evidence.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from connectors.base import (
    AuthFailed,
    ConnectorEnv,
    ConnectorError,
    NotConfigured,
    RateLimited,
    UnexpectedResponse,
)
from connectors.common import (
    KnownPost,
    account_secret,
    forget_unlisted,
    install_log_filter,
    json_document,
    json_object_or_empty,
    per_account_name,
    reconcile_comments,
    rewrite_url,
    server_error,
    text_hash,
    timed_out,
    unreachable,
)
from connectors.common import env_suffix as env_suffix
from connectors.common import int_option as _int_option
from connectors.common import url_option as _url_option
from monitor.domain import Account, Cursor, FetchResult, Item, ItemKind, Media, MediaKind, RawCapture, Usage

log = logging.getLogger(__name__)

# Every per-account option this connector reads (documented in docs/instagram.md).
OPTIONS = (
    "ig_user_id",
    "api_base_url",
    "api_version",
    "media_base_url",
    "page_size",
    "recent_days",
    "full_sweep_hours",
    "refresh_when_days_left",
    "max_comment_calls_per_poll",
)
DEFAULT_BASE = "https://graph.instagram.com"
TOKEN_NAME = "INSTAGRAM_ACCESS_TOKEN"
MEDIA_FIELDS = (
    "id,caption,media_type,media_url,thumbnail_url,permalink,timestamp,comments_count,"
    "children{id,media_type,media_url,thumbnail_url}"
)
REPLY_FIELDS = "id,text,timestamp,username"
COMMENT_FIELDS = f"id,text,timestamp,username,replies{{{REPLY_FIELDS}}}"
# Graph API error codes that mean "slow down" (app, user, page and business-use-case limits).
RATE_CODES = {4, 17, 32, 613, 80001, 80002, 80006}
AUTH_CODES = {102, 190}
# Permission errors (10: not granted, 200-299: a specific permission missing).
PERMISSION_CODES = {10, *range(200, 300)}
PERMISSIONS = "the permissions instagram_business_basic and instagram_business_manage_comments"
REFRESH_RETRY = timedelta(days=1)
DEFAULT_BACKOFF = timedelta(hours=1)
REDACTED = b"REDACTED"


class _RedactAccessToken(logging.Filter):
    """httpx logs each request URL at INFO, and the token rides in the query: cut it out."""

    pattern = re.compile(r"(access_token=)[^&\s\"']+")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "access_token=" in message:
            record.msg = self.pattern.sub(r"\1***", message)
            record.args = None
        return True


install_log_filter(_RedactAccessToken, "httpx")


@dataclass(frozen=True)
class _TokenInfo:
    fingerprint: str = ""
    expires_at: datetime | None = None
    retry_at: datetime | None = None


@dataclass(frozen=True)
class _State:
    media: dict[str, KnownPost] = field(default_factory=dict)
    swept_at: datetime | None = None
    token: _TokenInfo = _TokenInfo()

    def to_cursor(self) -> Cursor:
        data = {
            "v": 1,
            "media": {k: v.to_json() for k, v in self.media.items()},
            "swept_at": _iso(self.swept_at),
            "token": {
                "fp": self.token.fingerprint,
                "expires_at": _iso(self.token.expires_at),
                "retry_at": _iso(self.token.retry_at),
            },
        }
        return Cursor(json.dumps(data, sort_keys=True, separators=(",", ":")))

    @classmethod
    def from_cursor(cls, cursor: Cursor | None) -> _State:
        if cursor is None:
            return cls()
        try:
            data = json.loads(cursor.value)
            media = {str(k): KnownPost.from_json(v) for k, v in (data.get("media") or {}).items()}
            token = data.get("token") or {}
            return cls(
                media,
                _parse_time(data.get("swept_at")),
                _TokenInfo(
                    str(token.get("fp") or ""), _parse_time(token.get("expires_at")), _parse_time(token.get("retry_at"))
                ),
            )
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
            # Ingestion is idempotent: an unreadable cursor costs a full re-read, nothing more.
            log.warning("instagram cursor unreadable (%s): starting from scratch", type(exc).__name__)
            return cls()


@dataclass
class _Run:
    items: dict[str, Item] = field(default_factory=dict)
    captures: list[RawCapture] = field(default_factory=list)
    usage: Usage = Usage()


@dataclass(frozen=True)
class _Page:
    body: dict[str, Any]
    raw: RawCapture

    @property
    def data(self) -> list[dict[str, Any]]:
        data = self.body.get("data")
        return [d for d in data if isinstance(d, dict) and d.get("id")] if isinstance(data, list) else []

    @property
    def after(self) -> str | None:
        return _next_after(self.body)


class InstagramGraphConnector:
    """Reads one Instagram professional account through the official Instagram API."""

    platform = "instagram_graph"
    version = "1.0"

    def __init__(self, account: Account, env: ConnectorEnv) -> None:
        self.account = account
        self.env = env
        self.handle = account.handle.lstrip("@")
        secret = account_secret(env, TOKEN_NAME, self.handle)
        self.token_name = secret.name  # a refreshed token is saved under the name it came from
        if not secret.value:
            raise NotConfigured(
                f"Instagram account @{self.handle}: no access token. Set {TOKEN_NAME} (or "
                f"{per_account_name(TOKEN_NAME, self.handle)} for this account only) in the environment or as a "
                "systemd credential; docs/instagram.md explains how to create one."
            )
        self.token = secret.value
        opts = account.options
        self.user_id = opts.get("ig_user_id", "").strip() or "me"
        self.base_url = url_option(opts.get("api_base_url", DEFAULT_BASE), "api_base_url", self.handle)
        version = opts.get("api_version", "").strip().strip("/")
        self.prefix = f"/{version}" if version else ""
        media_base = opts.get("media_base_url", "").strip()
        self.media_base_url = url_option(media_base, "media_base_url", self.handle) if media_base else ""
        self.page_size = min(100, max(1, int_option(opts, "page_size", 50, self.handle)))
        self.recent = timedelta(days=int_option(opts, "recent_days", 14, self.handle))
        self.sweep_every = timedelta(hours=int_option(opts, "full_sweep_hours", 24, self.handle))
        self.refresh_margin = timedelta(days=int_option(opts, "refresh_when_days_left", 30, self.handle))
        # Instagram counts calls per account per hour: a large first read is spread over polls.
        # (Comment reads only: the listing always completes, so every poll makes progress.)
        self.max_calls = max(1, int_option(opts, "max_comment_calls_per_poll", 100, self.handle))
        self.client = httpx.Client(timeout=httpx.Timeout(env.timeout_seconds), follow_redirects=False)

    # --- the protocol ---

    def fetch(self, since: Cursor | None) -> FetchResult:
        """Media, comments and replies new or changed since the cursor; media proven deleted."""
        run = _Run()
        try:
            return self._fetch(since, run)
        except ConnectorError as exc:
            exc.usage = run.usage  # a failed poll's calls still count against the hourly limit
            raise

    def _fetch(self, since: Cursor | None, run: _Run) -> FetchResult:
        now = self.env.clock()
        state = _State.from_cursor(since)
        token_info = self._maybe_refresh(state.token, now, run)
        sweep = state.swept_at is None or now - state.swept_at >= self.sweep_every
        listed, complete = self._list_media(state, now, sweep, run)
        listing_calls = run.usage.api_calls

        known = dict(state.media)
        gone: list[str] = []
        deferred = False
        for media_id, (post, count, caption_hash) in listed.items():
            before = known.get(media_id)
            if before is None or before.caption_hash != caption_hash:
                run.items[media_id] = post  # new, or an edited caption: storage makes a revision
            comment_ids = before.comment_ids if before else ()
            count_before = before.comments if before else 0
            # A comment deleted and another written leave the count unchanged: a periodic sweep
            # (not the catch-up of a first read) reads the comments of recent posts again whatever
            # their count says, within the budget (a skipped re-read never holds the sweep open).
            recheck = (
                sweep
                and state.swept_at is not None
                and before is not None
                and count > 0
                and post.created_at >= now - self.recent
            )
            over = run.usage.api_calls - listing_calls >= self.max_calls
            if count != count_before and over:
                # Over this poll's budget: newest posts went first; the rest wait for the next poll,
                # which lists everything again (the sweep is not done) so none is forgotten.
                deferred = True
                count = count_before
            elif count != count_before or (recheck and not over):
                comment_ids, vanished, complete_read = self._read_comments(media_id, comment_ids, run)
                gone.extend(vanished)
                count = count if complete_read else count_before  # unread: try again next poll
            known[media_id] = KnownPost(count, caption_hash, comment_ids)
        # Deletions are proven only by a complete listing; an empty one while we knew media is
        # more likely a platform hiccup than a wiped account, so it proves nothing.
        if complete and listed:
            gone.extend(forget_unlisted(known, listed))
        new_state = _State(known, now if complete and not deferred else state.swept_at, token_info)
        return FetchResult(
            items=tuple(run.items.values()),
            cursor=new_state.to_cursor(),
            gone_external_ids=tuple(gone),
            usage=run.usage,
            captures=tuple(run.captures),
        )

    # --- media ---

    def _list_media(
        self, state: _State, now: datetime, sweep: bool, run: _Run
    ) -> tuple[dict[str, tuple[Item, int, str]], bool]:
        """Pages of media, newest first; stops early on a page of known, older media unless sweeping."""
        listed: dict[str, tuple[Item, int, str]] = {}
        after: str | None = None
        while True:
            params = {"fields": MEDIA_FIELDS, "limit": str(self.page_size)}
            if after:
                params["after"] = after
            page = self._get(f"/{self.user_id}/media", params, run)
            oldest: datetime | None = None
            all_known = True
            for node in page.data:
                post = self._post(node, page.raw)
                caption_hash = text_hash(post.text)
                listed[post.external_id] = (post, _int(node.get("comments_count")), caption_hash)
                oldest = post.created_at if oldest is None else min(oldest, post.created_at)
                all_known = all_known and post.external_id in state.media
            after = page.after
            if not after or not page.data:
                # "data" missing altogether is no listing at all, and an empty page that still
                # links to a next one is a listing cut short: neither can prove deletions.
                return listed, isinstance(page.body.get("data"), list) and not _has_next(page.body)
            if not sweep and all_known and oldest is not None and oldest < now - self.recent:
                return listed, False

    def _post(self, node: dict[str, Any], raw: RawCapture) -> Item:
        media: list[Media] = []
        children = node.get("children") if isinstance(node.get("children"), dict) else None
        parts = [c for c in (children or {}).get("data") or [] if isinstance(c, dict)] or [node]
        for part in parts:
            media.extend(self._media(part))
        return Item(
            platform=self.platform,
            account_key=self.account.key,
            external_id=str(node["id"]),
            kind=ItemKind.POST,
            text=str(node.get("caption") or ""),
            author=self.handle,
            created_at=_graph_time(node.get("timestamp")),
            permalink=str(node.get("permalink") or ""),
            media=tuple(media),
            raw=raw,
            attributes={"media_type": str(node.get("media_type") or "")},
            author_is_school=True,
        )

    def _media(self, node: dict[str, Any]) -> list[Media]:
        kind = str(node.get("media_type") or "IMAGE").upper()
        found: list[Media] = []
        url = str(node.get("media_url") or "")
        if url:
            found.append(
                Media(
                    MediaKind.VIDEO if kind == "VIDEO" else MediaKind.IMAGE,
                    url,
                    rewrite_url(url, self.media_base_url),
                    external_id=str(node.get("id") or ""),
                )
            )
        thumb = str(node.get("thumbnail_url") or "")
        if thumb and kind == "VIDEO":
            # The still is what the face and text detectors can read of a video.
            found.append(
                Media(
                    MediaKind.IMAGE, thumb, rewrite_url(thumb, self.media_base_url), external_id=str(node.get("id") or "")
                )
            )
        return found

    # --- comments ---

    def _read_comments(
        self, media_id: str, known: tuple[str, ...], run: _Run
    ) -> tuple[tuple[str, ...], list[str], bool]:
        """Every comment and reply on one media: new ones become items; returns ids now, gone, complete."""
        seen: list[str] = []
        old = set(known)
        after: str | None = None
        listing = True
        while True:
            params = {"fields": COMMENT_FIELDS, "limit": "50"}
            if after:
                params["after"] = after
            page = self._get(f"/{media_id}/comments", params, run)
            listing = listing and isinstance(page.body.get("data"), list)
            for node in page.data:
                comment = self._comment(node, media_id, ItemKind.COMMENT, page.raw)
                seen.append(comment.external_id)
                if comment.external_id not in old:
                    run.items[comment.external_id] = comment
                replies = node.get("replies") if isinstance(node.get("replies"), dict) else {}
                for reply_node in [r for r in (replies or {}).get("data") or [] if isinstance(r, dict) and r.get("id")]:
                    self._add_reply(reply_node, comment.external_id, page.raw, old, seen, run)
                reply_after = _next_after(replies or {})
                while reply_after:
                    more = self._get(
                        f"/{comment.external_id}/replies",
                        {"fields": REPLY_FIELDS, "limit": "50", "after": reply_after},
                        run,
                    )
                    for reply_node in more.data:
                        self._add_reply(reply_node, comment.external_id, more.raw, old, seen, run)
                    reply_after = more.after if more.data else None
                    if not reply_after and (_has_next(more.body) or not isinstance(more.body.get("data"), list)):
                        listing = False  # replies cut short: unseen ones are not proven deleted
            after = page.after
            if not after or not page.data:
                listing = listing and not _has_next(page.body)
                break
        # A page without "data" is no listing: it proves nothing about deletions.
        ids, vanished = reconcile_comments(known, seen, complete=listing)
        return ids, vanished, listing

    def _add_reply(
        self, node: dict[str, Any], parent: str, raw: RawCapture, old: set[str], seen: list[str], run: _Run
    ) -> None:
        reply = self._comment(node, parent, ItemKind.REPLY, raw)
        seen.append(reply.external_id)
        if reply.external_id not in old:
            run.items[reply.external_id] = reply

    def _comment(self, node: dict[str, Any], parent: str, kind: ItemKind, raw: RawCapture) -> Item:
        return Item(
            platform=self.platform,
            account_key=self.account.key,
            external_id=str(node["id"]),
            kind=kind,
            text=str(node.get("text") or ""),
            author=str(node.get("username") or ""),
            created_at=_graph_time(node.get("timestamp")),
            parent_external_id=parent,
            raw=raw,
            author_is_school=str(node.get("username") or "").lower() == self.handle.lower(),
        )

    # --- the token ---

    def _maybe_refresh(self, info: _TokenInfo, now: datetime, run: _Run) -> _TokenInfo:
        """Refresh the long-lived token well before it expires; failures wait a day, never the poll."""
        fingerprint = hashlib.sha256(self.token.encode()).hexdigest()[:16]
        if info.fingerprint != fingerprint:
            info = _TokenInfo(fingerprint)  # a token set by hand: its age is unknown, so refresh now
        if info.retry_at and now < info.retry_at:
            return info
        if info.expires_at and info.expires_at - now > self.refresh_margin:
            return info
        if self.env.save_secret is None:
            if info.expires_at and info.expires_at - now < timedelta(days=7):
                log.warning(
                    "Instagram access token for @%s expires on %s and cannot be saved when refreshed",
                    self.handle,
                    info.expires_at.date(),
                )
            return info
        url = f"{self.base_url}/refresh_access_token"
        try:
            response = self.client.get(url, params={"grant_type": "ig_refresh_token", "access_token": self.token})
        except httpx.HTTPError as exc:
            log.warning(
                "Instagram token refresh for @%s failed (%s); trying again tomorrow", self.handle, type(exc).__name__
            )
            return _TokenInfo(fingerprint, info.expires_at, now + REFRESH_RETRY)
        run.usage = run.usage + Usage(api_calls=1)
        body = json_object_or_empty(response.content)
        new_token = str(body.get("access_token") or "")
        if response.status_code != 200 or not new_token:
            code = _int((body.get("error") or {}).get("code") if isinstance(body.get("error"), dict) else None)
            if response.status_code == 401 or code == 190:
                raise AuthFailed(self._auth_message(response.status_code))
            # e.g. a token less than 24 hours old cannot be refreshed yet.
            log.warning(
                "Instagram token refresh for @%s was refused (%s); trying again tomorrow",
                self.handle,
                response.status_code,
            )
            return _TokenInfo(fingerprint, info.expires_at, now + REFRESH_RETRY)
        try:
            self.env.save_secret(self.token_name, new_token)
        except (OSError, RuntimeError) as exc:
            # The old token stays valid until its own expiry: keep polling with it, and refresh
            # again tomorrow rather than hold a new token that would be lost at the next restart.
            log.warning(
                "Instagram access token for @%s was refreshed but could not be saved (%s); trying again tomorrow",
                self.handle,
                type(exc).__name__,
            )
            return _TokenInfo(fingerprint, info.expires_at, now + REFRESH_RETRY)
        self.token = new_token
        expires = now + timedelta(seconds=_int(body.get("expires_in")) or 60 * 86400)
        log.info("Instagram access token for @%s refreshed; it now expires on %s", self.handle, expires.date())
        return _TokenInfo(hashlib.sha256(new_token.encode()).hexdigest()[:16], expires)

    # --- HTTP ---

    def _get(self, path: str, params: dict[str, str], run: _Run) -> _Page:
        now = self.env.clock()
        url = f"{self.base_url}{self.prefix}{path}"
        try:
            response = self.client.get(url, params={**params, "access_token": self.token})
        except httpx.TimeoutException as exc:
            raise timed_out("Instagram", self.env.timeout_seconds) from exc
        except httpx.HTTPError as exc:
            raise unreachable("Instagram", self.base_url, exc) from exc
        run.usage = run.usage + Usage(api_calls=1)
        body_bytes = response.content.replace(self.token.encode(), REDACTED)
        if response.status_code != 200:
            self._raise_for_error(response, now)
        raw = RawCapture(
            uri=f"{url}?{urlencode(params)}",
            body=body_bytes,
            captured_at=now,
            content_type=response.headers.get("content-type", "application/json"),
            status=response.status_code,
        )
        run.captures.append(raw)
        body = json_document(body_bytes, "Instagram", path)
        if isinstance(body.get("error"), dict):
            self._raise_for_error(response, now)
        return _Page(body, raw)

    def _raise_for_error(self, response: httpx.Response, now: datetime) -> None:
        status = response.status_code
        error = json_object_or_empty(response.content).get("error")
        error = error if isinstance(error, dict) else {}
        code = _int(error.get("code"))
        message = str(error.get("message") or "")[:200].replace(self.token, "***")
        if status == 429 or code in RATE_CODES:
            raise RateLimited(
                f"Instagram rate limit reached for @{self.handle} ({status}, code {code})",
                retry_after=now + _retry_after(response.headers),
            )
        if code in PERMISSION_CODES:
            # The token works but lacks a permission (typically comments): a new token is needed,
            # not a new login, and saying which permission saves IT a guess.
            raise AuthFailed(
                f"Instagram refused a request for @{self.handle} for want of a permission ({message or code}). "
                f"Generate a new token with {PERMISSIONS} (docs/instagram.md) and update {self.token_name}."
            )
        if status in (401, 403) or code in AUTH_CODES or error.get("type") == "OAuthException":
            raise AuthFailed(self._auth_message(status, message))
        if status >= 500 or code in (1, 2):
            raise server_error("Instagram", status, f"@{self.handle}")
        raise UnexpectedResponse(f"Instagram answered {status} for @{self.handle}: {message or 'no details given'}")

    def _auth_message(self, status: int, detail: str = "") -> str:
        return (
            f"Instagram refused the access token for @{self.handle} ({status}{': ' + detail if detail else ''}). "
            f"Create a new long-lived token (docs/instagram.md) and update {self.token_name}."
        )


def _retry_after(headers: httpx.Headers) -> timedelta:
    """How long Instagram asks us to wait: Retry-After, else the business-use-case estimate."""
    value = headers.get("retry-after", "").strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    for name in ("x-business-use-case-usage", "x-app-usage"):
        usage = json_object_or_empty(headers.get(name, "").encode())
        minutes = [
            _int(entry.get("estimated_time_to_regain_access"))
            for entries in usage.values()
            if isinstance(entries, list)
            for entry in entries
            if isinstance(entry, dict)
        ]
        if any(minutes):
            return timedelta(minutes=max(minutes))
    return DEFAULT_BACKOFF


def _next_after(body: dict[str, Any]) -> str | None:
    paging = body.get("paging")
    if not isinstance(paging, dict) or not paging.get("next"):
        return None
    cursors = paging.get("cursors")
    after = cursors.get("after") if isinstance(cursors, dict) else None
    if not after:
        # Some answers carry the cursor only inside the next link.
        after = next(iter(parse_qs(urlsplit(str(paging["next"])).query).get("after", [])), None)
    return str(after) if after else None


def _has_next(body: dict[str, Any]) -> bool:
    """Instagram says there is more after this page."""
    paging = body.get("paging")
    return isinstance(paging, dict) and bool(paging.get("next"))


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _graph_time(value: Any) -> datetime:
    """Graph timestamps look like ``2021-08-13T08:25:28+0000``."""
    parsed = _parse_time(value)
    if parsed is None:
        raise UnexpectedResponse(f"Instagram sent an item without a readable timestamp ({value!r})")
    return parsed


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    text = str(value).replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = f"{text[:-2]}:{text[-2:]}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


# The option helpers by their old names (connectors/common.py has the shared versions).
rewrite = rewrite_url


def int_option(options: Any, name: str, default: int, handle: str) -> int:
    """A whole-number account option, or NotConfigured naming the option."""
    return _int_option(options, name, default, f"Instagram account @{handle}")


def url_option(value: str, name: str, handle: str) -> str:
    """An http(s) URL account option without its trailing slash, or NotConfigured."""
    return _url_option(value, name, f"Instagram account @{handle}")
