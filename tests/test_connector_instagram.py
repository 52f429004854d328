"""The instaloader connector: real instaloader 4.16 against a fake Instagram web app on 127.0.0.1."""

from __future__ import annotations

import json
import os
import pickle
from datetime import timedelta
from pathlib import Path

import pytest

from connectors.base import AuthFailed, ConnectorEnv, NotConfigured, RateLimited, TransientError, UnexpectedResponse
from connectors.instagram import InstaloaderConnector
from monitor.domain import Account, ItemKind, MediaKind
from tests.fakes.instagram_kit import SCHOOL, WAIT_BODY, FakeWeb, connector, serve_school, state_dir
from tests.fakes.kit_support import platform_fixture  # noqa: F401 (the "platform" fixture)
from tests.fakes.server import FakePlatform, Request, Response


@pytest.fixture
def fake(platform: FakePlatform) -> FakeWeb:
    return serve_school(platform)


def _api_error(platform: FakePlatform, status: int, body: object, headers: dict[str, str] | None = None) -> None:
    answer = Response.json(body, status, headers)
    for method, path in (("POST", "/graphql/query"), ("GET", "/graphql/query"), ("POST", "/api/")):
        platform.route(method, path, lambda _r: answer)


def test_first_poll_reads_posts_comments_and_replies(platform: FakePlatform, fake: FakeWeb) -> None:
    result = connector(platform).fetch(None)
    posts = [i for i in result.items if i.kind == ItemKind.POST]
    assert len(posts) == 14 and all(p.author_is_school and p.author == SCHOOL for p in posts)
    assert posts[0].text == "News from Oakfield, week 14"
    assert all(p.permalink == f"https://www.instagram.com/p/{p.attributes['shortcode']}/" for p in posts)
    assert sum(1 for r in platform.requests if r.path == "/api/graphql") == 2  # two pages of twelve
    question = next(i for i in result.items if i.text == "What time does it start?")
    assert question.kind == ItemKind.COMMENT and question.parent_external_id == posts[0].external_id
    replies = [i for i in result.items if i.kind == ItemKind.REPLY]
    assert [r.text for r in replies] == ["Reply 0", "Reply 1", "Reply 2", "At 1pm"]
    assert {r.parent_external_id for r in replies} == {question.external_id}
    assert [r.author_is_school for r in replies] == [False, False, False, True]
    assert next(i for i in result.items if i.text == "Great singing").author == "grandad.peverell"
    assert result.usage.api_calls == len(platform.requests)


def test_busy_post_comments_come_from_the_mobile_api(platform: FakePlatform, fake: FakeWeb) -> None:
    busy = fake.media[5]
    made = [fake.add_comment(busy, fake.now - timedelta(minutes=n), f"Comment {n}", f"parent.{n}") for n in range(14)]
    fake.add_reply(busy, made[3], fake.now, "Thanks", SCHOOL)
    fake.add_reply(busy, made[3], fake.now, "Agreed", "parent.9")
    result = connector(platform).fetch(None)
    texts = {i.text: i for i in result.items if i.parent_external_id in (busy["pk"], made[3]["id"])}
    assert len(texts) == 16 and texts["Agreed"].parent_external_id == made[3]["id"]
    assert texts["Thanks"].kind == ItemKind.REPLY and texts["Thanks"].author_is_school
    assert platform.count(f"/api/v1/media/{busy['pk']}/comments/") == 3  # two pages and one reply thread


def test_a_large_first_read_is_spread_over_polls_and_loses_nothing(platform: FakePlatform, fake: FakeWeb) -> None:
    for post in fake.media[4:10]:
        fake.add_comment(post, fake.now - timedelta(hours=2), f"Comment on {post['pk']}", "parent.larkin")
    state = state_dir()
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        result = connector(platform, state=state, max_comment_requests_per_poll="2").fetch(cursor)
        seen.extend(i.external_id for i in result.items)
        cursor = result.cursor
        if not result.items:
            break
        fake.now += timedelta(minutes=15)
    comments = [i for cs in fake.comments.values() for i in cs]
    replies = [r for c in comments for r in c["replies"]]
    assert len(seen) == len(set(seen)) == 14 + len(comments) + len(replies)  # each item once
    assert result.items == ()


