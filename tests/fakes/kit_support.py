"""Setup the connector test modules and platform kits share: the fake server fixture and error answers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.server import FakePlatform, Response


@pytest.fixture(name="platform")
def platform_fixture() -> Iterator[FakePlatform]:
    """A fake platform on 127.0.0.1 for one test (import it to use the ``platform`` fixture)."""
    fake = FakePlatform()
    with fake.running():
        yield fake


def error_answer(status: int, body: bytes, headers: dict[str, str]) -> Response:
    """An API error as the platforms send it: JSON unless ``headers`` say otherwise."""
    return Response(status, body, {"Content-Type": "application/json", **headers})
