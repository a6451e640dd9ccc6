from __future__ import annotations

from fastapi import APIRouter, status

from orchestrator.api.deps import CurrentUserDep, MelodiesDep
from orchestrator.schemas import ErrorOut, GenerationJobOut, MelodyRequest

router = APIRouter(prefix="/v1", tags=["melodies"])


@router.post(
    "/melodies",
    response_model=GenerationJobOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses={code: {"model": ErrorOut} for code in (401, 422, 503)},
    summary="Queue an original melody (MIDI, WAV, OGG) for a mood",
    description="Answers at once with the job; follow it on `WS /v1/jobs/{id}/events` or `GET /v1/jobs/{id}`.",
)
async def create_melody(body: MelodyRequest, user: CurrentUserDep, melodies: MelodiesDep) -> GenerationJobOut:
    job = await melodies.create(str(user["_id"]), body)
    return GenerationJobOut.model_validate(await melodies.describe(job))