def test_album_and_video_media(platform: FakePlatform, fake: FakeWeb) -> None:
    result = connector(platform, media_base_url="http://media.test").fetch(None)
    album = next(i for i in result.items if i.text == "News from Oakfield, week 2")
    assert [m.kind for m in album.media] == [MediaKind.IMAGE, MediaKind.IMAGE, MediaKind.VIDEO, MediaKind.IMAGE]
    video = next(i for i in result.items if i.text == "News from Oakfield, week 3")
    assert [m.kind for m in video.media] == [MediaKind.VIDEO, MediaKind.IMAGE]  # the video and its still
    for medium in (*album.media, *video.media):
        assert "cdninstagram.com" in medium.url and medium.download_url.startswith("http://media.test/")


def test_evidence_is_the_json_that_held_each_item_and_never_the_session_page(
    platform: FakePlatform, fake: FakeWeb
) -> None:
    result = connector(platform).fetch(None)
    for item in result.items:
        assert item.raw is not None and item.raw in result.captures
        assert item.external_id.encode() in item.raw.body
        json.loads(item.raw.body)
    # The start page carries the session's form tokens: it is read, but not kept.
    assert any(r.path == "/" for r in platform.requests)
    assert not any(b"fake-dtsg" in c.body or b"fake-lsd" in c.body for c in result.captures)


def test_resume_after_restart_reads_only_the_first_page(platform: FakePlatform, fake: FakeWeb) -> None:
    first = connector(platform).fetch(None)
    before = len(platform.requests)
    second = connector(platform).fetch(first.cursor)
    assert second.items == () and second.gone_external_ids == ()
    new_requests = platform.requests[before:]
    assert [r.path for r in new_requests].count("/api/graphql") == 1
    assert not any(r.arg("query_hash") for r in new_requests)  # no comment reads: counts unchanged
    assert second.usage.api_calls == len(new_requests) < first.usage.api_calls


def test_new_post_new_comment_and_edited_caption(platform: FakePlatform, fake: FakeWeb) -> None:
    first = connector(platform).fetch(None)
    fake.now += timedelta(minutes=30)
    newest = fake.media[0]
    fake.edit(newest, "News from Oakfield, week 14 (corrected)")
    fake.add_comment(fake.media[1], fake.now, "Lovely photos", "nan.abernathy")
    fresh = fake.add_post(fake.now, "Christmas fair on Saturday")
    result = connector(platform).fetch(first.cursor)
    assert sorted(i.text for i in result.items) == [
        "Christmas fair on Saturday",
        "Lovely photos",
        "News from Oakfield, week 14 (corrected)",
    ]
    edited = next(i for i in result.items if "corrected" in i.text)
    assert edited.external_id == newest["pk"]  # same id: storage records a new revision
    assert next(i for i in result.items if i.kind == ItemKind.COMMENT).parent_external_id == fake.media[2]["pk"]
    assert fresh["pk"] in {i.external_id for i in result.items}


def test_a_comment_written_as_another_is_deleted_is_caught_by_the_daily_sweep(
    platform: FakePlatform, fake: FakeWeb
) -> None:
    state = state_dir()
    cursor = connector(platform, state=state).fetch(None).cursor
    video = next(m for m in fake.media if m["media_type"] == 2)
    (old,) = fake.comments[video["pk"]]
    fake.comments[video["pk"]].remove(old)
    video["comment_count"] -= 1
    fake.add_comment(video, fake.now, "Written as another was deleted", "parent.new")
    assert video["comment_count"] == 1  # the count alone shows no change
    fake.now += timedelta(hours=1)
    quiet = connector(platform, state=state).fetch(cursor)
    assert quiet.items == ()
    fake.now += timedelta(hours=24)
    swept = connector(platform, state=state).fetch(quiet.cursor)
    assert [i.text for i in swept.items] == ["Written as another was deleted"]
    assert swept.gone_external_ids == (str(old["id"]),)


