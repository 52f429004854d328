"""A fake www.instagram.com / i.instagram.com for instaloader 4.16, on the local FakePlatform.

It serves the requests instaloader 4.16 makes (read from its source): the public profile page with
the profile embedded as a ``__bbox`` query result, the start page with the web app's form tokens,
the profile query (``graphql/query``, doc_id 27937681195819736), the posts tab
(``api/graphql``, doc_id 29104886249145907, mobile-API media objects), the logged-out posts tab
(doc_id 28904005159232689) and post query (doc_id 27128499623469141), and the comment and reply
queries (query_hash 97b41c52... / 51fdd02b...) whose nodes copy the recorded web GraphQL comment
in tests/fixtures/instagram/web_comment_node.json. Names and captions are invented.
"""

from __future__ import annotations

import copy
import json
import pickle
import tempfile
import weakref
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import instaloader

from connectors.base import ConnectorEnv
from connectors.instagram import InstaloaderConnector
from monitor.domain import Account
from tests.fakes.contract import PlatformKit
from tests.fakes.kit_support import error_answer
from tests.fakes.server import FakePlatform, Request, Response

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "instagram"
SCHOOL = "oakfield.primary"
SCHOOL_PK = "178414000000001"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
PAGE = 12  # instaloader's GraphQL page length
PROFILE_DOC = "27937681195819736"
TIMELINE_DOC = "29104886249145907"
ANON_TIMELINE_DOC = "28904005159232689"
POST_DOC = "27128499623469141"
COMMENTS_HASH = "97b41c52301f77ce508f55e66d17620e"
REPLIES_HASH = "51fdd02b67508306ad4484ff574a0b62"
SESSION = {"sessionid": "fake-session-not-real", "csrftoken": "fakecsrf", "ds_user_id": SCHOOL_PK, "mid": "fakemid"}
WAIT_BODY = {"message": "Please wait a few minutes before you try again.", "require_login": True, "status": "fail"}


def _user(pk: str, username: str) -> dict[str, Any]:
    return {
        "pk": pk,
        "id": pk,
        "username": username,
        "full_name": username.replace(".", " ").title(),
        "is_private": False,
        "profile_pic_url": f"https://scontent.cdninstagram.com/v/t51.2885-19/{pk}.jpg",
    }


