"""The shape each platform's test kit offers the connector contract suite
(tests/test_connector_contract.py), so one suite runs over every registered connector.

A platform kit module lives at ``tests/fakes/<platform>_kit.py`` and defines ``KIT``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from connectors.base import Connector
from tests.fakes.server import FakePlatform


@dataclass(frozen=True)
class PlatformKit:
    platform: str
    # Installs routes serving a small recorded account (>= 2 pages of posts, some comments).
    serve_account: Callable[[FakePlatform], None]
    # Installs routes that answer every API call with this status/body/headers (error mapping).
    serve_error: Callable[[FakePlatform, int, bytes, dict[str, str]], None]
    # Builds the real connector pointed at the fake server's base URL, with working credentials.
    build: Callable[[FakePlatform], Connector]
    # Builds the connector with no credentials: must raise connectors.base.NotConfigured.
    build_unconfigured: Callable[[], Connector]
