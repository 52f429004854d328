"""The connector protocol, its typed failures and the connector registry.

A connector is one module implementing :class:`Connector`. It is built from an
:class:`~monitor.domain.Account` plus a :class:`ConnectorEnv` (secrets, HTTP client factory,
clock, scratch directory) and answers one question: *what is new or changed since this cursor?*

A connector never sleeps, schedules or writes to the database. It raises one of the typed
failures below so the caller can decide: pause the account and tell IT, wait, or retry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol, runtime_checkable

from monitor.domain import Account, Cursor, FetchResult, Usage


class ConnectorError(Exception):
    """Base of every failure a connector may raise.

    ``usage`` is what the failed fetch had already cost (quota is spent even when a later call
    fails), so the daemon can record it in the usage ledger.
    """

    kind = "error"
    usage: Usage = Usage()


class NotConfigured(ConnectorError):
    """Credentials or required options are missing: the account is disabled with one warning."""

    kind = "not_configured"


class AuthFailed(ConnectorError):
    """The platform rejected the credentials (expired token, revoked app, bad session file)."""

    kind = "auth_failed"


class RateLimited(ConnectorError):
    """Too many requests; try again after ``retry_after`` (UTC)."""

    kind = "rate_limited"

    def __init__(self, message: str, retry_after: datetime | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class QuotaExhausted(ConnectorError):
    """The daily or monthly quota or read budget is used up until ``resets_at`` (UTC)."""

    kind = "quota_exhausted"

    def __init__(self, message: str, resets_at: datetime | None = None) -> None:
        super().__init__(message)
        self.resets_at = resets_at


class TransientError(ConnectorError):
    """A network failure, timeout or 5xx: worth retrying at the next poll."""

    kind = "transient"


class UnexpectedResponse(ConnectorError):
    """The platform answered with something we cannot parse (malformed JSON, missing fields)."""

    kind = "unexpected_response"


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ConnectorEnv:
    """What the composition root hands every connector.

    ``secret(name)`` returns a secret from the environment or ``$CREDENTIALS_DIRECTORY`` (or
    ``None``); ``save_secret`` persists a refreshed token there. ``state_dir`` is a private
    directory for session files. ``clock`` returns the current UTC time.
    """

    secret: Callable[[str], str | None] = lambda _name: None
    clock: Callable[[], datetime] = _utc_now
    state_dir: Path = Path(".")
    timeout_seconds: float = 30.0
    save_secret: Callable[[str, str], None] | None = None
    # Usage already recorded for this account in the current period ("day" in UTC, "month"),
    # read from the usage ledger so a connector can plan requests within its budget.
    usage_so_far: Callable[[str], Usage] = lambda _period: Usage()


@runtime_checkable
class Connector(Protocol):
    """Fetches one account's new and changed items since a cursor.

    ``fetch(None)`` is the first poll. The returned cursor is stored by the caller only after the
    items have been committed, so a crash re-delivers items rather than losing them (ingestion is
    idempotent). ``gone_external_ids`` lists items the connector can prove were deleted.
    """

    platform: str
    version: str

    def fetch(self, since: Cursor | None) -> FetchResult: ...


ConnectorFactory = Callable[[Account, ConnectorEnv], Connector]