@dataclass
class FakeWeb:
    """The state of one Instagram account as instaloader sees it through the web app's interface."""

    now: datetime = NOW
    media: list[dict[str, Any]] = field(default_factory=list)  # newest first
    comments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # media pk -> comment nodes
    seq: int = 0

    def _pk(self, base: int) -> str:
        self.seq += 1
        return str(base + self.seq)

    def _image(self, pk: str) -> dict[str, Any]:
        url = f"https://scontent-lhr8-1.cdninstagram.com/v/t51.2885-15/{pk}_n.jpg?stp=dst-jpg&_nc_ht=scontent"
        return {"candidates": [{"url": url, "width": 1080, "height": 1080}]}

    def _video(self, pk: str) -> list[dict[str, Any]]:
        return [{"type": 101, "url": f"https://scontent-lhr8-1.cdninstagram.com/o1/v/t16/{pk}.mp4?efg=x", "width": 720}]

    def add_post(self, when: datetime, caption: str, kind: str = "image") -> dict[str, Any]:
        pk = self._pk(3_100_000_000_000_000_000)
        node: dict[str, Any] = {
            "pk": pk,
            "id": f"{pk}_{SCHOOL_PK}",
            "code": instaloader.Post.mediaid_to_shortcode(int(pk)),
            "media_type": {"image": 1, "video": 2, "album": 8}[kind],
            "taken_at": int(when.timestamp()),
            "caption": {"text": caption, "pk": self._pk(17_900_000_000_000_000)},
            "has_liked": False,
            "like_count": 4,
            "comment_count": 0,
            "image_versions2": self._image(pk),
            "user": _user(SCHOOL_PK, SCHOOL),
        }
        if kind == "video":
            node.update(video_versions=self._video(pk), video_duration=31.5, view_count=120)
        if kind == "album":
            children = [self._pk(3_200_000_000_000_000_000) for _ in range(3)]
            node["carousel_media"] = [
                {
                    "pk": c,
                    "media_type": 2 if i == 2 else 1,
                    "image_versions2": self._image(c),
                    "video_versions": self._video(c) if i == 2 else None,
                }
                for i, c in enumerate(children)
            ]
        self.media.insert(0, node)
        self.media.sort(key=lambda m: m["taken_at"], reverse=True)
        self.comments[pk] = []
        return node

    def add_comment(self, post: dict[str, Any], when: datetime, text: str, username: str) -> dict[str, Any]:
        node: dict[str, Any] = copy.deepcopy(
            json.loads((FIXTURES / "web_comment_node.json").read_text())["payload"]["node"]
        )
        owner_pk = str(abs(hash(username)) % 10**9)
        node.update(id=self._pk(17_800_000_000_000_000), text=text, created_at=int(when.timestamp()))
        node["owner"].update(id=owner_pk, username=username)
        node["edge_liked_by"] = {"count": 0}
        node["edge_threaded_comments"] = {
            "count": 0,
            "page_info": {"has_next_page": False, "end_cursor": None},
            "edges": [],
        }
        node["replies"] = []
        self.comments[post["pk"]].append(node)
        post["comment_count"] += 1
        return node

    def add_reply(
        self, post: dict[str, Any], comment: dict[str, Any], when: datetime, text: str, username: str
    ) -> dict[str, Any]:
        reply = {
            "id": self._pk(17_700_000_000_000_000),
            "text": text,
            "created_at": int(when.timestamp()),
            "owner": {
                "id": str(abs(hash(username)) % 10**9),
                "username": username,
                "profile_pic_url": "https://scontent.cdninstagram.com/v/t51.2885-19/a.jpg",
            },
            "edge_liked_by": {"count": 0},
        }
        comment["replies"].append(reply)
        post["comment_count"] += 1
        return reply

    def edit(self, post: dict[str, Any], caption: str) -> None:
        post["caption"] = dict(post["caption"], text=caption)

    def delete(self, post: dict[str, Any]) -> None:
        self.media.remove(post)

    # --- serving ---

    def install(self, platform: FakePlatform) -> None:
        _FAKES[platform] = self
        platform.route("GET", "/", self._page)
        platform.route("POST", "/graphql/query", self._graphql_post)
        platform.route("GET", "/graphql/query", self._graphql_get)
        platform.route("POST", "/api/graphql", self._web_api)
        platform.route("GET", "/api/v1/media/", self._mobile_comments)

    def _page(self, request: Request) -> Response:
        if request.path == "/":
            # The start page, with the tokens the web app sends along with api/graphql queries.
            html = (
                '<html><script>requireLazy(["DTSGInitialData",[],{"token":"fake-dtsg"}]);'
                '["LSD",[],{"token":"fake-lsd"}];{"IG_USER_EIMU":"17841400"}</script></html>'
            )
            return Response(200, html.encode(), {"Content-Type": "text/html; charset=utf-8"})
        if request.path.strip("/") != SCHOOL:
            return Response(404, b"<html>Sorry, this page isn't available.</html>", {"Content-Type": "text/html"})
        user = dict(
            _user(SCHOOL_PK, SCHOOL),
            id="profile-page-id",
            media_count=len(self.media),
            polaris_ordered_timeline_connection=self._anon_connection(0),
        )
        embedded = {
            "require": [
                [
                    "ScheduledServerJS",
                    "handle",
                    None,
                    [
                        {
                            "__bbox": {
                                "require": [
                                    [
                                        "RelayPrefetchedStreamCache",
                                        "next",
                                        [],
                                        [
                                            "adp_PolarisProfilePageContentQuery",
                                            {
                                                "__bbox": {
                                                    "complete": True,
                                                    "result": {"data": {"xig_user_by_username": user}},
                                                }
                                            },
                                        ],
                                    ]
                                ]
                            }
                        }
                    ],
                ]
            ]
        }
        html = f'<html><script type="application/json" data-sjs>{json.dumps(embedded)}</script></html>'
        return Response(200, html.encode(), {"Content-Type": "text/html; charset=utf-8"})

    @staticmethod
    def _form(request: Request) -> dict[str, Any]:
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        form["variables"] = json.loads(form.get("variables") or "{}")
        return form

    def _logged_in(self, request: Request) -> bool:
        return f"sessionid={SESSION['sessionid']}" in request.headers.get("cookie", "")

    def _graphql_post(self, request: Request) -> Response:
        form = self._form(request)
        if form.get("doc_id") == PROFILE_DOC:
            if not self._logged_in(request):
                return Response.json({"message": "login_required", "status": "fail"}, 401)
            user = dict(_user(SCHOOL_PK, SCHOOL), media_count=len(self.media), friendship_status={"following": False})
            return Response.json({"data": {"user": user}, "status": "ok"})
        if form.get("doc_id") == POST_DOC:
            return self._post_info(form["variables"].get("shortcode"))
        return Response.json({"message": "unknown doc_id", "status": "fail"}, 400)

    def _post_info(self, shortcode: str | None) -> Response:
        items = [m for m in self.media if m["code"] == shortcode]
        return Response.json({"data": {"xdt_api__v1__media__shortcode__web_info": {"items": items}}, "status": "ok"})

    def _web_api(self, request: Request) -> Response:
        form = self._form(request)
        if form.get("lsd") != "fake-lsd":
            return Response.json({"message": "missing lsd", "status": "fail"}, 400)
        variables = form["variables"]
        start = int(variables.get("after") or 0)
        if form.get("doc_id") == TIMELINE_DOC:
            if not self._logged_in(request):
                return Response.json({"message": "login_required", "status": "fail"}, 401)
            chunk = self.media[start : start + PAGE]
            end = start + len(chunk)
            connection = {
                "edges": [{"node": m, "cursor": str(i)} for i, m in enumerate(chunk, start)],
                "page_info": {"has_next_page": end < len(self.media), "end_cursor": str(end)},
            }
            return Response.json({"data": {"xdt_api__v1__feed__user_timeline_graphql_connection": connection}})
        if form.get("doc_id") == ANON_TIMELINE_DOC:
            return Response.json(
                {"data": {"node": {"polaris_ordered_timeline_connection": self._anon_connection(start)}}}
            )
        if form.get("doc_id") == POST_DOC:
            return self._post_info(variables.get("shortcode"))
        return Response.json({"message": "unknown doc_id", "status": "fail"}, 400)

    def _anon_connection(self, start: int) -> dict[str, Any]:
        chunk = self.media[start : start + PAGE]
        end = start + len(chunk)
        return {
            "edges": [{"node": {"code": m["code"], "pk": m["pk"]}} for m in chunk],
            "page_info": {"has_next_page": end < len(self.media), "end_cursor": str(end)},
        }

    def _graphql_get(self, request: Request) -> Response:
        variables = json.loads(request.arg("variables") or "{}")
        start = int(variables.get("after") or 0)
        first = int(variables.get("first") or PAGE)
        if not self._logged_in(request):
            return Response.json({"message": "login_required", "status": "fail"}, 401)
        if request.arg("query_hash") == COMMENTS_HASH:
            post = next((m for m in self.media if m["code"] == variables.get("shortcode")), None)
            nodes = self.comments[post["pk"]] if post else []
            edges = [{"node": self._comment_node(n)} for n in nodes[start : start + first]]
            end = start + len(edges)
            connection = {
                "count": len(nodes),
                "page_info": {"has_next_page": end < len(nodes), "end_cursor": str(end)},
                "edges": edges,
            }
            return Response.json(
                {"data": {"shortcode_media": {"edge_media_to_parent_comment": connection}}, "status": "ok"}
            )
        if request.arg("query_hash") == REPLIES_HASH:
            comment = next(c for cs in self.comments.values() for c in cs if c["id"] == variables.get("comment_id"))
            replies = comment["replies"][start : start + first]
            end = start + len(replies)
            threaded = {
                "count": len(comment["replies"]),
                "edges": [{"node": r} for r in replies],
                "page_info": {"has_next_page": end < len(comment["replies"]), "end_cursor": str(end)},
            }
            return Response.json({"data": {"comment": {"edge_threaded_comments": threaded}}, "status": "ok"})
        return Response.json({"message": "unknown query", "status": "fail"}, 400)

    def _mobile_comments(self, request: Request) -> Response:
        """The mobile API's comment pages, which instaloader uses for posts with more than 12 comments."""
        if not request.headers.get("authorization", "").startswith("Bearer IGT:2:"):
            return Response.json({"message": "login_required", "status": "fail"}, 401)
        parts = request.path.strip("/").split("/")  # api v1 media PK comments [CPK child_comments]
        nodes = self.comments.get(parts[3], [])
        if len(parts) == 7 and parts[6] == "child_comments":
            comment = next(c for c in nodes if c["id"] == parts[5])
            return Response.json({"child_comments": [self._mobile(r) for r in comment["replies"]], "status": "ok"})
        start = int(request.arg("min_id") or 0)
        chunk = nodes[start : start + PAGE]
        body: dict[str, Any] = {"comments": [], "comment_count": len(nodes), "status": "ok"}
        for node in chunk:
            mobile = self._mobile(node)
            mobile.update(
                child_comment_count=len(node["replies"]),
                preview_child_comments=[self._mobile(r) for r in node["replies"][:1]],
            )
            body["comments"].append(mobile)
        if start + PAGE < len(nodes):
            body["next_min_id"] = str(start + PAGE)
        return Response.json(body)

    @staticmethod
    def _mobile(node: dict[str, Any]) -> dict[str, Any]:
        owner = node["owner"]
        return {
            "pk": node["id"],
            "created_at": node["created_at"],
            "text": node["text"],
            "comment_like_count": 0,
            "user": _user(owner["id"], owner["username"]),
        }

    @staticmethod
    def _comment_node(node: dict[str, Any]) -> dict[str, Any]:
        # Instagram inlines the first two replies and reports how many there are.
        out = {k: v for k, v in node.items() if k != "replies"}
        out["edge_threaded_comments"] = {
            "count": len(node["replies"]),
            "edges": [{"node": r} for r in node["replies"][:2]],
            "page_info": {"has_next_page": len(node["replies"]) > 2, "end_cursor": "2"},
        }
        return out


