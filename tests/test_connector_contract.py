"""One contract suite run over every platform kit in tests/fakes/*_kit.py (real client libraries,
real local HTTP server): every registered network connector must have a kit and pass it."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.base import (
    AuthFailed,
    ConnectorError,
    NotConfigured,
    RateLimited,
    TransientError,
    UnexpectedResponse,
)
from connectors.registry import available_connectors
from monitor.domain import Cursor, FetchResult, ItemKind
from tests.fakes.contract import PlatformKit
from tests.fakes.server import FakePlatform

FAKES = Path(__file__).parent / "fakes"
# Connectors that read local files, not a platform API: no HTTP kit applies.
OFFLINE = {"archive"}


def _kits() -> list[PlatformKit]:
    kits = []
    for path in sorted(FAKES.glob("*_kit.py")):
        module = importlib.import_module(f"tests.fakes.{path.stem}")
        kits.extend(k for k in vars(module).values() if isinstance(k, PlatformKit))
    return kits


KITS = _kits()


@pytest.fixture(params=KITS, ids=lambda kit: kit.platform)
def kit(request: pytest.FixtureRequest) -> PlatformKit:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def platform() -> Iterator[FakePlatform]:
    fake = FakePlatform()
    with fake.running():
        yield fake


def test_every_registered_connector_has_a_kit() -> None:
    covered = {kit.platform for kit in KITS}
    missing = set(available_connectors()) - OFFLINE - covered
    assert not missing, f"connectors without a contract kit in tests/fakes: {sorted(missing)}"


def test_documented_options_pass_the_config_secret_check(kit: PlatformKit) -> None:
    """The config loader rejects secret-looking option names; no connector may need one."""
    from monitor.config import SECRET_KEY_PATTERN

    factory = available_connectors()[kit.platform].factory
    options = getattr(importlib.import_module(factory.__module__), "OPTIONS", ())
    assert [name for name in options if SECRET_KEY_PATTERN.search(name)] == []


def _fetch(kit: PlatformKit, platform: FakePlatform, cursor: Cursor | None = None) -> FetchResult:
    return kit.build(platform).fetch(cursor)


def test_parses_recorded_payloads_into_valid_items(kit: PlatformKit, platform: FakePlatform) -> None:
    kit.serve_account(platform)
    result = _fetch(kit, platform)
    posts = [i for i in result.items if i.kind == ItemKind.POST]
    comments = [i for i in result.items if i.kind != ItemKind.POST]
    assert len(posts) >= 2 and comments
    ids = {i.external_id for i in result.items}
    for item in result.items:
        assert item.platform == kit.platform and item.external_id
        assert item.created_at.tzinfo is not None and item.created_at.year > 2000
        assert item.raw is not None and item.raw.body and item.raw in result.captures
        json.loads(item.raw.body)  # the evidence is the exact JSON the platform sent
    for post in posts:
        assert post.author_is_school and post.permalink.startswith("https://")
    for comment in comments:
        assert comment.parent_external_id, comment
        assert comment.kind == ItemKind.COMMENT or comment.parent_external_id in ids
    assert any(m.url for p in posts for m in p.media)
    assert result.usage.api_calls > 1 and result.captures  # paged: more than one call


def test_cursor_advances_and_an_unchanged_account_yields_nothing(kit: PlatformKit, platform: FakePlatform) -> None:
    kit.serve_account(platform)
    first = _fetch(kit, platform)
    assert first.cursor.value
    second = _fetch(kit, platform, first.cursor)  # a new instance: as after a restart
    assert second.items == ()
    assert second.usage.api_calls < first.usage.api_calls


@pytest.mark.parametrize(
    ("status", "headers", "expected"),
    [
        (401, {}, AuthFailed),
        (403, {}, AuthFailed),
        (429, {"x-rate-limit-reset": "4102444800", "Retry-After": "120"}, RateLimited),
        (503, {}, TransientError),
    ],
)
def test_maps_http_failures_to_typed_errors(
    kit: PlatformKit, platform: FakePlatform, status: int, headers: dict[str, str], expected: type[ConnectorError]
) -> None:
    body = json.dumps({"error": {"code": status, "message": "refused", "errors": [{"reason": "x"}]}, "title": "refused"})
    kit.serve_error(platform, status, body.encode(), headers)
    with pytest.raises(expected) as caught:
        _fetch(kit, platform)
    if isinstance(caught.value, RateLimited):
        assert caught.value.retry_after is not None


def test_survives_a_malformed_page(kit: PlatformKit, platform: FakePlatform) -> None:
    kit.serve_error(platform, 200, b'{"data": [{"id": "1", "text": "trunc', {})
    with pytest.raises(UnexpectedResponse):
        _fetch(kit, platform)
    # The platform recovers: the same connector, from no cursor, reads the account normally.
    platform.routes.clear()
    kit.serve_account(platform)
    assert _fetch(kit, platform).items


def test_unconfigured_raises_not_configured(kit: PlatformKit) -> None:
    with pytest.raises(NotConfigured) as caught:
        kit.build_unconfigured()
    assert "set" in str(caught.value).lower()


def test_empty_response_pages_are_handled(kit: PlatformKit, platform: FakePlatform) -> None:
    kit.serve_account(platform)
    first = _fetch(kit, platform)
    platform.routes.clear()
    # Every call now answers an empty (but valid) page: nothing new, nothing gone.
    kit.serve_error(platform, 200, b"{}", {})
    result = _fetch(kit, platform, first.cursor)
    assert result.items == () and result.gone_external_ids == ()


def test_unreachable_platform_is_transient(kit: PlatformKit) -> None:
    fake = FakePlatform()
    with fake.running():
        connector = kit.build(fake)
    with pytest.raises(TransientError):
        connector.fetch(None)  # the server is gone: connection refused
