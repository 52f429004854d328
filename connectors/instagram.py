"""Instagram connector through instaloader, for schools without a professional account.

Prefer ``instagram_graph`` (docs/instagram.md): this one reads Instagram's web app interface,
which Instagram throttles and blocks often. It logs in only through a saved instaloader session
file (never a password) and reads the school's posts and, with a session, their comments and
replies. Without a session (``anonymous = "true"``) it reads posts only: comments need a login.

Blocks are mapped to typed failures and back off hard: a block answered as 401 "Please wait a
few minutes", a 429, a refused query (400) or a profile page without the profile (which
instaloader reports as "does not exist", although the school's own account plainly does) all
raise ``RateLimited`` with a retry ``backoff_hours`` away, so the daemon pauses the account,
marks it degraded and tells IT once. A rejected session or a checkpoint raises ``AuthFailed``.

instaloader is pointed at ``web_base_url`` / ``mobile_base_url`` by a requests adapter that
rewrites www.instagram.com and i.instagram.com (a proxy, or the test server), records every
response for the evidence store and applies the timeout. instaloader's own sleeping is turned off:
when its rate controller wants to wait, this poll stops and hands back what it has read.
"""

from __future__ import annotations

import io
import json
import logging
import pickle
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import instaloader
import requests

from connectors.base import (
    AuthFailed,
    ConnectorEnv,
    ConnectorError,
    NotConfigured,
    RateLimited,
    TransientError,
    UnexpectedResponse,
)
from connectors.common import (
    HostRewriteAdapter,
    KnownPost,
    forget_unlisted,
    int_option,
    reconcile_comments,
    rewrite_url,
    server_error,
    text_hash,
    timed_out,
    url_option,
)
from monitor.domain import Account, Cursor, FetchResult, Item, ItemKind, Media, MediaKind, RawCapture, Usage

log = logging.getLogger(__name__)

# Every per-account option this connector reads (documented in docs/instagram.md).
OPTIONS = (
    "session_file",
    "login_user",
    "anonymous",
    "web_base_url",
    "mobile_base_url",
    "media_base_url",
    "backoff_hours",
    "full_sweep_hours",
    "known_run",
    "max_comment_requests_per_poll",
)
HOSTS = {"https://www.instagram.com": "web_base_url", "https://i.instagram.com": "mobile_base_url"}
BLOCK_WORDS = ("wait a few minutes", "feedback_required")
CHECKPOINT_WORDS = ("checkpoint_required", "challenge_required", "logged out", "login page")
# Posts this young have their comments re-read on the daily sweep (see _read).
RECHECK_RECENT = timedelta(days=14)


class _WouldWait(Exception):
    """instaloader's rate controller wanted to sleep ``seconds``: the poll stops instead."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"instaloader would wait {seconds:.0f}s")
        self.seconds = seconds


class _NoSleep(instaloader.RateController):
    """The documented hook for rate limiting: raise instead of sleeping (a connector never sleeps)."""

    def sleep(self, secs: float) -> None:
        raise _WouldWait(secs)


@dataclass
class _Seen:
    status: int
    body: bytes
    capture: RawCapture | None
    retry_after: str = ""


class _Recorder(HostRewriteAdapter):
    """Rewrites Instagram's hosts to the configured bases, applies the timeout, keeps each answer."""

    def __init__(self, bases: dict[str, str], timeout: float, clock: Any) -> None:
        super().__init__(bases, timeout)
        self.clock = clock
        self.last: _Seen | None = None
        self.captures: list[RawCapture] = []
        self.calls = 0

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        original = request.url or ""  # evidence names Instagram's own URL, not the rewritten one
        self.last = None
        self.calls += 1
        response = super().send(request, **kwargs)
        body = response.content
        capture = None
        path = original.split("?")[0].rstrip("/")
        # The logged-in start page carries the session's form tokens: it is never kept as evidence.
        if path not in HOSTS and body:
            capture = RawCapture(
                original, body, self.clock(), response.headers.get("content-type", ""), response.status_code
            )
            self.captures.append(capture)
        self.last = _Seen(response.status_code, body, capture, response.headers.get("retry-after", ""))
        return response

    def mount_on(self, session: requests.Session) -> requests.Session:
        session.mount("https://", self)
        session.mount("http://", self)
        return session


