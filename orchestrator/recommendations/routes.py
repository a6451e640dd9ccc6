from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from orchestrator.deps import CurrentUserDep, OptionalUserDep, RecommendationsDep
from orchestrator.http.responses import AUTHENTICATED, OPTIONAL_AUTH, error_responses
from orchestrator.playlists.routes import PLAYLIST_LINKS
from orchestrator.playlists.schemas import JourneyRequest, PlaylistOut
from orchestrator.recommendations.schemas import RecommendationRequest, RecommendationsOut

router = APIRouter(prefix="/v1", tags=["recommendations"])
# 403, 409: Spotify refused the linked account, or its link must be made again.
ERRORS = error_responses(*AUTHENTICATED, 403, 404, 409, 422, descriptions={
    404: "mood_event_id names no mood event of yours",
    403: "Spotify refuses this account (an app in development mode serves only its allow-list)",
    409: "The Spotify link must be made again (GET /v1/spotify/login)"})
JOURNEY_ERRORS = error_responses(*AUTHENTICATED, 403, 404, 409, 422, descriptions={
    404: "A mood_event_id names no mood event of yours",
    403: "Spotify refuses this account (save_to_spotify)",
    409: "The catalog has too few tracks for this length, or the Spotify link must be made again"})


def _playlist(document: dict[str, Any]) -> PlaylistOut:
    return PlaylistOut.model_validate({**document, "id": str(document["_id"])})


@router.post("/recommendations", response_model=RecommendationsOut, responses=ERRORS, operation_id="recommend",
             openapi_extra=OPTIONAL_AUTH, summary="Tracks for a mood, ranked, each with why it fits")
async def recommend(body: RecommendationRequest, user: OptionalUserDep,
                    recommendations: RecommendationsDep) -> dict[str, Any]:
    return await recommendations.recommend(user, body.mood, body.limit, body.include_library)


@router.post("/playlists/journey", response_model=PlaylistOut, status_code=status.HTTP_201_CREATED,
             responses={**JOURNEY_ERRORS, 201: PLAYLIST_LINKS},
             summary="A playlist that moves from one mood to another, step by step")
async def create_journey(body: JourneyRequest, user: CurrentUserDep,
                         recommendations: RecommendationsDep) -> PlaylistOut:
    return _playlist(await recommendations.create_journey(user, body))


@router.post("/playlists/{playlist_id}/spotify", response_model=PlaylistOut, operation_id="save_playlist_to_spotify",
             responses=error_responses(*AUTHENTICATED, 403, 404, 409, 422, 501, descriptions={
                 409: "The playlist has no Spotify tracks; or this account has no Spotify link, or it must be "
                      "made again (GET /v1/spotify/login)",
                 422: "Spotify refused the playlist's tracks (e.g. an id it does not know)",
                 501: "Spotify is not configured on this server"}),
             summary="Create this playlist on the user's Spotify account")
async def save_to_spotify(playlist_id: str, user: CurrentUserDep,
                          recommendations: RecommendationsDep) -> PlaylistOut:
    return _playlist(await recommendations.push_to_spotify(user, playlist_id))
