"""Dependencies injected into routes (built once in the app's lifespan, kept on app.state)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request

from orchestrator.services.face_mood import FaceMoodService
from orchestrator.services.fusion import FusedMoodService
from orchestrator.services.readiness import ReadinessService
from orchestrator.services.text_mood import TextMoodService
from orchestrator.settings import Settings
from orchestrator.store.mood_events import MoodEventRepository


def _from_state(attribute: str) -> Callable[[Request], Any]:
    def dependency(request: Request) -> Any:
        return getattr(request.app.state, attribute)

    return dependency


SettingsDep = Annotated[Settings, Depends(_from_state("settings"))]
FaceMoodDep = Annotated[FaceMoodService, Depends(_from_state("face_mood"))]
TextMoodDep = Annotated[TextMoodService, Depends(_from_state("text_mood"))]
FusedMoodDep = Annotated[FusedMoodService, Depends(_from_state("fused_mood"))]
MoodEventsDep = Annotated[MoodEventRepository, Depends(_from_state("events"))]
ReadinessDep = Annotated[ReadinessService, Depends(_from_state("readiness"))]