class _Context(instaloader.InstaloaderContext):
    """instaloader's context with the recorder mounted on every session it makes or copies."""

    def __init__(self, recorder: _Recorder, timeout: float) -> None:
        self.recorder = recorder  # before super().__init__, which makes the first session
        super().__init__(
            sleep=False,
            quiet=True,
            max_connection_attempts=1,
            request_timeout=timeout,
            rate_controller=_NoSleep,
            iphone_support=False,
        )

    def get_anonymous_session(self) -> requests.Session:
        return self.recorder.mount_on(super().get_anonymous_session())

    def load_session(self, username: str, sessiondata: dict[str, str]) -> None:
        super().load_session(username, sessiondata)  # type: ignore[no-untyped-call]
        self.recorder.mount_on(self._session)

    def get_json(
        self,
        path: str,
        params: dict[str, Any],
        host: str = "www.instagram.com",
        session: requests.Session | None = None,
        response_headers: dict[str, Any] | None = None,
        use_post: bool = False,
    ) -> dict[str, Any]:
        # get_iphone_json and the GraphQL helpers copy the session: mount on the copy too.
        self.recorder.mount_on(session or self._session)
        result: dict[str, Any] = super().get_json(path, params, host, session, response_headers, use_post)
        return result

    def error(self, msg: str, repeat_at_end: bool = True) -> None:
        log.debug("instaloader: %s", msg)  # instaloader prints to stderr; keep it in our log instead


