from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from orchestrator.accounts.deps import CurrentUser, OptionalUser
from orchestrator.http.responses import AUTHENTICATED, OPTIONAL_AUTH, error_responses
from orchestrator.recommendations.feedback import TrackFeedback, Verdict
from orchestrator.recommendations.schemas import (
    TRACK_ID_PATTERN,
    FeedbackOut,
    FeedbackPage,
    FeedbackRequest,
    RecommendationRequest,
    RecommendationsOut,
)
from orchestrator.wiring import ServicesDep

router = APIRouter(prefix="/v1", tags=["recommendations"])
# 403, 409: Spotify refused the linked account, or its link must be made again.
ERRORS = error_responses(*AUTHENTICATED, 403, 404, 409, 422, descriptions={
    404: "mood_event_id names no mood event of yours",
    403: "Spotify refuses this account (an app in development mode serves only its allow-list)",
    409: "The Spotify link must be made again (GET /v1/spotify/login)"})


@router.post("/recommendations", response_model=RecommendationsOut, responses=ERRORS, operation_id="recommend",
             openapi_extra=OPTIONAL_AUTH, summary="Tracks for a mood, ranked, each with why it fits")
async def recommend(body: RecommendationRequest, user: OptionalUser, services: ServicesDep) -> RecommendationsOut:
    found = await services.recommendations.recommend(user, body.mood, body.limit, body.include_library)
    return RecommendationsOut.model_validate({
        "mood": found.mood, "targets": found.targets, "sources": found.sources,
        "tracks": [{**t.as_dict(), "in_library": t.track_id in found.library_ids} for t in found.tracks]})


def feedback_out(feedback: TrackFeedback) -> FeedbackOut:
    return FeedbackOut(track_id=feedback.track_id, verdict=feedback.verdict.value, created_at=feedback.created_at,
                       updated_at=feedback.updated_at)


@router.post("/recommendations/feedback", response_model=FeedbackOut, status_code=status.HTTP_201_CREATED,
             responses=error_responses(*AUTHENTICATED, 404, 422, descriptions={
                 200: "A verdict on this track was already stored: it is replaced",
                 404: "The track is not in the catalog"}),
             summary="👍/👎 a recommended track: later rankings move towards what you like, away from the rest")
async def give_feedback(body: FeedbackRequest, user: CurrentUser, services: ServicesDep,
                        response: Response) -> FeedbackOut:
    feedback, created = await services.recommendations.give_feedback(user, body.track_id, Verdict(body.verdict))
    if not created:
        response.status_code = status.HTTP_200_OK
    return feedback_out(feedback)


@router.get("/recommendations/feedback", response_model=FeedbackPage, responses=error_responses(*AUTHENTICATED),
            summary="Your 👍/👎 verdicts, newest first")
async def list_feedback(user: CurrentUser, services: ServicesDep) -> FeedbackPage:
    return FeedbackPage(items=[feedback_out(f) for f in await services.recommendations.feedback_of(user)])


@router.delete("/recommendations/feedback/{track_id}", status_code=status.HTTP_204_NO_CONTENT,
               responses=error_responses(*AUTHENTICATED, 404, 422), summary="Take a verdict back")
async def forget_feedback(track_id: Annotated[str, Path(pattern=TRACK_ID_PATTERN)], user: CurrentUser,
                          services: ServicesDep) -> Response:
    await services.recommendations.forget_feedback(user, track_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
