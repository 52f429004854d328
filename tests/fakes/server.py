"""A real HTTP server on 127.0.0.1 that replays recorded platform responses.

Tests point the real client libraries (tweepy, googleapiclient, httpx, instaloader) at it by
rewriting their base URL. A route is a function of the request; every request is logged so tests
can count API calls.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def arg(self, name: str, default: str = "") -> str:
        values = self.query.get(name)
        return values[0] if values else default


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_seconds: float = 0.0

    @classmethod
    def json(cls, payload: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        merged = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
        return cls(status, json.dumps(payload).encode("utf-8"), merged)


Route = Callable[[Request], Response]


class FakePlatform:
    """Routes by (method, path prefix); the longest matching prefix wins."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Route] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def route(self, method: str, path_prefix: str, handler: Route) -> None:
        self.routes[(method.upper(), path_prefix)] = handler

    @property
    def base_url(self) -> str:
        assert self._server is not None, "server not started"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def count(self, path_prefix: str = "") -> int:
        with self._lock:
            return sum(1 for r in self.requests if r.path.startswith(path_prefix))

    def _dispatch(self, request: Request) -> Response:
        with self._lock:
            self.requests.append(request)
        candidates = [
            (prefix, handler)
            for (method, prefix), handler in self.routes.items()
            if method == request.method and request.path.startswith(prefix)
        ]
        if not candidates:
            return Response.json({"error": f"no fake route for {request.method} {request.path}"}, 404)
        _, handler = max(candidates, key=lambda pair: len(pair[0]))
        return handler(request)

    @contextmanager
    def running(self) -> Iterator[FakePlatform]:
        platform = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Without this, small responses wait on Nagle + delayed ACK (~40 ms each).
            disable_nagle_algorithm = True

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = Request(
                    self.command,
                    parts.path,
                    parse_qs(parts.query, keep_blank_values=True),
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                response = platform._dispatch(request)
                if response.delay_seconds:
                    threading.Event().wait(response.delay_seconds)
                self.send_response(response.status)
                for name, value in response.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                self.wfile.write(response.body)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
