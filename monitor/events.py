"""Events the pipeline and the sender report after each commit, for the custody log.

The pipeline does not know how custody is kept; it tells an :class:`EventRecorder` what happened
(captured, analysed, alerted, delivered, removed) once the change is committed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class EventRecorder(Protocol):
    def record(self, event: str, subject_type: str, subject_id: int, details: Mapping[str, Any], actor: str = "system") -> None: ...


class NullRecorder:
    def record(self, event: str, subject_type: str, subject_id: int, details: Mapping[str, Any], actor: str = "system") -> None:
        return None