class _CookieUnpickler(pickle.Unpickler):
    """A session file is a pickled dict of cookie strings: refuse anything else (no code runs)."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"unexpected object {module}.{name} in session file")


@dataclass(frozen=True)
class _State:
    posts: dict[str, KnownPost] = field(default_factory=dict)
    swept_at: datetime | None = None

    def to_cursor(self) -> Cursor:
        data = {
            "v": 1,
            "posts": {k: v.to_json() for k, v in self.posts.items()},
            "swept_at": self.swept_at.isoformat() if self.swept_at else None,
        }
        return Cursor(json.dumps(data, sort_keys=True, separators=(",", ":")))

    @classmethod
    def from_cursor(cls, cursor: Cursor | None) -> _State:
        if cursor is None:
            return cls()
        try:
            data = json.loads(cursor.value)
            posts = {str(k): KnownPost.from_json(v) for k, v in data["posts"].items()}
            swept = datetime.fromisoformat(data["swept_at"]) if data.get("swept_at") else None
            return cls(posts, swept)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
            log.warning("instagram cursor unreadable (%s): starting from scratch", type(exc).__name__)
            return cls()


@dataclass
class _Poll:
    """What one poll has read so far."""

    known: dict[str, KnownPost]
    items: dict[str, Item] = field(default_factory=dict)
    gone: list[str] = field(default_factory=list)
    listed: set[str] = field(default_factory=set)
    deferred: bool = False
    comment_calls: int = 0
    # A periodic sweep (not the catch-up of a first read) re-reads recent posts' comments.
    recheck: bool = False


class _Stop(Exception):
    """This poll ends early but cleanly (instaloader would wait, or Instagram answered ``{}``)."""


class InstaloaderConnector:
    """Reads one Instagram account through instaloader and a saved session file."""

    platform = "instagram"
    version = "1.0"

    def __init__(self, account: Account, env: ConnectorEnv) -> None:
        self.account = account
        self.env = env
        self.handle = account.handle.lstrip("@").lower()
        opts = account.options
        who = f"Instagram account @{self.handle}"
        self.backoff = timedelta(hours=max(1, int_option(opts, "backoff_hours", 6, who)))
        self.sweep_every = timedelta(hours=int_option(opts, "full_sweep_hours", 24, who))
        # Up to three pinned posts sit above newer ones: four known posts in a row end the news.
        self.known_run = max(1, int_option(opts, "known_run", 4, who))
        # Gentle by default: fewer requests a poll means fewer blocks; a big first read is spread
        # out. Comment reads only: the listing always completes, so every poll makes progress.
        self.max_requests = max(1, int_option(opts, "max_comment_requests_per_poll", 100, who))
        media_base = opts.get("media_base_url", "").strip()
        self.media_base_url = url_option(media_base, "media_base_url", who) if media_base else ""
        bases = {host: url_option(opts.get(name, host), name, who) for host, name in HOSTS.items()}
        self.recorder = _Recorder(bases, env.timeout_seconds, env.clock)
        # One context for the connector's life: instaloader's rate controller counts across polls.
        self.context = _Context(self.recorder, env.timeout_seconds)
        self.logged_in = self._load_session(opts)

    def _load_session(self, opts: Any) -> bool:
        anonymous = opts.get("anonymous", "false").strip().lower() in ("true", "yes", "1")
        name = opts.get("session_file", "").strip() or f"session-{self.handle}"
        path = Path(name) if Path(name).is_absolute() else self.env.state_dir / name
        if not path.is_file():
            if anonymous:
                return False
            raise NotConfigured(
                f"Instagram account @{self.handle}: no instaloader session file at {path}. Create one as "
                'described in docs/instagram.md and set session_file, or set anonymous = "true" to read '
                "posts only (comments need a login)."
            )
        try:
            cookies = _CookieUnpickler(io.BytesIO(path.read_bytes())).load()
            if not isinstance(cookies, dict) or not cookies.get("sessionid") or "csrftoken" not in cookies:
                raise ValueError("not an instaloader session (no sessionid/csrftoken cookies)")
            self.context.load_session(
                opts.get("login_user", "").strip() or self.handle, {str(k): str(v) for k, v in cookies.items()}
            )
        except (OSError, ValueError, pickle.UnpicklingError, EOFError) as exc:
            raise NotConfigured(
                f"Instagram account @{self.handle}: the session file {path} cannot be used ({exc}). "
                "Create it again as described in docs/instagram.md."
            ) from None
        return True

    # --- the protocol ---

    def fetch(self, since: Cursor | None) -> FetchResult:
        """Posts (and, logged in, comments and replies) new or changed since the cursor."""
        now = self.env.clock()
        state = _State.from_cursor(since)
        self.recorder.captures = []
        calls_before = self.recorder.calls
        sweep = state.swept_at is None or now - state.swept_at >= self.sweep_every
        poll = _Poll(dict(state.posts), recheck=sweep and state.swept_at is not None)
        complete = False
        try:
            complete = self._read(poll, sweep, now)
        except _Stop as stop:
            log.info("Instagram poll of @%s stopped early: %s", self.handle, stop)
        except ConnectorError as exc:
            exc.usage = Usage(api_calls=self.recorder.calls - calls_before)  # a failed poll's requests count too
            raise
        known, gone = poll.known, poll.gone
        # Only a complete listing proves a deletion; an empty one proves nothing.
        if complete and poll.listed:
            gone.extend(forget_unlisted(known, poll.listed))
        # Comments left for later: the next poll lists everything again, so none is forgotten.
        new_state = _State(known, now if complete and not poll.deferred else state.swept_at)
        return FetchResult(
            items=tuple(poll.items.values()),
            cursor=new_state.to_cursor(),
            gone_external_ids=tuple(gone),
            usage=Usage(api_calls=self.recorder.calls - calls_before),
            captures=tuple(self.recorder.captures),
        )

    def _read(self, poll: _Poll, sweep: bool, now: datetime) -> bool:
        """Walks the timeline newest first; True when it reached the end (a complete listing)."""
        known, items, gone, listed = poll.known, poll.items, poll.gone, poll.listed
        run = 0
        with self._errors(now):
            profile = instaloader.Profile.from_username(self.context, self.handle)
            posts = profile.get_posts()
        for post in self._guarded(posts, now):
            with self._errors(now):
                post_id = str(post.mediaid)
                listed.add(post_id)
                node = instaloader.get_json_structure(post)["node"]
                count = _comment_count(node)
                item = self._post(post, self._raw(post_id))
            before = known.get(post_id)
            caption_hash = text_hash(item.text)
            if before is None or before.caption_hash != caption_hash:
                items[post_id] = item  # new, or an edited caption: storage makes a revision
                run = 0
            else:
                run += 1
            comment_ids = before.comment_ids if before else ()
            done_count = before.comments if before else 0
            # A comment deleted and another written leave the count unchanged: the daily sweep
            # reads the comments of recent posts again whatever their count says, within the
            # budget (a skipped re-read is not owed: it never holds the sweep open).
            recheck = poll.recheck and before is not None and count > 0 and item.created_at >= now - RECHECK_RECENT
            over = poll.comment_calls >= self.max_requests
            if self.logged_in and count != done_count and over:
                poll.deferred = True  # newest posts went first; the rest wait for the next poll
            elif self.logged_in and (count != done_count or (recheck and not over)):
                calls = self.recorder.calls
                with self._errors(now):
                    comment_ids, vanished = self._comments(post, post_id, comment_ids, items)
                poll.comment_calls += self.recorder.calls - calls
                gone.extend(vanished)
                done_count = count
                run = 0
            known[post_id] = KnownPost(done_count, caption_hash, comment_ids)
            if not sweep and run >= self.known_run:
                return False
        return True

    def _guarded(self, posts: Iterator[Any], now: datetime) -> Iterator[Any]:
        """The timeline iterator, with its page requests' failures typed."""
        while True:
            new_from = len(self.recorder.captures)
            with self._errors(now):
                try:
                    post = next(posts)
                except StopIteration:
                    # instaloader ends quietly on an empty page that says more follow: that is a
                    # listing cut short, which must not prove the unseen posts deleted.
                    if any(_cut_short(c.body) for c in self.recorder.captures[new_from:]):
                        raise _Stop("Instagram sent an empty page of posts that says more follow") from None
                    return
            yield post

    # --- items ---

    def _post(self, post: Any, raw: RawCapture) -> Item:
        media: list[Media] = []
        if post.typename == "GraphSidecar":
            for node in post.get_sidecar_nodes():
                media.extend(self._media(node.is_video, node.display_url, node.video_url))
        else:
            media.extend(self._media(post.is_video, post.url, post.video_url if post.is_video else None))
        return Item(
            platform=self.platform,
            account_key=self.account.key,
            external_id=str(post.mediaid),
            kind=ItemKind.POST,
            text=post.caption or "",
            author=self.handle,
            created_at=post.date_utc.replace(tzinfo=UTC),
            permalink=f"https://www.instagram.com/p/{post.shortcode}/",
            media=tuple(media),
            raw=raw,
            attributes={"typename": str(post.typename), "shortcode": str(post.shortcode)},
            author_is_school=True,
        )

    def _media(self, is_video: bool, display_url: str | None, video_url: str | None) -> list[Media]:
        found: list[Media] = []
        if is_video and video_url:
            found.append(Media(MediaKind.VIDEO, video_url, rewrite_url(video_url, self.media_base_url)))
        if display_url:  # a photo, or a video's still (what the face and text detectors can read)
            found.append(Media(MediaKind.IMAGE, display_url, rewrite_url(display_url, self.media_base_url)))
        return found

    def _comments(
        self, post: Any, post_id: str, known: tuple[str, ...], items: dict[str, Item]
    ) -> tuple[tuple[str, ...], list[str]]:
        seen: list[str] = []
        old = set(known)
        new_from = len(self.recorder.captures)
        for comment in post.get_comments():
            item = self._comment(comment, post_id, ItemKind.COMMENT, self._raw(str(comment.id)))
            seen.append(item.external_id)
            if item.external_id not in old:
                items[item.external_id] = item
            for answer in comment.answers:
                reply = self._comment(answer, item.external_id, ItemKind.REPLY, self._raw(str(answer.id)))
                seen.append(reply.external_id)
                if reply.external_id not in old:
                    items[reply.external_id] = reply
        # A read cut short proves nothing about the comments it did not reach.
        complete = not any(_cut_short(c.body) for c in self.recorder.captures[new_from:])
        return reconcile_comments(known, seen, complete)

    def _comment(self, comment: Any, parent: str, kind: ItemKind, raw: RawCapture) -> Item:
        author = str(comment.owner.username or "")
        return Item(
            platform=self.platform,
            account_key=self.account.key,
            external_id=str(comment.id),
            kind=kind,
            text=str(comment.text or ""),
            author=author,
            created_at=comment.created_at_utc.replace(tzinfo=UTC),
            parent_external_id=parent,
            raw=raw,
            author_is_school=author.lower() == self.handle,
        )

    def _raw(self, external_id: str) -> RawCapture:
        """The newest JSON answer that holds the item: the page it was read from."""
        needle = external_id.encode()
        for capture in reversed(self.recorder.captures):
            if capture.body[:1] in (b"{", b"[") and needle in capture.body:
                return capture
        raise UnexpectedResponse(f"Instagram's answers for @{self.handle} did not contain item {external_id}")

    # --- failures ---

    def _errors(self, now: datetime) -> _ErrorMap:
        return _ErrorMap(self, now)

    def blocked(self, why: str, now: datetime, at_least: timedelta = timedelta(0)) -> RateLimited:
        """A block: back off hard so the daemon pauses the account and tells IT once."""
        wait = max(self.backoff, at_least)
        return RateLimited(
            f"Instagram is blocking reads of @{self.handle} ({why}). Hall Monitor pauses this account "
            f"until {(now + wait):%Y-%m-%d %H:%M} UTC; if it keeps happening, switch to the instagram_graph "
            "connector (docs/instagram.md).",
            retry_after=now + wait,
        )

    def session_rejected(self, why: str) -> AuthFailed:
        return AuthFailed(
            f"Instagram rejected the saved session for @{self.handle} ({why}). Log in to the account in a "
            "web browser, clear any security check Instagram shows, then create the session file again "
            "(docs/instagram.md)."
        )


