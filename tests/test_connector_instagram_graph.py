"""The Instagram API connector through real httpx against a fake graph.instagram.com on 127.0.0.1."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest

from connectors.base import AuthFailed, ConnectorEnv, NotConfigured, RateLimited, TransientError, UnexpectedResponse
from connectors.instagram_graph import InstagramGraphConnector
from monitor.domain import Account, ItemKind, MediaKind
from tests.fakes.instagram_graph_kit import NOW, SCHOOL, TOKEN, FakeGraph, connector, serve_school
from tests.fakes.kit_support import platform_fixture  # noqa: F401 (the "platform" fixture)
from tests.fakes.server import FakePlatform, Request, Response


@pytest.fixture
def fake(platform: FakePlatform) -> FakeGraph:
    return serve_school(platform)


def _by_text(result: object, text: str) -> object:
    return next(i for i in result.items if i.text == text)  # type: ignore[attr-defined]


def test_first_poll_reads_every_page_of_posts_comments_and_replies(platform: FakePlatform, fake: FakeGraph) -> None:
    result = connector(platform).fetch(None)
    posts = [i for i in result.items if i.kind == ItemKind.POST]
    assert [p.text for p in posts][:2] == ["Sports day is on Friday. Bring a water bottle.", "Lunch menu for next week"]
    assert len(posts) == 5 and all(p.author_is_school and p.author == SCHOOL for p in posts)
    assert platform.count("/me/media") == 3  # five posts, two a page
    comments = [i for i in result.items if i.kind == ItemKind.COMMENT]
    replies = [i for i in result.items if i.kind == ItemKind.REPLY]
    assert len(comments) == 3 and len(replies) == 4
    question = _by_text(result, "What time does it start?")
    assert {r.parent_external_id for r in replies if r.text.startswith("Reply")} == {question.external_id}  # type: ignore[attr-defined]
    # Two replies came inline with the comment, the third through /{comment-id}/replies.
    assert platform.count(f"/{question.external_id}/replies") == 1  # type: ignore[attr-defined]
    school_reply = _by_text(result, "Thank you!")
    assert school_reply.author_is_school  # type: ignore[attr-defined]
    assert result.usage.api_calls == platform.count("/")


def test_carousel_and_video_media(platform: FakePlatform, fake: FakeGraph) -> None:
    result = connector(platform, media_base_url="http://media.test").fetch(None)
    album = _by_text(result, "Harvest festival photos")
    kinds = [m.kind for m in album.media]  # type: ignore[attr-defined]
    assert kinds == [MediaKind.IMAGE, MediaKind.IMAGE, MediaKind.VIDEO, MediaKind.IMAGE]  # video + its thumbnail
    assert album.attributes["media_type"] == "CAROUSEL_ALBUM"  # type: ignore[attr-defined]
    video = _by_text(result, "Year 4 assembly rehearsal")
    assert [m.kind for m in video.media] == [MediaKind.VIDEO, MediaKind.IMAGE]  # type: ignore[attr-defined]
    for medium in video.media:  # type: ignore[attr-defined]
        assert medium.url.startswith("https://") and "cdninstagram.com" in medium.url
        assert medium.download_url.startswith("http://media.test/v/")
        assert medium.download_url.split("/v/")[1] == medium.url.split("/v/")[1]


def test_evidence_is_exact_json_without_the_token(platform: FakePlatform, fake: FakeGraph) -> None:
    result = connector(platform).fetch(None)
    assert result.captures
    for capture in result.captures:
        assert TOKEN.encode() not in capture.body and TOKEN not in capture.uri
        assert "access_token" not in capture.uri
        json.loads(capture.body)
    # The paging link Instagram echoes the token in is kept, with the token cut out.
    assert any(b"access_token=REDACTED" in c.body for c in result.captures)
    for item in result.items:
        assert item.raw is not None and item.raw in result.captures and item.external_id.encode() in item.raw.body


def test_resume_after_restart_costs_only_the_recent_pages(platform: FakePlatform, fake: FakeGraph) -> None:
    first = connector(platform).fetch(None)
    before = len(platform.requests)
    second = connector(platform).fetch(first.cursor)  # a new instance, as after a restart
    assert second.items == () and second.gone_external_ids == ()
    # Page 1 (posts 1-2 days old), page 2 reaches a known post older than recent_days: stop.
    assert second.usage.api_calls == 2 == len(platform.requests) - before
    third = connector(platform, recent_days="1").fetch(second.cursor)
    assert third.usage.api_calls == 1


def test_new_comment_and_edit_on_a_recent_post(platform: FakePlatform, fake: FakeGraph) -> None:
    first = connector(platform).fetch(None)
    news = next(m for m in fake.media if m["caption"].startswith("Sports day"))
    fake.now += timedelta(minutes=15)
    fake.add_comment(news, fake.now, "Can grandparents come?", "nan.abernathy")
    fake.edit(news, "Sports day is on Friday at 1pm. Bring a water bottle.")
    result = connector(platform).fetch(first.cursor)
    assert sorted(i.text for i in result.items) == [
        "Can grandparents come?",
        "Sports day is on Friday at 1pm. Bring a water bottle.",
    ]
    edited = next(i for i in result.items if i.kind == ItemKind.POST)
    assert edited.external_id == news["id"]  # same id: storage records a new revision
    comment = next(i for i in result.items if i.kind == ItemKind.COMMENT)
    assert comment.parent_external_id == news["id"] and comment.author == "nan.abernathy"
    assert platform.count(f"/{news['id']}/comments") == 2  # first poll, and now that the count changed


def test_a_large_first_read_is_spread_over_polls_and_loses_nothing(platform: FakePlatform, fake: FakeGraph) -> None:
    for n in range(6):
        post = fake.add_post(NOW - timedelta(days=50 + n), f"Archive post {n}")
        fake.add_comment(post, NOW - timedelta(days=49), f"Archive comment {n}", "parent.larkin")
    expected = {"Archive comment 0", "Archive comment 5", "Great singing", "Lovely to see everyone back"}
    seen: list[str] = []
    cursor = None
    polls = 0
    while True:
        result = connector(platform, max_comment_calls_per_poll="2").fetch(cursor)
        polls += 1
        seen.extend(i.text for i in result.items)
        comment_calls = sum(
            1 for r in platform.requests[-result.usage.api_calls :] if r.path.endswith(("/comments", "/replies"))
        )
        assert comment_calls <= 3  # two reads, plus the replies page of the last one
        cursor = result.cursor
        if not result.items:
            break
        fake.now += timedelta(minutes=15)
    assert polls > 2 and expected <= set(seen)
    total = len(fake.media) + sum(len(c) for c in fake.comments.values()) + sum(len(r) for r in fake.replies.values())
    assert len(seen) == len(set(seen)) == total == 24  # every post, comment and reply once, none twice


def test_old_posts_are_checked_by_the_daily_sweep(platform: FakePlatform, fake: FakeGraph) -> None:
    cursor = connector(platform).fetch(None).cursor
    welcome = fake.media[-1]
    fake.add_comment(welcome, fake.now, "Old post, new comment", "parent.larkin")
    fake.now += timedelta(hours=1)
    quiet = connector(platform).fetch(cursor)
    assert quiet.items == ()  # a 40-day-old post is outside the recent window
    fake.now += timedelta(hours=24)
    swept = connector(platform).fetch(quiet.cursor)
    assert [i.text for i in swept.items] == ["Old post, new comment"]
    assert platform.count("/me/media") == 3 + 2 + 3


def test_a_comment_written_as_another_is_deleted_is_caught_by_the_daily_sweep(
    platform: FakePlatform, fake: FakeGraph
) -> None:
    cursor = connector(platform).fetch(None).cursor
    video = next(m for m in fake.media if m["caption"] == "Year 4 assembly rehearsal")
    (old,) = fake.comments[video["id"]]
    fake.delete_comment(video, old)
    fake.add_comment(video, fake.now, "Written as another was deleted", "parent.new")
    assert video["comments_count"] == 1  # the count alone shows no change
    fake.now += timedelta(hours=1)
    quiet = connector(platform).fetch(cursor)
    assert quiet.items == ()
    fake.now += timedelta(hours=24)
    swept = connector(platform).fetch(quiet.cursor)
    assert [i.text for i in swept.items] == ["Written as another was deleted"]
    assert swept.gone_external_ids == (old["id"],)


def test_a_listing_cut_short_by_an_empty_page_proves_no_deletion(platform: FakePlatform, fake: FakeGraph) -> None:
    cursor = connector(platform).fetch(None).cursor

    def cut_short(request: Request) -> Response:
        if request.arg("after") == "2":  # an empty page that still links to the next one
            link = f"https://graph.instagram.com{request.path}?access_token=x&limit=2&after=4"
            return Response.json({"data": [], "paging": {"cursors": {"before": "2", "after": "4"}, "next": link}})
        return fake._serve(platform, request)

    platform.route("GET", "/me/media", cut_short)
    fake.now += timedelta(hours=25)  # the daily full listing
    swept = connector(platform).fetch(cursor)
    assert swept.gone_external_ids == ()
    platform.route("GET", "/me/media", lambda request: fake._serve(platform, request))
    fake.now += timedelta(minutes=15)
    assert connector(platform).fetch(swept.cursor).gone_external_ids == ()  # the sweep is still owed, and finds all


def test_deleted_post_and_comment_are_reported_gone(platform: FakePlatform, fake: FakeGraph) -> None:
    first = connector(platform).fetch(None)
    welcome = fake.media[-1]
    welcome_comments = [c["id"] for c in fake.comments[welcome["id"]]] + [
        r["id"] for c in fake.comments[welcome["id"]] for r in fake.replies[c["id"]]
    ]
    news = fake.media[0]
    question = fake.comments[news["id"]][0]
    fake.delete(welcome)
    fake.delete_comment(news, question)
    fake.now += timedelta(hours=25)
    result = connector(platform).fetch(first.cursor)
    gone = set(result.gone_external_ids)
    assert welcome["id"] in gone and set(welcome_comments) <= gone
    assert question["id"] in gone
    # Gone once: the next sweep does not report them again.
    fake.now += timedelta(hours=25)
    again = connector(platform).fetch(result.cursor)
    assert again.gone_external_ids == ()


def test_empty_listing_proves_nothing(platform: FakePlatform, fake: FakeGraph) -> None:
    first = connector(platform).fetch(None)
    platform.routes.clear()
    platform.route("GET", "/me/media", lambda _r: Response.json({"data": []}))
    fake.now += timedelta(hours=25)
    result = connector(platform).fetch(first.cursor)
    assert result.items == () and result.gone_external_ids == ()


@pytest.mark.parametrize(
    ("status", "error", "headers", "expected", "wait"),
    [
        (
            400,
            {"type": "OAuthException", "code": 190, "message": "Error validating access token"},
            {},
            AuthFailed,
            None,
        ),
        (401, {"code": 190}, {}, AuthFailed, None),
        (400, {"code": 10, "message": "Application does not have permission for this action"}, {}, AuthFailed, None),
        (
            403,
            {"type": "OAuthException", "code": 10, "message": "Application does not have permission"},
            {},
            AuthFailed,
            None,
        ),
        (429, {"code": 4}, {"Retry-After": "600"}, RateLimited, timedelta(seconds=600)),
        (400, {"code": 4, "message": "Application request limit reached"}, {}, RateLimited, timedelta(hours=1)),
        (
            400,
            {"code": 17},
            {
                "X-Business-Use-Case-Usage": json.dumps(
                    {"1784": [{"type": "instagram", "call_count": 100, "estimated_time_to_regain_access": 45}]}
                )
            },
            RateLimited,
            timedelta(minutes=45),
        ),
        (403, {"code": 32}, {}, RateLimited, timedelta(hours=1)),
        (400, {"code": 613}, {}, RateLimited, timedelta(hours=1)),
        (500, {"code": 2, "message": "Service temporarily unavailable"}, {}, TransientError, None),
        (502, {}, {}, TransientError, None),
        (400, {"code": 100, "message": "Unsupported get request"}, {}, UnexpectedResponse, None),
    ],
)
def test_graph_errors_are_typed(
    platform: FakePlatform,
    fake: FakeGraph,
    status: int,
    error: dict[str, object],
    headers: dict[str, str],
    expected: type[Exception],
    wait: timedelta | None,
) -> None:
    first = connector(platform).fetch(None)
    platform.route("GET", "/me/media", lambda _r: Response.json({"error": error}, status, headers))
    fake.now += timedelta(hours=1)
    with pytest.raises(expected) as caught:
        connector(platform).fetch(first.cursor)
    if wait is not None:
        assert caught.value.retry_after == fake.now + wait  # type: ignore[attr-defined]
    assert TOKEN not in str(caught.value)


def test_a_token_without_the_comments_permission_says_which_permission(platform: FakePlatform, fake: FakeGraph) -> None:
    refused = {"error": {"message": "(#10) Application does not have permission for this action", "code": 10}}
    for media in fake.media:
        platform.route("GET", f"/{media['id']}/comments", lambda _r: Response.json(refused, 400))
    with pytest.raises(AuthFailed, match="instagram_business_manage_comments"):
        connector(platform).fetch(None)


def test_malformed_json_and_timeouts(platform: FakePlatform, fake: FakeGraph) -> None:
    first = connector(platform).fetch(None)
    platform.route(
        "GET", "/me/media", lambda _r: Response(200, b'{"data": [{"id": "1789', {"Content-Type": "application/json"})
    )
    with pytest.raises(UnexpectedResponse):
        connector(platform).fetch(first.cursor)
    platform.route("GET", "/me/media", lambda _r: Response(200, b"[1, 2]", {}))
    with pytest.raises(UnexpectedResponse):
        connector(platform).fetch(first.cursor)
    platform.route("GET", "/me/media", lambda _r: Response(200, b"{}", {}, delay_seconds=0.6))
    with pytest.raises(TransientError, match="did not answer"):
        connector(platform, timeout=0.2).fetch(first.cursor)


def test_a_failing_comment_page_fails_the_poll_and_the_next_poll_reads_it_again(
    platform: FakePlatform, fake: FakeGraph
) -> None:
    first = connector(platform).fetch(None)
    news = fake.media[0]
    fake.add_comment(news, fake.now, "Second question", "mum.of.two")
    platform.route("GET", f"/{news['id']}/comments", lambda _r: Response.json({"error": {"code": 1}}, 500))
    with pytest.raises(TransientError) as caught:
        connector(platform).fetch(first.cursor)
    assert caught.value.usage.api_calls == 3  # the calls made up to the failure are recorded
    fake.install(platform)  # recovered
    platform.routes.pop(("GET", f"/{news['id']}/comments"))
    result = connector(platform).fetch(first.cursor)
    assert [i.text for i in result.items] == ["Second question"]


def test_token_is_refreshed_and_saved_well_before_expiry(
    platform: FakePlatform, fake: FakeGraph, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    first = connector(platform).fetch(None)
    # A token of unknown age is refreshed at once, and the new one saved through env.save_secret.
    saved = fake.secrets["INSTAGRAM_ACCESS_TOKEN"]
    assert saved != TOKEN and saved in fake.tokens and fake.refreshes == 1
    fake.now += timedelta(days=29)
    second = connector(platform).fetch(first.cursor)  # 31 days left: no refresh yet
    assert fake.refreshes == 1
    media_calls = [r for r in platform.requests if r.path == "/me/media"]
    assert media_calls[-1].arg("access_token") == saved
    fake.now += timedelta(days=2)
    connector(platform).fetch(second.cursor)  # 29 days left: refresh
    assert fake.refreshes == 2 and fake.secrets["INSTAGRAM_ACCESS_TOKEN"] != saved
    refresh = next(r for r in platform.requests if r.path == "/refresh_access_token")
    assert refresh.arg("grant_type") == "ig_refresh_token"
    for token in fake.tokens:
        assert token not in caplog.text
        assert token not in second.cursor.value


def test_refused_refresh_does_not_stop_the_poll_and_is_retried_a_day_later(
    platform: FakePlatform, fake: FakeGraph
) -> None:
    platform.route(
        "GET",
        "/refresh_access_token",
        lambda _r: Response.json(
            {"error": {"message": "Token is too new", "type": "IGApiException", "code": 100}}, 400
        ),
    )
    first = connector(platform).fetch(None)
    assert first.items and fake.secrets["INSTAGRAM_ACCESS_TOKEN"] == TOKEN
    connector(platform).fetch(first.cursor)
    assert platform.count("/refresh_access_token") == 1  # not again within the day
    fake.now += timedelta(days=1, minutes=1)
    platform.routes.pop(("GET", "/refresh_access_token"))
    connector(platform).fetch(first.cursor)
    assert fake.refreshes == 1 and fake.secrets["INSTAGRAM_ACCESS_TOKEN"] != TOKEN


def test_a_refreshed_token_that_cannot_be_saved_does_not_stop_the_poll(
    platform: FakePlatform, fake: FakeGraph, caplog: pytest.LogCaptureFixture
) -> None:
    def disk_full(_name: str, _value: str) -> None:
        raise OSError(28, "No space left on device")

    env = ConnectorEnv(secret=fake.secrets.get, clock=lambda: fake.now, save_secret=disk_full, timeout_seconds=2.0)
    account = Account("instagram_graph", SCHOOL, options={"api_base_url": platform.base_url})
    with caplog.at_level(logging.WARNING):
        first = InstagramGraphConnector(account, env).fetch(None)
    assert first.items and "could not be saved" in caplog.text and TOKEN not in caplog.text
    InstagramGraphConnector(account, env).fetch(first.cursor)
    assert fake.refreshes == 1  # not again within the day; the old token keeps working
    fake.now += timedelta(days=1, minutes=1)
    InstagramGraphConnector(account, env).fetch(first.cursor)
    assert fake.refreshes == 2


def test_dead_token_on_refresh_is_auth_failed(platform: FakePlatform, fake: FakeGraph) -> None:
    fake.tokens.clear()
    with pytest.raises(AuthFailed, match="INSTAGRAM_ACCESS_TOKEN"):
        connector(platform).fetch(None)


def test_per_account_token_version_prefix_and_user_id(platform: FakePlatform, fake: FakeGraph) -> None:
    fake.secrets["INSTAGRAM_ACCESS_TOKEN_OAKFIELD_PRIMARY"] = "IGQtest-account-token"
    fake.tokens.add("IGQtest-account-token")
    del fake.secrets["INSTAGRAM_ACCESS_TOKEN"]
    result = connector(platform, api_version="v22.0", ig_user_id="17841400000000001").fetch(None)
    assert len(result.items) == 12
    assert platform.count("/v22.0/17841400000000001/media") == 3
    assert (
        fake.secrets["INSTAGRAM_ACCESS_TOKEN_OAKFIELD_PRIMARY"] != "IGQtest-account-token"
    )  # saved back under its own name


def test_not_configured_and_bad_options() -> None:
    with pytest.raises(NotConfigured, match="INSTAGRAM_ACCESS_TOKEN"):
        InstagramGraphConnector(Account("instagram_graph", "school"), ConnectorEnv())
    env = ConnectorEnv(secret=lambda _n: "IGQtoken")
    with pytest.raises(NotConfigured, match="page_size"):
        InstagramGraphConnector(Account("instagram_graph", "school", options={"page_size": "lots"}), env)
    with pytest.raises(NotConfigured, match="api_base_url"):
        InstagramGraphConnector(Account("instagram_graph", "school", options={"api_base_url": "graph.example"}), env)


def test_unreadable_cursor_starts_again(platform: FakePlatform, fake: FakeGraph) -> None:
    from monitor.domain import Cursor

    result = connector(platform).fetch(Cursor("not json"))
    assert len(result.items) == 12 and all(i.created_at < NOW for i in result.items)
