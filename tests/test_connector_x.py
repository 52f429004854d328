"""X connector: the real tweepy client against a local fake X API serving recorded payload shapes."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest

from connectors.base import (
    AuthFailed,
    NotConfigured,
    QuotaExhausted,
    RateLimited,
    TransientError,
    UnexpectedResponse,
)
from connectors.x import XConnector
from monitor.clock import ManualClock
from monitor.domain import Account, ItemKind, MediaKind, Usage
from tests.fakes import x_kit
from tests.fakes.kit_support import platform_fixture  # noqa: F401 (the "platform" fixture)
from tests.fakes.server import FakePlatform, Response
from tests.fakes.x_kit import SCHOOL_ID, TOKEN, FakeX, build, fixture

NOW = datetime.now(UTC).replace(microsecond=0)


def _serve_raw(platform: FakePlatform, timeline: object, mentions: object = None) -> None:
    empty = {"meta": {"result_count": 0}}
    platform.route("GET", f"/2/users/{SCHOOL_ID}/tweets", lambda _r: Response.json(timeline))
    platform.route("GET", f"/2/users/{SCHOOL_ID}/mentions", lambda _r: Response.json(mentions or empty))
    platform.route("GET", "/2/tweets/search/recent", lambda _r: Response.json(empty))


def test_recorded_video_tweet_gives_preview_and_video_media_rewritten(platform: FakePlatform) -> None:
    _serve_raw(platform, fixture("media_tweet.json"))
    connector = build(platform, options={"media_base_url": "http://127.0.0.1:9/media"})
    result = connector.fetch(None)
    (item,) = result.items
    assert item.external_id == "1558553189766631429" and item.kind == ItemKind.POST and item.author_is_school
    kinds = [m.kind for m in item.media]
    assert kinds == [MediaKind.IMAGE, MediaKind.VIDEO]
    preview, video = item.media
    assert preview.url.startswith("https://pbs.twimg.com/ext_tw_video_thumb/")
    assert preview.download_url == "http://127.0.0.1:9/media" + preview.url.removeprefix("https://pbs.twimg.com")
    assert "480x270" in video.url  # the smallest mp4 rendition
    assert item.raw is not None and json.loads(item.raw.body)["data"][0]["id"] == item.external_id


def test_recorded_edited_tweet_becomes_a_revision_of_the_original(platform: FakePlatform) -> None:
    _serve_raw(platform, fixture("edited.json"))
    (item,) = build(platform).fetch(None).items
    assert item.external_id == "1576994746135764992"  # the first id in edit_history_tweet_ids
    assert item.text == "hey :) https://t.co/rnwEIoNuqd"
    assert item.edited_at == datetime(2022, 10, 3, 17, 57, 11, tzinfo=UTC)
    assert item.attributes["tweet_id"] == "1576994789110992896"


def test_recorded_mentions_take_authors_from_includes(platform: FakePlatform) -> None:
    _serve_raw(platform, {"meta": {"result_count": 0}}, fixture("photo_tweets.json"))
    items = build(platform).fetch(None).items
    assert len(items) == 4
    assert {i.author for i in items} == {"example_account"}
    assert all(i.kind == ItemKind.COMMENT and not i.author_is_school for i in items)
    assert sum(len(i.media) for i in items) == 8 and all(m.kind == MediaKind.IMAGE for i in items for m in i.media)


def test_paginates_then_resumes_after_restart_with_only_new_items(platform: FakePlatform) -> None:
    fake = FakeX()
    for n in range(230):
        fake.add_post(NOW - timedelta(days=30, minutes=-n), f"Archive post {n}")
    fake.install(platform)
    clock = ManualClock(NOW)
    first = build(platform, clock=clock).fetch(None)
    assert len(first.items) == 230
    assert platform.count(f"/2/users/{SCHOOL_ID}/tweets") == 3  # 100 + 100 + 30
    assert first.usage.billed_reads == 230

    clock.advance(timedelta(minutes=15))
    new_post = fake.add_post(clock.current - timedelta(minutes=5), "Sports day is on Friday")
    reply = fake.add_reply(clock.current - timedelta(minutes=4), new_post, "@oakfieldprimary What time?", "1400000000000009100")
    restarted = build(platform, clock=clock)  # a new instance with the stored cursor
    second = restarted.fetch(first.cursor)
    assert {i.external_id for i in second.items} == {new_post["id"], reply["id"]}
    assert next(i for i in second.items if i.external_id == reply["id"]).parent_external_id == new_post["id"]

    clock.advance(timedelta(minutes=15))
    calls = len(platform.requests)
    third = build(platform, clock=clock).fetch(second.cursor)
    assert third.items == () and third.usage.billed_reads == 0  # unchanged: nothing billed
    assert len(platform.requests) - calls == third.usage.api_calls


def test_overlap_catches_a_late_indexed_mention_without_duplicates(platform: FakePlatform) -> None:
    fake = x_kit.small_account(NOW)
    fake.install(platform)
    clock = ManualClock(NOW)
    first = build(platform, clock=clock).fetch(None)
    # A mention written a minute before that poll, which X's index only shows now.
    late = fake.add_reply(NOW - timedelta(minutes=1), fake.posts[-1], "@oakfieldprimary late one", "1400000000000009200")
    clock.advance(timedelta(minutes=15))
    second = build(platform, clock=clock).fetch(first.cursor)
    assert [i.external_id for i in second.items] == [late["id"]]
    clock.advance(timedelta(minutes=15))
    assert build(platform, clock=clock).fetch(second.cursor).items == ()


def test_reply_threads_come_from_conversation_search(platform: FakePlatform) -> None:
    fake = x_kit.small_account(NOW)
    fake.install(platform)
    items = build(platform).fetch(None).items
    deep = next(i for i in items if i.text == "@parent9001 agreed")  # no mention of the school
    assert deep.kind == ItemKind.REPLY and deep.parent_external_id is not None
    query = next(r.arg("query") for r in platform.requests if r.path == "/2/tweets/search/recent")
    assert query.count("conversation_id:") == 6  # the posts of the last seven days, in one query
    assert query.endswith(" -@oakfieldprimary -from:oakfieldprimary")  # read elsewhere already
    off = build(platform, options={"search_conversations": "false"}).fetch(None).items
    assert "@parent9001 agreed" not in {i.text for i in off}


def test_edit_and_deletion_are_reported(platform: FakePlatform) -> None:
    fake = x_kit.small_account(NOW)
    fake.install(platform)
    clock = ManualClock(NOW)
    first = build(platform, clock=clock).fetch(None)
    original = fake.posts[-2]
    fake.edit(original, NOW + timedelta(minutes=3), "Post 10: news from Oakfield (corrected)")
    doomed = fake.posts[-2]  # post 11
    fake.delete(doomed)
    clock.advance(timedelta(hours=25))  # past the daily deletion check
    second = build(platform, clock=clock).fetch(first.cursor)
    (edited,) = [i for i in second.items if i.kind == ItemKind.POST]
    assert edited.external_id == original["id"] and edited.edited_at is not None
    assert "corrected" in edited.text
    assert second.gone_external_ids == (doomed["id"],)
    assert platform.count("/2/tweets") - platform.count("/2/tweets/search") == 1  # one lookup


def test_monthly_read_budget_limits_pages_and_resumes(platform: FakePlatform) -> None:
    fake = FakeX()
    for n in range(60):
        fake.add_post(NOW - timedelta(days=20, minutes=-n), f"Post {n}")
    fake.install(platform)
    options = {"monthly_read_budget": "1000", "search_conversations": "false"}
    first = build(platform, options=options, usage=lambda _p: Usage(billed_reads=940)).fetch(None)
    # 60 reads left and a post may bring its author: pages of 30, 15 and 7, then it stops.
    sizes = [int(r.arg("max_results")) for r in platform.requests]
    assert sizes == [30, 15, 7] and len(first.items) == 52
    second = build(platform, options=options, usage=lambda _p: Usage(billed_reads=0)).fetch(first.cursor)
    assert len(second.items) == 8  # the unfinished sweep resumed where it stopped
    assert {i.external_id for i in first.items}.isdisjoint(i.external_id for i in second.items)
    with pytest.raises(QuotaExhausted) as caught:
        build(platform, options=options, usage=lambda _p: Usage(billed_reads=1000)).fetch(second.cursor)
    assert caught.value.resets_at is not None and caught.value.resets_at.day == 1


def _error(platform: FakePlatform, status: int, name: str, headers: dict[str, str] | None = None) -> None:
    body = json.dumps(fixture(f"errors/{name}.json")).encode()
    x_kit._serve_error(platform, status, body, headers or {})


def test_401_is_auth_failed(platform: FakePlatform) -> None:
    _error(platform, 401, "unauthorized")
    with pytest.raises(AuthFailed, match="X_BEARER_TOKEN"):
        build(platform).fetch(None)


def test_403_client_not_enrolled_explains_the_plan(platform: FakePlatform) -> None:
    _error(platform, 403, "client_not_enrolled")
    with pytest.raises(AuthFailed, match="pay-per-use"):
        build(platform).fetch(None)


def test_429_with_reset_header_is_rate_limited_until_then(platform: FakePlatform) -> None:
    reset = int((NOW + timedelta(minutes=7)).timestamp())
    _error(platform, 429, "too_many_requests", {"x-rate-limit-reset": str(reset)})
    with pytest.raises(RateLimited) as caught:
        build(platform).fetch(None)
    assert caught.value.retry_after == datetime.fromtimestamp(reset, UTC)
    assert platform.count() == 1  # no retry loop


def test_429_usage_capped_is_quota_exhausted_until_the_billing_cycle(platform: FakePlatform) -> None:
    _error(platform, 429, "usage_capped")
    with pytest.raises(QuotaExhausted) as caught:
        build(platform, options={"billing_cycle_day": "15"}, clock=lambda: datetime(2026, 11, 20, tzinfo=UTC)).fetch(None)
    assert caught.value.resets_at == datetime(2026, 12, 15, tzinfo=UTC)


def test_server_error_timeout_and_malformed_json(platform: FakePlatform) -> None:
    x_kit._serve_error(platform, 503, b"<html>down</html>", {"Content-Type": "text/html"})
    with pytest.raises(TransientError):
        build(platform).fetch(None)
    platform.route("GET", "/2/users/", lambda _r: Response(200, b"{}", delay_seconds=3.0))
    with pytest.raises(TransientError, match="did not answer"):
        build(platform).fetch(None)  # the kit's timeout is 2 s
    platform.route("GET", "/2/users/", lambda _r: Response(200, b'{"data": [', {"Content-Type": "application/json"}))
    with pytest.raises(UnexpectedResponse, match="malformed JSON"):
        build(platform).fetch(None)
    platform.route("GET", "/2/users/", lambda _r: Response(401, b"[1, 2]", {"Content-Type": "application/json"}))
    with pytest.raises(AuthFailed):
        build(platform).fetch(None)


def test_empty_pages_yield_nothing(platform: FakePlatform) -> None:
    FakeX().install(platform)
    result = build(platform).fetch(None)
    assert result.items == () and result.usage.billed_reads == 0 and result.cursor.value


def test_user_id_is_looked_up_once_when_not_configured(platform: FakePlatform) -> None:
    x_kit.small_account(NOW).install(platform)
    env = x_kit.ConnectorEnv(secret=lambda name: TOKEN if name == "X_BEARER_TOKEN_OAKFIELDPRIMARY" else None)
    connector = XConnector(Account("x", "oakfieldprimary", options={"api_base_url": platform.base_url}), env)
    first = connector.fetch(None)
    second = connector.fetch(first.cursor)
    assert platform.count("/2/users/by/username/oakfieldprimary") == 1
    assert second.items == ()


def test_not_configured_names_the_variable_and_bad_options() -> None:
    with pytest.raises(NotConfigured, match="X_BEARER_TOKEN"):
        XConnector(Account("x", "oakfieldprimary"), x_kit.ConnectorEnv())
    env = x_kit.ConnectorEnv(secret=lambda _n: TOKEN)
    with pytest.raises(NotConfigured, match="monthly_read_budget"):
        XConnector(Account("x", "oakfieldprimary", options={"monthly_read_budget": "lots"}), env)
    with pytest.raises(NotConfigured, match="api_base_url"):
        XConnector(Account("x", "oakfieldprimary", options={"api_base_url": "api.x.com"}), env)
    assert XConnector(Account("x", "oakfieldprimary"), env).base_url == "https://api.x.com"


def test_bearer_token_never_reaches_the_logs(platform: FakePlatform, caplog: pytest.LogCaptureFixture) -> None:
    x_kit.small_account(NOW).install(platform)
    with caplog.at_level(logging.DEBUG):
        build(platform).fetch(None)
    assert TOKEN not in caplog.text


def test_errors_only_answer_is_unexpected_and_a_bad_cursor_restarts(platform: FakePlatform) -> None:
    suspended = {"errors": [{"title": "Forbidden", "detail": "User has been suspended: [oakfieldprimary]."}]}
    platform.route("GET", "/2/users/", lambda _r: Response.json(suspended))
    with pytest.raises(UnexpectedResponse, match="suspended"):
        build(platform).fetch(None)
    platform.routes.clear()
    x_kit.small_account(NOW).install(platform)
    from monitor.domain import Cursor

    assert len(build(platform).fetch(Cursor("not json")).items) == 14  # read again from scratch
