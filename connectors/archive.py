"""Reads a folder of exported posts (JSON + media files) so a school can audit offline.

Two layouts are understood:

* Hall Monitor's own export format: any ``*.json`` file holding one post object, a list of them,
  or ``{"posts": [...]}``. A post is ``{"id", "text", "author", "created_at", "permalink",
  "media": [{"file": "images/a.jpg", "kind": "image", "alt": ""}], "comments": [{"id", "author",
  "text", "created_at", "replies": [...]}]}``.
* instaloader's download folders: ``<date>_UTC.json`` or ``.json.xz`` metadata files holding a
  GraphQL ``node``, with the picture saved beside them as ``<date>_UTC.jpg``.

The cursor remembers a fingerprint per item, so only new and edited items are returned; items that
vanish from an intact export are reported as gone.
"""

from __future__ import annotations

import hashlib
import json
import logging
import lzma
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connectors.base import ConnectorEnv, NotConfigured, UnexpectedResponse
from monitor.domain import (
    Account,
    Cursor,
    FetchResult,
    Item,
    ItemKind,
    Media,
    MediaKind,
    RawCapture,
    Usage,
)

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 20 * 1024 * 1024
MEDIA_KINDS = {"image": MediaKind.IMAGE, "photo": MediaKind.IMAGE, "video": MediaKind.VIDEO, "audio": MediaKind.AUDIO}


@dataclass(frozen=True)
class _ParsedFile:
    path: Path
    items: tuple[Item, ...]