_FAKES: weakref.WeakKeyDictionary[FakePlatform, FakeWeb] = weakref.WeakKeyDictionary()
_STATE_DIRS: list[tempfile.TemporaryDirectory[str]] = []


def school_account(fake: FakeWeb, posts: int = 14) -> None:
    """A small account: ``posts`` posts over two timeline pages (album, video), comments, replies."""
    day = timedelta(days=1)
    made = [
        fake.add_post(
            NOW - (posts - i) * day,
            f"News from Oakfield, week {i + 1}",
            kind="album" if i == 1 else "video" if i == 2 else "image",
        )
        for i in range(posts)
    ]
    newest, video = made[-1], made[2]
    question = fake.add_comment(newest, NOW - timedelta(hours=5), "What time does it start?", "mum.of.two")
    for n in range(3):
        fake.add_reply(newest, question, NOW - timedelta(hours=4 - n), f"Reply {n}", "parent.quill")
    fake.add_reply(newest, question, NOW - timedelta(hours=1), "At 1pm", SCHOOL)
    fake.add_comment(video, NOW - 10 * day, "Great singing", "grandad.peverell")


def state_dir(session: dict[str, str] | None = SESSION) -> Path:
    """A private state directory holding an instaloader session file (as `instaloader --login` saves it)."""
    holder = tempfile.TemporaryDirectory(prefix="hallmon-ig-")
    _STATE_DIRS.append(holder)
    path = Path(holder.name)
    if session is not None:
        with open(path / f"session-{SCHOOL}", "wb") as handle:
            pickle.dump(session, handle)
    return path


