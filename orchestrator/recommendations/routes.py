from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter

from orchestrator.accounts.deps import OptionalUser
from orchestrator.http.responses import AUTHENTICATED, OPTIONAL_AUTH, error_responses
from orchestrator.recommendations.schemas import RecommendationRequest, RecommendationsOut
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
    return RecommendationsOut.model_validate(asdict(found))