class _ErrorMap:
    """Turns what instaloader raises (and the HTTP answer behind it) into the connector's typed failures."""

    def __init__(self, connector: InstaloaderConnector, now: datetime) -> None:
        self.c = connector
        self.now = now

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: object) -> Literal[False]:
        if exc is None or isinstance(exc, ConnectorError | _Stop):
            return False
        if isinstance(exc, _WouldWait):
            raise _Stop(f"instaloader's rate controller asks for a {exc.seconds:.0f}s pause") from None
        raise self._typed(exc) from exc

    def _typed(self, exc: BaseException) -> Exception:
        c, now = self.c, self.now
        seen = c.recorder.last
        status = seen.status if seen else 0
        text = (seen.body[:2000].decode("utf-8", "replace") if seen else "") + " " + str(exc)
        lowered = text.lower()
        if seen is None and _caused_by(exc, requests.Timeout):
            return timed_out("Instagram", c.env.timeout_seconds)
        if seen is None and _caused_by(exc, requests.RequestException):
            return TransientError(f"could not reach Instagram for @{c.handle}: {type(_root(exc)).__name__}")
        if status == 200 and seen is not None and seen.body.strip() == b"{}":
            return _Stop("Instagram answered an empty document")
        if any(word in lowered for word in BLOCK_WORDS) or status == 429:
            retry = _retry_after_seconds(seen)
            return c.blocked(
                f"HTTP {status}: 'please wait a few minutes'" if status != 429 else "HTTP 429",
                now,
                timedelta(seconds=retry),
            )
        if isinstance(exc, instaloader.ProfileNotExistsException):
            # The school's own account exists: Instagram answers a blocked client with a page or
            # query result without the profile, which instaloader reports as "does not exist".
            return c.blocked(
                "Instagram said the profile does not exist, which for the school's own account "
                "means the requests are being refused; check the handle if this is a new account",
                now,
            )
        if isinstance(
            exc,
            instaloader.TwoFactorAuthRequiredException
            | instaloader.BadCredentialsException
            | instaloader.LoginException,
        ):
            return c.session_rejected("login refused")
        if any(word in lowered for word in CHECKPOINT_WORDS) or isinstance(exc, instaloader.LoginRequiredException):
            if not c.logged_in:
                return AuthFailed(
                    f"Instagram needs a login to read @{c.handle}: create a session file (docs/instagram.md)"
                )
            return c.session_rejected("security check or logged out")
        if isinstance(exc, instaloader.PrivateProfileNotFollowedException):
            return AuthFailed(f"@{c.handle} is private and the session's account does not follow it")
        if status in (401, 403):
            return c.session_rejected(f"HTTP {status}") if c.logged_in else c.blocked(f"HTTP {status}", now)
        if status >= 500:
            return server_error("Instagram", status, f"@{c.handle}")
        if status == 400 or isinstance(exc, instaloader.QueryReturnedBadRequestException):
            return c.blocked("query refused with HTTP 400; also check that instaloader is up to date", now)
        if status == 200 and _caused_by(exc, json.JSONDecodeError):
            return UnexpectedResponse(f"Instagram sent malformed JSON for @{c.handle}")
        if isinstance(exc, instaloader.ConnectionException) and seen is None:
            return TransientError(f"could not reach Instagram for @{c.handle}")
        return UnexpectedResponse(
            f"Instagram's answer for @{c.handle} was not understood (HTTP {status or 'none'}, "
            f"{type(exc).__name__}); updating instaloader may help"
        )