def connector(
    platform: FakePlatform,
    fake: FakeWeb | None = None,
    state: Path | None = None,
    timeout: float = 10.0,
    **options: str,
) -> InstaloaderConnector:
    """The real connector with instaloader pointed at the fake platform."""
    fake = fake or _FAKES.get(platform) or FakeWeb()
    env = ConnectorEnv(clock=lambda: fake.now, state_dir=state or state_dir(), timeout_seconds=timeout)
    opts = {"web_base_url": platform.base_url, "mobile_base_url": platform.base_url, **options}
    return InstaloaderConnector(Account("instagram", SCHOOL, options=opts), env)


def serve_school(platform: FakePlatform) -> FakeWeb:
    """The school's account (see ``school_account``) served on the fake platform."""
    fake = FakeWeb()
    school_account(fake)
    fake.install(platform)
    return fake


def _serve_account(platform: FakePlatform) -> None:
    serve_school(platform)


def _serve_error(platform: FakePlatform, status: int, body: bytes, headers: dict[str, str]) -> None:
    """Every API query answers with the error; the public HTML pages stay up (they are not the API)."""
    fake = _FAKES.setdefault(platform, FakeWeb())
    answer = error_answer(status, body, headers)
    platform.route("GET", "/", fake._page)
    for method, path in (("POST", "/graphql/query"), ("GET", "/graphql/query"), ("POST", "/api/"), ("GET", "/api/")):
        platform.route(method, path, lambda _request: answer)


KIT = PlatformKit(
    platform="instagram",
    serve_account=_serve_account,
    serve_error=_serve_error,
    build=lambda platform: connector(platform),
    build_unconfigured=lambda: InstaloaderConnector(
        Account("instagram", SCHOOL), ConnectorEnv(state_dir=state_dir(None))
    ),
)
