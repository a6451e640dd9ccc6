from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from orchestrator.api.deps import CurrentUserDep, OptionalUserDep, RecommendationsDep
from orchestrator.schemas import ErrorOut, JourneyRequest, PlaylistOut, RecommendationRequest, RecommendationsOut

router = APIRouter(prefix="/v1", tags=["recommendations"])
ERRORS: dict[int | str, dict[str, object]] = {code: {"model": ErrorOut} for code in (401, 403, 404, 409, 422, 503)}


def _playlist(document: dict[str, Any]) -> PlaylistOut:
    return PlaylistOut.model_validate({**document, "id": str(document["_id"])})


@router.post("/recommendations", response_model=RecommendationsOut, responses=ERRORS,
             summary="Tracks for a mood, ranked, each with why it fits")
async def recommend(body: RecommendationRequest, user: OptionalUserDep,
                    recommendations: RecommendationsDep) -> dict[str, Any]:
    return await recommendations.recommend(user, body.mood, body.limit, body.include_library)


@router.post("/playlists/journey", response_model=PlaylistOut, status_code=status.HTTP_201_CREATED,
             responses=ERRORS, summary="A playlist that moves from one mood to another, step by step")
async def create_journey(body: JourneyRequest, user: CurrentUserDep,
                         recommendations: RecommendationsDep) -> PlaylistOut:
    return _playlist(await recommendations.create_journey(user, body))


@router.post("/playlists/{playlist_id}/spotify", response_model=PlaylistOut, responses=ERRORS,
             summary="Create this playlist on the user's Spotify account")
async def save_to_spotify(playlist_id: str, user: CurrentUserDep,
                          recommendations: RecommendationsDep) -> PlaylistOut:
    return _playlist(await recommendations.push_to_spotify(user, playlist_id))
