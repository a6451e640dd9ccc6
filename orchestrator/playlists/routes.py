from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from orchestrator.accounts.deps import CurrentUser
from orchestrator.http.responses import AUTHENTICATED, error_responses, link, links
from orchestrator.playlists.repository import Playlist
from orchestrator.playlists.schemas import JourneyRequest, PlaylistIn, PlaylistOut, PlaylistPage, PlaylistPatch
from orchestrator.wiring import ServicesDep

router = APIRouter(prefix="/v1", tags=["playlists"])
ERRORS = error_responses(*AUTHENTICATED, 422)
ITEM_ERRORS = error_responses(*AUTHENTICATED, 404, 422)
# A playlist answer leads to the playlist: read, change, delete, save to Spotify.
_PLAYLIST_ID = {"playlist_id": "$response.body#/id"}
PLAYLIST_LINKS = links(GetPlaylist=link("get_playlist", _PLAYLIST_ID),
                       UpdatePlaylist=link("update_playlist", _PLAYLIST_ID),
                       DeletePlaylist=link("delete_playlist", _PLAYLIST_ID),
                       SavePlaylistToSpotify=link("save_playlist_to_spotify", _PLAYLIST_ID))
JOURNEY_ERRORS = error_responses(*AUTHENTICATED, 403, 404, 409, 422, descriptions={
    404: "A mood_event_id names no mood event of yours",
    403: "Spotify refuses this account (save_to_spotify)",
    409: "The catalog has too few tracks for this length, or the Spotify link must be made again"})
Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=200)]


def playlist_out(playlist: Playlist) -> PlaylistOut:
    return PlaylistOut.model_validate(asdict(playlist))


@router.get("/playlists", response_model=PlaylistPage, responses=ERRORS)
async def list_playlists(user: CurrentUser, services: ServicesDep, limit: Limit = 20,
                         cursor: Cursor = None) -> PlaylistPage:
    items, next_cursor = await services.playlists.page(user, limit, cursor)
    return PlaylistPage(items=[playlist_out(p) for p in items], next_cursor=next_cursor)


@router.post("/playlists", response_model=PlaylistOut, status_code=status.HTTP_201_CREATED,
             responses={**ERRORS, 201: PLAYLIST_LINKS})
async def create_playlist(body: PlaylistIn, user: CurrentUser, services: ServicesDep) -> PlaylistOut:
    return playlist_out(await services.playlists.create(user, body))


@router.post("/playlists/journey", response_model=PlaylistOut, status_code=status.HTTP_201_CREATED,
             responses={**JOURNEY_ERRORS, 201: PLAYLIST_LINKS},
             summary="A playlist that moves from one mood to another, step by step")
async def create_journey(body: JourneyRequest, user: CurrentUser, services: ServicesDep) -> PlaylistOut:
    return playlist_out(await services.playlists.create_journey(user, body))


@router.get("/playlists/{playlist_id}", response_model=PlaylistOut, responses=ITEM_ERRORS, operation_id="get_playlist")
async def get_playlist(playlist_id: str, user: CurrentUser, services: ServicesDep) -> PlaylistOut:
    return playlist_out(await services.playlists.get(user, playlist_id))


@router.patch("/playlists/{playlist_id}", response_model=PlaylistOut, responses={**ITEM_ERRORS, 200: PLAYLIST_LINKS},
              operation_id="update_playlist")
async def update_playlist(playlist_id: str, body: PlaylistPatch, user: CurrentUser,
                          services: ServicesDep) -> PlaylistOut:
    return playlist_out(await services.playlists.update(user, playlist_id, body))


@router.delete("/playlists/{playlist_id}", status_code=status.HTTP_204_NO_CONTENT, responses=ITEM_ERRORS,
               operation_id="delete_playlist")
async def delete_playlist(playlist_id: str, user: CurrentUser, services: ServicesDep) -> Response:
    await services.playlists.delete(user, playlist_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/playlists/{playlist_id}/spotify", response_model=PlaylistOut, operation_id="save_playlist_to_spotify",
             responses=error_responses(*AUTHENTICATED, 403, 404, 409, 422, 501, descriptions={
                 409: "The playlist has no Spotify tracks; or this account has no Spotify link, or it must be "
                      "made again (GET /v1/spotify/login)",
                 422: "Spotify refused the playlist's tracks (e.g. an id it does not know)",
                 501: "Spotify is not configured on this server"}),
             summary="Create this playlist on the user's Spotify account")
async def save_to_spotify(playlist_id: str, user: CurrentUser, services: ServicesDep) -> PlaylistOut:
    return playlist_out(await services.playlists.push_to_spotify(user, playlist_id))