def test_a_listing_cut_short_by_an_empty_page_proves_no_deletion(platform: FakePlatform, fake: FakeWeb) -> None:
    state = state_dir()
    cursor = connector(platform, state=state).fetch(None).cursor

    def cut_short(request: Request) -> Response:
        if fake._form(request)["variables"].get("after") == "12":  # empty, yet "more follow"
            page = {"edges": [], "page_info": {"has_next_page": True, "end_cursor": "14"}}
            return Response.json({"data": {"xdt_api__v1__feed__user_timeline_graphql_connection": page}})
        return fake._web_api(request)

    platform.route("POST", "/api/graphql", cut_short)
    fake.now += timedelta(hours=25)  # the daily full listing
    swept = connector(platform, state=state).fetch(cursor)
    assert swept.gone_external_ids == ()
    platform.route("POST", "/api/graphql", fake._web_api)
    fake.now += timedelta(minutes=15)
    again = connector(platform, state=state).fetch(swept.cursor)  # the sweep is still owed
    assert again.gone_external_ids == () and platform.count("/api/graphql") > 0


def test_deleted_post_is_reported_gone_after_a_full_listing(platform: FakePlatform, fake: FakeWeb) -> None:
    first = connector(platform).fetch(None)
    newest = fake.media[0]
    comment_ids = {c["id"] for c in fake.comments[newest["pk"]]} | {
        r["id"] for c in fake.comments[newest["pk"]] for r in c["replies"]
    }
    fake.delete(newest)
    fake.now += timedelta(hours=1)
    quick = connector(platform).fetch(first.cursor)
    assert quick.gone_external_ids == ()  # a partial listing proves nothing
    fake.now += timedelta(hours=24)
    swept = connector(platform).fetch(quick.cursor)
    assert set(swept.gone_external_ids) == {newest["pk"], *comment_ids}


@pytest.mark.parametrize(
    ("status", "body", "headers", "expected", "wait"),
    [
        (401, WAIT_BODY, {}, RateLimited, timedelta(hours=6)),
        (
            429,
            {"message": "rate limited", "status": "fail"},
            {"Retry-After": "86400"},
            RateLimited,
            timedelta(hours=24),
        ),
        (429, {"message": "rate limited", "status": "fail"}, {}, RateLimited, timedelta(hours=6)),
        (400, {"message": "feedback_required", "spam": True, "status": "fail"}, {}, RateLimited, timedelta(hours=6)),
        (400, {"message": "Invalid query", "status": "fail"}, {}, RateLimited, timedelta(hours=6)),
        (401, {"message": "login_required", "status": "fail"}, {}, AuthFailed, None),
        (403, {"message": "forbidden", "status": "fail"}, {}, AuthFailed, None),
        (
            400,
            {"message": "checkpoint_required", "checkpoint_url": "/challenge/", "status": "fail"},
            {},
            AuthFailed,
            None,
        ),
        (500, {"message": "oops", "status": "fail"}, {}, TransientError, None),
        (502, "Bad gateway", {}, TransientError, None),
    ],
)
def test_instagram_refusals_are_typed(
    platform: FakePlatform,
    fake: FakeWeb,
    status: int,
    body: object,
    headers: dict[str, str],
    expected: type[Exception],
    wait: timedelta | None,
) -> None:
    _api_error(platform, status, body, headers)
    with pytest.raises(expected) as caught:
        connector(platform).fetch(None)
    if wait is not None:
        assert caught.value.retry_after == fake.now + wait  # type: ignore[attr-defined]
        assert "docs/instagram.md" in str(caught.value)  # IT is told what to do
    if expected is AuthFailed:
        assert "session file" in str(caught.value) or "session" in str(caught.value)


def test_backoff_hours_option(platform: FakePlatform, fake: FakeWeb) -> None:
    _api_error(platform, 401, WAIT_BODY)
    with pytest.raises(RateLimited) as caught:
        connector(platform, backoff_hours="24").fetch(None)
    assert caught.value.retry_after == fake.now + timedelta(hours=24)


def test_profile_said_not_to_exist_is_a_block_not_a_deletion(platform: FakePlatform, fake: FakeWeb) -> None:
    first = connector(platform).fetch(None)
    # A login wall or error page instead of the profile: instaloader says "does not exist".
    platform.route(
        "GET",
        f"/{SCHOOL}/",
        lambda _r: Response(200, b"<html>Log in to Instagram</html>", {"Content-Type": "text/html"}),
    )
    with pytest.raises(RateLimited, match="does not exist") as caught:
        connector(platform).fetch(first.cursor)
    assert caught.value.retry_after == fake.now + timedelta(hours=6)
    platform.route(
        "GET", f"/{SCHOOL}/", lambda _r: Response(404, b"<html>Not found</html>", {"Content-Type": "text/html"})
    )
    with pytest.raises(RateLimited, match="does not exist"):
        connector(platform).fetch(first.cursor)


