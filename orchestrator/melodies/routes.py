from __future__ import annotations

from fastapi import APIRouter, status

from orchestrator.deps import CurrentUserDep, MelodiesDep
from orchestrator.http.responses import AUTHENTICATED, error_responses, link, links
from orchestrator.melodies.schemas import GenerationJobOut, MelodyRequest

router = APIRouter(prefix="/v1", tags=["melodies"])


@router.post(
    "/melodies",
    response_model=GenerationJobOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses={**error_responses(*AUTHENTICATED, 404, 422, 429, descriptions={
        404: "mood_event_id names no mood event of yours",
        422: "Invalid parameters, an unknown mood label or instrument, or a mood event without a mood",
        429: "You have MUSEAIKA_MAX_ACTIVE_JOBS_PER_USER melodies queued or being made (or a rate limit)"}),
        202: links(GetJob=link("get_job", {"job_id": "$response.body#/id"}),
                   RetryJob=link("retry_job", {"job_id": "$response.body#/id"}))},
    operation_id="create_melody",
    summary="Queue an original melody (MIDI, WAV, OGG) for a mood",
    description="Answers at once with the job; follow it on `WS /v1/jobs/{id}/events` or `GET /v1/jobs/{id}`.",
)
async def create_melody(body: MelodyRequest, user: CurrentUserDep, melodies: MelodiesDep) -> GenerationJobOut:
    job = await melodies.create(str(user["_id"]), body)
    return GenerationJobOut.model_validate(await melodies.describe(job))
