"""Helpers the platform connectors share: account options, secrets, log hygiene, HTTP plumbing.

Only logic that is the same in every connector using it lives here; anything a platform does its
own way (error codes, paging, cursors) stays in that platform's module. Messages are built from a
``who`` label the connector passes in (``"X account @school"``, ``"YouTube channel school"``) so
each platform keeps its own wording.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from connectors.base import ConnectorEnv, NotConfigured, TransientError, UnexpectedResponse

# --- account options ---


def int_option(options: Mapping[str, str], name: str, default: int, who: str) -> int:
    """A whole-number account option, or NotConfigured naming the account and the option."""
    value = str(options.get(name, default)).strip()
    try:
        return int(value)
    except ValueError:
        raise NotConfigured(f"{who}: option {name} must be a whole number, not {value!r}") from None


def url_option(value: str, name: str, who: str) -> str:
    """An http(s) URL account option without its trailing slash, or NotConfigured."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise NotConfigured(f"{who}: option {name} must be an http(s) URL, not {value!r}")
    return value.strip().rstrip("/")


def rewrite_url(url: str, base: str) -> str:
    """The same path on ``base`` (a proxy or test server), or "" when no rewriting is set."""
    if not base:
        return ""
    parts = urlsplit(url)
    return base.rstrip("/") + parts.path + (f"?{parts.query}" if parts.query else "")


# --- secrets ---


def env_suffix(handle: str) -> str:
    """A handle as an environment variable suffix (``st.marys_school`` -> ``ST_MARYS_SCHOOL``)."""
    return "".join(ch if ch.isalnum() else "_" for ch in handle.upper())


def per_account_name(name: str, handle: str) -> str:
    """The secret name that overrides ``name`` for one account (``X_BEARER_TOKEN_ST_MARYS``)."""
    return f"{name}_{env_suffix(handle)}"


@dataclass(frozen=True)
class AccountSecret:
    """A secret looked up per account first, then shared; ``name`` is where it came from."""

    name: str  # the per-account name when that is set, else the shared name (set or not)
    value: str  # "" when neither is set


def account_secret(env: ConnectorEnv, name: str, handle: str) -> AccountSecret:
    """``<name>_<HANDLE>`` when set (one account's own credential), else ``<name>``."""
    own = per_account_name(name, handle)
    value = env.secret(own)
    if value:
        return AccountSecret(own, value)
    return AccountSecret(name, env.secret(name) or "")


# --- log hygiene ---


class DropDebugRecords(logging.Filter):
    """Drops DEBUG records outright: client libraries log request headers or URLs (tokens) there."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


def install_log_filter(kind: type[logging.Filter], *logger_names: str) -> None:
    """Adds a ``kind`` filter to each named logger once, however often a module is imported."""
    for logger_name in logger_names:
        logger = logging.getLogger(logger_name)
        if not any(isinstance(f, kind) for f in logger.filters):
            logger.addFilter(kind())


# --- HTTP ---


class HostRewriteAdapter(HTTPAdapter):
    """A requests adapter that sends a library's hard-coded hosts to configured bases, with a timeout.

    ``bases`` maps a host (``https://api.twitter.com``) to the base URL its requests go to (the
    real API, a proxy, or a test server on 127.0.0.1). ``last_status`` is the status of the last
    answer, for error bodies a client library cannot parse.
    """

    def __init__(self, bases: Mapping[str, str], timeout: float) -> None:
        super().__init__(max_retries=0)  # connectors never retry: the caller decides
        self.bases = dict(bases)
        self.timeout = timeout
        self.last_status = 0

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        url = request.url or ""
        for host, base in self.bases.items():
            if base != host and url.startswith(host + "/"):
                request.url = base.rstrip("/") + url[len(host) :]
                # Proxies were chosen for the old host; choose again for the new one (NO_PROXY).
                kwargs["proxies"] = requests.utils.get_environ_proxies(request.url)
                break
        kwargs["timeout"] = self.timeout
        response = super().send(request, **kwargs)
        self.last_status = response.status_code
        return response


def json_object_or_empty(content: Any) -> dict[str, Any]:
    """``content`` parsed as a JSON object, or {} (error bodies are often not JSON at all)."""
    try:
        body = json.loads(content)
    except (ValueError, TypeError):
        return {}
    return body if isinstance(body, dict) else {}


def json_document(
    content: bytes, platform: str, path: str, shape_ok: Callable[[dict[str, Any]], bool] = lambda _body: True
) -> dict[str, Any]:
    """A response body as a JSON object of the expected shape, or UnexpectedResponse naming ``path``."""
    try:
        body = json.loads(content)
    except ValueError as exc:
        raise UnexpectedResponse(f"{platform} sent malformed JSON from {path}") from exc
    if not isinstance(body, dict) or not shape_ok(body):
        raise UnexpectedResponse(f"{platform} sent an unexpected document from {path}")
    return body


def timed_out(platform: str, timeout_seconds: float) -> TransientError:
    """The failure for a request that got no answer in time."""
    return TransientError(f"{platform} did not answer within {timeout_seconds:.0f}s")


def unreachable(platform: str, base_url: str, exc: BaseException) -> TransientError:
    """The failure for a request that could not reach the platform at all."""
    return TransientError(f"could not reach {platform} at {base_url}: {type(exc).__name__}")


def server_error(platform: str, status: int, subject: str) -> TransientError:
    """The failure for a 5xx answer: worth retrying later."""
    return TransientError(f"{platform} server error {status} for {subject}")


# --- posts whose comments are read only when their count changes (both Instagram connectors) ---


@dataclass(frozen=True)
class KnownPost:
    """What a cursor remembers of one post: its comment count, caption fingerprint and comment ids."""

    comments: int
    caption_hash: str
    comment_ids: tuple[str, ...] = ()

    def to_json(self) -> list[Any]:
        """Compact cursor form: ``[count, caption hash, [comment ids]]``."""
        return [self.comments, self.caption_hash, list(self.comment_ids)]

    @classmethod
    def from_json(cls, value: Any) -> KnownPost:
        """Reads ``to_json``'s form; raises ValueError, TypeError or IndexError on anything else."""
        return cls(int(value[0]), str(value[1]), tuple(str(c) for c in value[2]))


def forget_unlisted(known: dict[str, KnownPost], listed: Collection[str]) -> list[str]:
    """Drops the posts a complete listing no longer shows; returns their ids and their comments'."""
    gone: list[str] = []
    for post_id in [p for p in known if p not in listed]:
        gone.append(post_id)
        gone.extend(known.pop(post_id).comment_ids)
    return gone


def reconcile_comments(
    known: tuple[str, ...], seen: list[str], complete: bool
) -> tuple[tuple[str, ...], list[str]]:
    """The comment ids to remember after reading a post's comments, and the ones proven deleted.

    Only a complete read proves a deletion: after one cut short, every id is kept.
    """
    if not complete:
        return tuple(dict.fromkeys((*known, *seen))), []
    now_seen = set(seen)
    return tuple(seen), [c for c in known if c not in now_seen]


# --- values ---


def parse_utc(value: Any) -> datetime:
    """An ISO 8601 time (``Z`` allowed) as aware UTC; the epoch when missing."""
    if not value:
        return datetime(1970, 1, 1, tzinfo=UTC)
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def text_hash(text: str) -> str:
    """A short fingerprint of a caption, to notice edits without keeping the text in the cursor."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
