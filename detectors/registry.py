"""Built-in detectors plus any installed under the ``hallmon.detectors`` entry-point group."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points

from detectors.base import Detector

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "hallmon.detectors"

# detector name -> "module:class". One line per built-in detector; each class takes no arguments.
BUILTIN: dict[str, str] = {
    "personal_data": "detectors.personal_data:PersonalDataDetector",
    "abuse": "detectors.abuse:AbuseDetector",
    "offensive": "detectors.offensive:OffensiveDetector",
    "pupil_names": "detectors.pupil_names:PupilNameDetector",
    "solicitation": "detectors.solicitation:SolicitationDetector",
    "child_picture": "detectors.child_picture:ChildPictureDetector",
    "copyright": "detectors.copyright:CopyrightDetector",
    "image_text": "detectors.image_text:ImageTextDetector",
}


@dataclass(frozen=True)
class DetectorPlugin:
    name: str
    factory: Callable[[], Detector]
    origin: str


def available_detectors() -> dict[str, DetectorPlugin]:
    plugins: dict[str, DetectorPlugin] = {}
    for name, target in BUILTIN.items():
        module_name, _, attr = target.partition(":")
        try:
            factory = getattr(importlib.import_module(module_name), attr)
        except Exception as exc:  # a broken detector module must not take the others down
            log.error("built-in detector %s could not be loaded and is disabled: %s", name, exc)
            continue
        plugins[name] = DetectorPlugin(name, factory, "built-in")
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in plugins:
            log.warning("detector plugin %s from %s ignored: name is taken", ep.name, ep.value)
            continue
        try:
            factory = ep.load()
        except Exception as exc:  # one broken plugin must not stop the daemon
            log.error("detector plugin %s could not be loaded: %s", ep.name, exc)
            continue
        origin = ep.dist.name if ep.dist is not None else ep.value
        plugins[ep.name] = DetectorPlugin(ep.name, factory, origin)
    return plugins


def build_detectors(enabled: list[str] | None = None) -> list[Detector]:
    """Instantiate detectors (all, or those named). A detector that fails to build is logged and
    skipped so the others still run."""
    built: list[Detector] = []
    for name, plugin in available_detectors().items():
        if enabled is not None and name not in enabled:
            continue
        try:
            built.append(plugin.factory())
        except Exception as exc:
            log.error("detector %s could not start and is disabled: %s", name, exc)
    return built
