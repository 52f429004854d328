"""YouTube connector: the real googleapiclient (bundled discovery document) against a local fake
YouTube Data API serving recorded payload shapes."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.base import (
    AuthFailed,
    NotConfigured,
    QuotaExhausted,
    RateLimited,
    TransientError,
    UnexpectedResponse,
)
from connectors.youtube import YouTubeConnector
from monitor.clock import ManualClock
from monitor.domain import Account, ItemKind, MediaKind, Usage
from tests.fakes import youtube_kit
from tests.fakes.kit_support import platform_fixture  # noqa: F401 (the "platform" fixture)
from tests.fakes.server import FakePlatform, Response
from tests.fakes.youtube_kit import API_KEY, CHANNEL_ID, UPLOADS, FakeYouTube, build, fixture, quota_error

NOW = datetime.now(UTC).replace(microsecond=0)


def _recorded_channel(platform: FakePlatform) -> None:
    """Serves the recorded responses as they are, paging by the recorded nextPageToken."""
    channel = fixture("info.json")
    channel["items"][0]["contentDetails"] = {"relatedPlaylists": {"uploads": UPLOADS}}
    pages = {"": fixture("playlist_items_paged_1.json"), "CAoQAA": fixture("playlist_items_paged_2.json")}
    threads = fixture("comment_threads_all_to_me.json")
    replies = {"": fixture("comments_by_parent_paged_1.json")}
    replies[replies[""]["nextPageToken"]] = fixture("comments_by_parent_paged_2.json")

    platform.route("GET", "/youtube/v3/channels", lambda _r: Response.json(channel))
    platform.route("GET", "/youtube/v3/playlistItems", lambda r: Response.json(pages[r.arg("pageToken")]))
    platform.route("GET", "/youtube/v3/videos", lambda _r: Response.json(fixture("videos_info_multi.json")))
    platform.route("GET", "/youtube/v3/commentThreads", lambda _r: Response.json(threads))
    platform.route("GET", "/youtube/v3/comments", lambda r: Response.json(replies[r.arg("pageToken")]))


def test_recorded_responses_parse_into_videos_and_comments(platform: FakePlatform) -> None:
    _recorded_channel(platform)
    result = build(platform, options={"media_base_url": "http://127.0.0.1:9/thumbs"}).fetch(None)
    assert platform.count("/youtube/v3/playlistItems") == 2  # both recorded pages
    videos = [i for i in result.items if i.kind == ItemKind.POST]
    comments = [i for i in result.items if i.kind == ItemKind.COMMENT]
    recorded = {v["id"] for v in fixture("videos_info_multi.json")["items"]}
    assert {v.external_id for v in videos} == recorded
    video = videos[0]
    assert video.author_is_school and video.permalink == f"https://www.youtube.com/watch?v={video.external_id}"
    (thumb,) = video.media
    assert thumb.kind == MediaKind.IMAGE and thumb.url.startswith("https://i.ytimg.com/vi/")
    assert thumb.download_url == "http://127.0.0.1:9/thumbs" + thumb.url.removeprefix("https://i.ytimg.com")
    assert video.attributes["licensedContent"] == "false"  # this recording has no contentDetails
    assert len(comments) == 4 and {c.text for c in comments} >= {"Hope to go next time. yah!"}
    assert all(c.raw is not None and b"commentThreadListResponse" in c.raw.body for c in comments)


def test_pages_resumes_after_restart_and_an_unchanged_channel_costs_one_unit(platform: FakePlatform) -> None:
    fake = youtube_kit.small_channel(NOW)
    fake.page_cap = 5
    fake.install(platform)
    clock = ManualClock(NOW)
    first = build(platform, clock=clock).fetch(None)
    posts = [i for i in first.items if i.kind == ItemKind.POST]
    replies = [i for i in first.items if i.kind == ItemKind.REPLY]
    assert len(posts) == 12 and platform.count("/youtube/v3/playlistItems") == 3
    assert posts[0].attributes["licensedContent"] == "true"
    assert len(replies) == 7 and platform.count("/youtube/v3/comments") == 2  # 7 > 5 inline: paged
    busy = next(i for i in first.items if i.text == "Brilliant assembly!")
    assert {r.parent_external_id for r in replies} == {busy.external_id}
    assert busy.parent_external_id == fake.videos[0]["id"]
    assert first.usage.quota_units == first.usage.api_calls == len(platform.requests)

    cursor = first.cursor
    for _ in range(4):  # uploads, comments, uploads, comments: one unit each
        clock.advance(timedelta(minutes=15))
        result = build(platform, clock=clock).fetch(cursor)
        assert result.items == () and result.usage == Usage(api_calls=1, quota_units=1)
        cursor = result.cursor

    new_video = fake.add_video(clock.current, "Harvest festival")
    thread = fake.add_comment(fake.videos[3], clock.current, "Great work", "Parent Elm")
    fake.add_reply(thread, clock.current, "Thanks!", "Oakfield Primary")
    seen: set[str] = set()
    for _ in range(2):  # one probe per poll: both changes are found within two polls
        clock.advance(timedelta(minutes=15))
        result = build(platform, clock=clock).fetch(cursor)
        seen |= {i.external_id for i in result.items}
        cursor = result.cursor
    assert seen == {new_video["id"], thread["id"], thread["_replies"][0]["id"]}


def test_edits_and_deletions(platform: FakePlatform) -> None:
    fake = youtube_kit.small_channel(NOW)
    fake.install(platform)
    clock = ManualClock(NOW)
    options = {"probes_per_poll": "2"}
    first = build(platform, clock=clock, options=options).fetch(None)
    edited_video = fake.videos[1]
    fake.edit_video(edited_video, "Video 10: Oakfield news (updated)")
    gone_video = fake.videos[2]
    fake.delete_video(gone_video)
    thread = fake.threads[-1]
    fake.edit_comment(thread, NOW + timedelta(minutes=5), "Brilliant assembly! (edited)")
    clock.advance(timedelta(minutes=15))
    second = build(platform, clock=clock, options=options).fetch(first.cursor)
    by_id = {i.external_id: i for i in second.items}
    assert set(by_id) == {edited_video["id"], thread["id"]}
    assert by_id[edited_video["id"]].edited_at is not None
    assert by_id[edited_video["id"]].text.startswith("Video 10: Oakfield news (updated)")
    assert by_id[thread["id"]].edited_at == NOW + timedelta(minutes=5)
    assert second.gone_external_ids == (gone_video["id"],)


def test_etag_turns_an_unchanged_first_page_into_304(platform: FakePlatform) -> None:
    fake = youtube_kit.small_channel(NOW)
    fake.install(platform)
    first = build(platform).fetch(None)
    build(platform).fetch(first.cursor)
    last = platform.requests[-1]
    assert last.path == "/youtube/v3/playlistItems" and last.headers.get("if-none-match")


def test_thread_listing_refused_falls_back_to_recent_videos(platform: FakePlatform) -> None:
    fake = youtube_kit.small_channel(NOW)
    fake.all_threads_refused = True
    fake.install(platform)
    result = build(platform, options={"recent_videos": "3"}).fetch(None)
    assert {i.text for i in result.items if i.kind == ItemKind.COMMENT} == {
        "Brilliant assembly!", "Well done everyone", "Lovely singing",
    }
    per_video = [r for r in platform.requests if r.path == "/youtube/v3/commentThreads" and r.arg("videoId")]
    assert len(per_video) == 3


def test_oauth_sees_held_for_review_comments(platform: FakePlatform, tmp_path: Path) -> None:
    fake = youtube_kit.small_channel(NOW)
    fake.add_comment(fake.videos[0], NOW, "Held comment naming a teacher", "Parent Fir", status="heldForReview")
    fake.install(platform)
    creds = {
        "client_id": "test-client.apps.googleusercontent.com", "client_secret": "test-secret",
        "refresh_token": "test-refresh-token", "type": "authorized_user",
    }
    options = {"oauth_refresh_url": f"{platform.base_url}/token"}
    path = tmp_path / "youtube-oauth.json"
    path.write_text(json.dumps(creds))
    secrets = {"YOUTUBE_OAUTH_TOKEN_FILE": str(path)}
    result = build(platform, secrets=secrets, options=options).fetch(None)
    held = [i for i in result.items if i.attributes.get("moderationStatus") == "heldForReview"]
    assert [i.text for i in held] == ["Held comment naming a teacher"]
    assert platform.count("/token") == 1

    creds["refresh_token"] = "revoked"
    with pytest.raises(AuthFailed, match="7 days"):
        build(platform, secrets={"YOUTUBE_OAUTH_TOKEN_FILE": json.dumps(creds)}, options=options).fetch(None)


def test_daily_quota_ledger_and_partial_progress(platform: FakePlatform) -> None:
    fake = youtube_kit.small_channel(NOW)
    fake.page_cap = 5
    fake.install(platform)
    with pytest.raises(QuotaExhausted) as caught:
        build(platform, usage=lambda _p: Usage(quota_units=9_800)).fetch(None)  # 200 kept in reserve
    assert platform.count() == 0 and caught.value.resets_at is not None
    options = {"daily_quota_units": "3", "quota_reserve_units": "0"}
    first = build(platform, options=options).fetch(None)
    assert first.usage.quota_units == 3 and platform.count() == 3
    assert first.items == ()  # channel + two playlist pages: no budget left for details
    second = build(platform, options=options, usage=lambda _p: Usage()).fetch(None)
    assert second.usage.quota_units == 3
    # The connector's own Pacific-day tally stops it even when the UTC ledger looks empty.
    with pytest.raises(QuotaExhausted):
        build(platform, options=options, usage=lambda _p: Usage()).fetch(first.cursor)


def test_quota_exceeded_waits_for_midnight_pacific(platform: FakePlatform) -> None:
    platform.route("GET", "/youtube/v3/", lambda _r: quota_error())
    clock = lambda: datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # noqa: E731
    with pytest.raises(QuotaExhausted) as caught:
        build(platform, clock=clock).fetch(None)
    assert caught.value.resets_at == datetime(2026, 11, 26, 8, 0, tzinfo=UTC)  # PST is UTC-8
    summer = lambda: datetime(2026, 7, 1, 12, 0, tzinfo=UTC)  # noqa: E731
    with pytest.raises(QuotaExhausted) as caught:
        build(platform, clock=summer).fetch(None)
    assert caught.value.resets_at == datetime(2026, 7, 2, 7, 0, tzinfo=UTC)  # PDT is UTC-7


def test_recorded_error_responses_map_to_typed_errors(platform: FakePlatform) -> None:
    youtube_kit.small_channel(NOW).install(platform)
    with pytest.raises(AuthFailed, match="keyInvalid"):  # the recorded 400 keyInvalid
        build(platform, secrets={"YOUTUBE_API_KEY": "wrong-key-value"}).fetch(None)
    platform.routes.clear()
    platform.route("GET", "/youtube/v3/", lambda _r: Response.json(fixture("error_permission_resp.json"), 403))
    with pytest.raises(AuthFailed):
        build(platform).fetch(None)
    platform.route("GET", "/youtube/v3/", lambda _r: Response(429, b"{}", {"Retry-After": "30"}))
    with pytest.raises(RateLimited) as caught:
        build(platform, clock=lambda: NOW).fetch(None)
    assert caught.value.retry_after == NOW + timedelta(seconds=30)
    platform.route("GET", "/youtube/v3/", lambda _r: Response(500, b"oops"))
    with pytest.raises(TransientError):
        build(platform).fetch(None)
    platform.route("GET", "/youtube/v3/", lambda _r: Response(200, b'{"items": [', {"Content-Type": "application/json"}))
    with pytest.raises(UnexpectedResponse, match="malformed JSON"):
        build(platform).fetch(None)
    platform.route("GET", "/youtube/v3/", lambda _r: Response(200, b"{}", delay_seconds=3.0))
    with pytest.raises(TransientError, match="did not answer"):
        build(platform).fetch(None)


def test_empty_channel(platform: FakePlatform) -> None:
    FakeYouTube().install(platform)
    result = build(platform).fetch(None)
    assert result.items == () and result.gone_external_ids == () and result.cursor.value


def test_not_configured_and_bad_options() -> None:
    with pytest.raises(NotConfigured, match="YOUTUBE_API_KEY"):
        YouTubeConnector(Account("youtube", "oakfieldprimary"), youtube_kit.ConnectorEnv())
    env = youtube_kit.ConnectorEnv(secret=lambda name: API_KEY if name == "YOUTUBE_API_KEY" else None)
    with pytest.raises(NotConfigured, match="daily_quota_units"):
        YouTubeConnector(Account("youtube", "x", options={"daily_quota_units": "ten"}), env)
    bad_oauth = youtube_kit.ConnectorEnv(secret=lambda name: "/nonexistent/oauth.json" if "OAUTH" in name else None)
    with pytest.raises(NotConfigured, match="YOUTUBE_OAUTH_TOKEN_FILE"):
        YouTubeConnector(Account("youtube", "x"), bad_oauth)
    assert YouTubeConnector(Account("youtube", "x", options={"channel_id": CHANNEL_ID}), env).base_url == "https://youtube.googleapis.com"


def test_api_key_stays_out_of_evidence_and_logs(platform: FakePlatform, caplog: pytest.LogCaptureFixture) -> None:
    youtube_kit.small_channel(NOW).install(platform)
    with caplog.at_level(logging.DEBUG):
        result = build(platform).fetch(None)
    assert API_KEY not in caplog.text
    assert result.captures and all(API_KEY not in c.uri for c in result.captures)
    assert all(r.arg("key") == API_KEY for r in platform.requests)  # it was sent, as a parameter


def test_daily_deep_sweep_finds_late_replies_and_edits_on_old_items(platform: FakePlatform) -> None:
    fake = youtube_kit.small_channel(NOW)
    old_video = fake.videos[-1]
    old_thread = fake.add_comment(old_video, NOW - timedelta(days=11), "First!", "Parent Gorse")
    for n in range(30):  # newer threads push the old one off the first page
        fake.add_comment(fake.videos[0], NOW - timedelta(hours=1, minutes=n), f"Comment {n}", "Parent Hazel")
    fake.page_cap = 10
    fake.install(platform)
    clock = ManualClock(NOW)
    cursor = build(platform, clock=clock).fetch(None).cursor
    reply = fake.add_reply(old_thread, NOW + timedelta(minutes=1), "@Parent Gorse you again", "Parent Ivy")
    fake.edit_video(old_video, "Video 0: Oakfield news (renamed)")
    found: set[str] = set()
    for _ in range(2):  # an ordinary poll of each probe stops at the first known page
        clock.advance(timedelta(minutes=15))
        result = build(platform, clock=clock).fetch(cursor)
        found |= {i.external_id for i in result.items}
        cursor = result.cursor
    assert found == set()
    for _ in range(2):  # a day later each probe reads everything once
        clock.advance(timedelta(hours=24))
        result = build(platform, clock=clock).fetch(cursor)
        found |= {i.external_id for i in result.items}
        cursor = result.cursor
    assert found == {reply["id"], old_video["id"]}


def test_a_damaged_cursor_means_a_fresh_start(platform: FakePlatform) -> None:
    youtube_kit.small_channel(NOW).install(platform)
    from monitor.domain import Cursor

    fresh = build(platform).fetch(None)
    for damaged in ("{", '{"videos": [1, 2]}', "[]"):
        again = build(platform).fetch(Cursor(damaged))
        assert {i.external_id for i in again.items} == {i.external_id for i in fresh.items}