def _comment_count(node: dict[str, Any]) -> int:
    """Comments plus replies, as the timeline reports it (no extra request)."""
    for value in (
        node.get("comments"),
        (node.get("iphone_struct") or {}).get("comment_count"),
        (node.get("edge_media_to_comment") or {}).get("count"),
        (node.get("edge_media_to_parent_comment") or {}).get("count"),
    ):
        if isinstance(value, int):
            return value
    return 0


def _cut_short(body: bytes) -> bool:
    """A page of a GraphQL connection that is empty yet says more follow (instaloader just stops).

    Only the answer's own connection counts (``data`` and two levels below), not the reply threads
    nested in its nodes, which Instagram often leaves for a separate query.
    """
    try:
        doc = json.loads(body)
    except ValueError:
        return False
    level: list[Any] = [doc.get("data")] if isinstance(doc, dict) else []
    for _ in range(3):
        below: list[Any] = []
        for node in level:
            if not isinstance(node, dict):
                continue
            info = node.get("page_info")
            if isinstance(info, dict) and info.get("has_next_page") and not node.get("edges"):
                return True
            below.extend(value for key, value in node.items() if key != "edges")
        level = below
    return False


def _retry_after_seconds(seen: _Seen | None) -> int:
    """Retry-After when Instagram sends one; the back-off is the floor either way."""
    value = seen.retry_after.strip() if seen else ""
    return int(value) if value.isdigit() else 0


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    current: BaseException | None = exc
    while current is not None:
        if isinstance(current, kind):
            return True
        current = current.__cause__ or current.__context__
    return False


def _root(exc: BaseException) -> BaseException:
    while exc.__cause__ or exc.__context__:
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return exc
