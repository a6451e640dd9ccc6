from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, UploadFile

from orchestrator.api.deps import FaceMoodDep, SettingsDep
from orchestrator.errors import InvalidInputError
from orchestrator.schemas import ErrorOut, FaceMoodResponse, MoodEventOut
from orchestrator.services.face_mood import NO_FACE_REASON
from orchestrator.store.mood_events import MoodEvent

router = APIRouter(prefix="/v1", tags=["moods"])

ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorOut} for code in (400, 413, 415, 422, 503)
}


@router.post("/moods/face", response_model=FaceMoodResponse, responses=ERRORS,
             summary="Detect every face in a photo, its emotions, and one overall mood")
async def face_mood(
    service: FaceMoodDep,
    settings: SettingsDep,
    image: Annotated[UploadFile, File(description="JPEG, PNG or WebP photo")],
) -> FaceMoodResponse:
    # Read one byte past the limit: enough to know the upload is too large without buffering more.
    data = await image.read(settings.max_upload_bytes + 1)
    if len(data) > settings.max_upload_bytes:
        raise InvalidInputError(413, f"image is larger than the limit of {settings.max_upload_bytes} bytes")
    event = await service.analyze(data)
    return FaceMoodResponse.model_validate({
        "event_id": event.id, "faces": event.faces, "mood": event.mood,
        "reason": None if event.faces else NO_FACE_REASON,
        "model": {"name": event.model_name, "version": event.model_version},
        "created_at": event.created_at,
    })


@router.get("/mood-events/{event_id}", response_model=MoodEventOut, responses={404: {"model": ErrorOut}},
            summary="Read back a stored mood event")
async def get_mood_event(event_id: str, service: FaceMoodDep) -> MoodEventOut:
    event: MoodEvent = await service.get(event_id)
    return MoodEventOut.model_validate({
        "id": event.id, "source": event.source, "faces": event.faces, "mood": event.mood,
        "model": {"name": event.model_name, "version": event.model_version},
        "owner_id": event.owner_id, "created_at": event.created_at,
    })