def test_profile_page_refused_anonymously_is_a_block(platform: FakePlatform, fake: FakeWeb) -> None:
    platform.route(
        "GET", f"/{SCHOOL}/", lambda _r: Response(403, b"<html>Forbidden</html>", {"Content-Type": "text/html"})
    )
    with pytest.raises(RateLimited):
        connector(platform, state=state_dir(None), anonymous="true").fetch(None)


def test_malformed_json_timeouts_and_empty_answers(platform: FakePlatform, fake: FakeWeb) -> None:
    first = connector(platform).fetch(None)
    platform.route(
        "POST", "/api/graphql", lambda _r: Response(200, b'{"data": {"xdt_api', {"Content-Type": "application/json"})
    )
    before = platform.count()
    with pytest.raises(UnexpectedResponse) as caught:
        connector(platform).fetch(first.cursor)
    assert caught.value.usage.api_calls == platform.count() - before > 1  # a failed poll's requests count
    platform.route(
        "POST", "/api/graphql", lambda _r: Response(200, b"{}", {"Content-Type": "application/json"}, delay_seconds=0.6)
    )
    with pytest.raises(TransientError, match="did not answer"):
        connector(platform, timeout=0.2).fetch(first.cursor)
    fake.now += timedelta(hours=25)  # even on a full-listing day, an empty answer proves nothing
    empty = connector(platform).fetch(first.cursor)
    assert empty.items == () and empty.gone_external_ids == ()
    assert json.loads(empty.cursor.value)["posts"] == json.loads(first.cursor.value)["posts"]


def test_anonymous_reads_posts_only(platform: FakePlatform, fake: FakeWeb) -> None:
    result = connector(platform, state=state_dir(None), anonymous="true").fetch(None)
    assert len(result.items) == 14 and {i.kind for i in result.items} == {ItemKind.POST}
    assert not any(r.arg("query_hash") for r in platform.requests)  # comments need a login
    assert not any("sessionid=fake" in r.headers.get("cookie", "") for r in platform.requests)


def test_a_poll_stops_instead_of_sleeping_when_instaloader_would_wait(platform: FakePlatform, fake: FakeWeb) -> None:
    live = connector(platform)
    cursor = live.fetch(None).cursor
    results = [live.fetch(cursor) for _ in range(80)]  # one instance: instaloader counts across polls
    stopped = [r for r in results if r.usage.api_calls == 0]
    assert stopped, "instaloader's rate controller never asked for a pause"
    assert all(r.items == () and r.gone_external_ids == () for r in results)
    assert all(r.cursor == cursor for r in stopped)  # nothing lost: the next poll carries on


def test_session_file_problems_are_not_configured(tmp_path: Path) -> None:
    account = Account("instagram", SCHOOL)
    with pytest.raises(NotConfigured, match="anonymous"):
        InstaloaderConnector(account, ConnectorEnv(state_dir=tmp_path))
    (tmp_path / f"session-{SCHOOL}").write_bytes(b"not a pickle")
    with pytest.raises(NotConfigured, match="cannot be used"):
        InstaloaderConnector(account, ConnectorEnv(state_dir=tmp_path))
    (tmp_path / f"session-{SCHOOL}").write_bytes(pickle.dumps({"csrftoken": "x"}))
    with pytest.raises(NotConfigured, match="sessionid"):
        InstaloaderConnector(account, ConnectorEnv(state_dir=tmp_path))


class _Payload:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("touch /tmp/hallmon-ig-pwned",))


def test_session_file_cannot_run_code(tmp_path: Path) -> None:
    marker = Path("/tmp/hallmon-ig-pwned")
    marker.unlink(missing_ok=True)
    (tmp_path / "custom.session").write_bytes(pickle.dumps(_Payload()))
    with pytest.raises(NotConfigured, match="unexpected object"):
        InstaloaderConnector(
            Account("instagram", SCHOOL, options={"session_file": "custom.session"}), ConnectorEnv(state_dir=tmp_path)
        )
    assert not marker.exists()
