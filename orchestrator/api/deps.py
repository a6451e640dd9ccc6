"""Dependencies injected into routes (built once in the app's lifespan, kept on app.state)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from orchestrator.inference.client import InferenceBackend
from orchestrator.services.face_mood import FaceMoodService
from orchestrator.services.readiness import ReadinessService
from orchestrator.settings import Settings


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_face_mood_service(request: Request) -> FaceMoodService:
    service: FaceMoodService = request.app.state.face_mood
    return service


def get_readiness_service(request: Request) -> ReadinessService:
    service: ReadinessService = request.app.state.readiness
    return service


def get_inference(request: Request) -> InferenceBackend:
    backend: InferenceBackend = request.app.state.inference
    return backend


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
FaceMoodDep = Annotated[FaceMoodService, Depends(get_face_mood_service)]
ReadinessDep = Annotated[ReadinessService, Depends(get_readiness_service)]