class ArchiveConnector:
    platform = "archive"
    version = "1.0"

    def __init__(self, account: Account, env: ConnectorEnv) -> None:
        folder = account.options.get("path", "")
        if not folder:
            raise NotConfigured(f"archive account {account.handle}: set options.path to the export folder")
        self.root = Path(folder).resolve()
        if not self.root.is_dir():
            raise NotConfigured(f"archive account {account.handle}: folder {self.root} does not exist")
        self.account = account
        self.env = env
        # Which platform the export came from, for links and wording (defaults to "archive").
        self.source_platform = account.options.get("source_platform", "archive")

    def fetch(self, since: Cursor | None) -> FetchResult:
        seen: dict[str, str] = json.loads(since.value).get("seen", {}) if since else {}
        files = sorted(p for p in self.root.rglob("*") if p.suffix in (".json", ".xz") and p.is_file())
        parsed: list[_ParsedFile] = []
        failures: list[str] = []
        for path in files:
            try:
                parsed.append(self._parse_file(path))
            except (ValueError, OSError, lzma.LZMAError, UnexpectedResponse) as exc:
                failures.append(f"{path.name}: {exc}")
                log.warning("archive %s: skipped %s: %s", self.account.handle, path.name, exc)
        if files and not parsed:
            raise UnexpectedResponse("no export file could be read: " + "; ".join(failures[:3]))
        current: dict[str, str] = {}
        changed: list[Item] = []
        for parsed_file in parsed:
            for item in parsed_file.items:
                fingerprint = _fingerprint(item)
                current[item.external_id] = fingerprint
                if seen.get(item.external_id) != fingerprint:
                    changed.append(item)
        # Only an export read in full can prove an item is gone.
        gone = tuple(sorted(set(seen) - set(current))) if not failures else ()
        if failures:
            current = {**seen, **current}
        cursor = Cursor(json.dumps({"seen": current}, sort_keys=True))
        return FetchResult(tuple(changed), cursor, gone, Usage(api_calls=len(files)))

    # --- parsing ---

    def _parse_file(self, path: Path) -> _ParsedFile:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise UnexpectedResponse(f"file is larger than {MAX_FILE_BYTES} bytes")
        body = lzma.decompress(path.read_bytes()) if path.suffix == ".xz" else path.read_bytes()
        data = json.loads(body.decode("utf-8"))
        raw = RawCapture(uri=path.as_uri(), body=body, captured_at=self.env.clock())
        if isinstance(data, dict) and "node" in data:
            return _ParsedFile(path, tuple(self._instaloader_items(path, data["node"], raw)))
        posts = data.get("posts", data) if isinstance(data, dict) else data
        if isinstance(posts, dict):
            posts = [posts]
        if not isinstance(posts, list):
            raise UnexpectedResponse("expected a post object or a list of posts")
        items: list[Item] = []
        for post in posts:
            items.extend(self._post_items(path.parent, post, raw))
        return _ParsedFile(path, tuple(items))

    def _post_items(self, folder: Path, post: Any, raw: RawCapture) -> Iterator[Item]:
        if not isinstance(post, dict) or "id" not in post:
            raise UnexpectedResponse("a post needs at least an 'id'")
        post_id = str(post["id"])
        yield Item(
            platform=self.source_platform,
            account_key=self.account.key,
            external_id=post_id,
            kind=ItemKind.POST,
            text=str(post.get("text", "")),
            author=str(post.get("author", self.account.display_name or self.account.handle)),
            created_at=_time(post.get("created_at")),
            permalink=str(post.get("permalink", "")),
            media=tuple(self._media(folder, m) for m in post.get("media", []) if isinstance(m, dict)),
            edited_at=_time(post["edited_at"]) if post.get("edited_at") else None,
            raw=raw,
            author_is_school=bool(post.get("author_is_school", True)),
        )
        yield from self._comments(post.get("comments", []), post_id, post, raw, ItemKind.COMMENT)

    def _comments(
        self, comments: Any, parent_id: str, post: dict[str, Any], raw: RawCapture, kind: ItemKind
    ) -> Iterator[Item]:
        if not isinstance(comments, list):
            return
        for comment in comments:
            if not isinstance(comment, dict) or "id" not in comment:
                continue
            comment_id = str(comment["id"])
            yield Item(
                platform=self.source_platform,
                account_key=self.account.key,
                external_id=comment_id,
                kind=kind,
                text=str(comment.get("text", "")),
                author=str(comment.get("author", "")),
                created_at=_time(comment.get("created_at")),
                permalink=str(comment.get("permalink", post.get("permalink", ""))),
                parent_external_id=parent_id,
                raw=raw,
                author_is_school=bool(comment.get("author_is_school", False)),
            )
            yield from self._comments(comment.get("replies", []), comment_id, post, raw, ItemKind.REPLY)

    def _media(self, folder: Path, entry: dict[str, Any]) -> Media:
        kind = MEDIA_KINDS.get(str(entry.get("kind", "image")).lower(), MediaKind.IMAGE)
        relative = str(entry.get("file", ""))
        local = (folder / relative).resolve() if relative else None
        if local is not None and not local.is_relative_to(self.root):
            log.warning("archive %s: media path %s leaves the export folder; ignored", self.account.handle, relative)
            local = None
        return Media(
            kind=kind,
            url=str(entry.get("url", "")) or (f"archive:{relative}" if relative else ""),
            local_path=local,
            alt_text=str(entry.get("alt", "")),
            external_id=relative,
        )

    def _instaloader_items(self, path: Path, node: Any, raw: RawCapture) -> Iterator[Item]:
        if not isinstance(node, dict):
            raise UnexpectedResponse("instaloader file without a node object")
        edges = node.get("edge_media_to_caption", {}).get("edges", [])
        caption = edges[0]["node"]["text"] if edges else ""
        shortcode = str(node.get("shortcode") or node.get("id") or path.stem)
        stem = path.name.split(".json")[0]
        pictures = sorted(path.parent.glob(stem + "*.jpg"))
        taken = node.get("taken_at_timestamp")
        yield Item(
            platform="instagram",
            account_key=self.account.key,
            external_id=shortcode,
            kind=ItemKind.POST,
            text=str(caption),
            author=str(node.get("owner", {}).get("username", self.account.handle)),
            created_at=datetime.fromtimestamp(int(taken), UTC) if taken else _time(None),
            permalink=f"https://www.instagram.com/p/{shortcode}/",
            media=tuple(
                Media(MediaKind.IMAGE, url=f"archive:{p.name}", local_path=p, external_id=p.name) for p in pictures
            ),
            raw=raw,
            author_is_school=True,
        )


def _time(value: Any) -> datetime:
    if not value:
        return datetime.fromtimestamp(0, UTC)
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _fingerprint(item: Item) -> str:
    basis = json.dumps([item.text, item.parent_external_id, [m.url for m in item.media]], ensure_ascii=False)
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:16]
