"""Built-in connectors by platform name, plus any installed under the ``hallmon.connectors``
entry-point group."""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from importlib.metadata import entry_points

from connectors.base import ConnectorFactory

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "hallmon.connectors"

# platform name -> "module:factory". One line per built-in connector.
BUILTIN: dict[str, str] = {
    "archive": "connectors.archive:ArchiveConnector",
    "instagram": "connectors.instagram:InstaloaderConnector",
    "instagram_graph": "connectors.instagram_graph:InstagramGraphConnector",
    "x": "connectors.x:XConnector",
    "youtube": "connectors.youtube:YouTubeConnector",
}


@dataclass(frozen=True)
class ConnectorPlugin:
    name: str
    factory: ConnectorFactory
    version: str
    origin: str  # "built-in" or the distribution that provides the entry point


def _load(target: str) -> ConnectorFactory:
    module_name, _, attr = target.partition(":")
    factory: ConnectorFactory = getattr(importlib.import_module(module_name), attr)
    return factory


def available_connectors() -> dict[str, ConnectorPlugin]:
    """Every connector, built-in first; an entry point may not shadow a built-in."""
    plugins: dict[str, ConnectorPlugin] = {}
    for name, target in BUILTIN.items():
        try:
            factory = _load(target)
        except Exception as exc:  # a broken connector module must not take the others down
            log.error("built-in connector %s could not be loaded and is disabled: %s", name, exc)
            continue
        plugins[name] = ConnectorPlugin(name, factory, getattr(factory, "version", "0"), "built-in")
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in plugins:
            log.warning("connector plugin %s from %s ignored: name is taken", ep.name, ep.value)
            continue
        try:
            factory = ep.load()
        except Exception as exc:  # one broken plugin must not stop the daemon
            log.error("connector plugin %s could not be loaded: %s", ep.name, exc)
            continue
        origin = ep.dist.name if ep.dist is not None else ep.value
        plugins[ep.name] = ConnectorPlugin(ep.name, factory, getattr(factory, "version", "0"), origin)
    return plugins
