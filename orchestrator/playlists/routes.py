from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from orchestrator.deps import CurrentUserDep, PlaylistsDep
from orchestrator.http.responses import AUTHENTICATED, error_responses, link, links
from orchestrator.playlists.schemas import PlaylistIn, PlaylistOut, PlaylistPage, PlaylistPatch

router = APIRouter(prefix="/v1", tags=["playlists"])
ERRORS = error_responses(*AUTHENTICATED, 422)
ITEM_ERRORS = error_responses(*AUTHENTICATED, 404, 422)
# A playlist answer leads to the playlist: read, change, delete, save to Spotify.
_PLAYLIST_ID = {"playlist_id": "$response.body#/id"}
PLAYLIST_LINKS = links(GetPlaylist=link("get_playlist", _PLAYLIST_ID),
                       UpdatePlaylist=link("update_playlist", _PLAYLIST_ID),
                       DeletePlaylist=link("delete_playlist", _PLAYLIST_ID),
                       SavePlaylistToSpotify=link("save_playlist_to_spotify", _PLAYLIST_ID))
Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=200)]


def _out(document: dict[str, Any]) -> dict[str, Any]:
    return {**document, "id": str(document["_id"])}


@router.get("/playlists", response_model=PlaylistPage, responses=ERRORS)
async def list_playlists(user: CurrentUserDep, playlists: PlaylistsDep, limit: Limit = 20,
                         cursor: Cursor = None) -> PlaylistPage:
    items, next_cursor = await playlists.page(str(user["_id"]), limit, cursor)
    return PlaylistPage(items=[PlaylistOut.model_validate(_out(d)) for d in items], next_cursor=next_cursor)


@router.post("/playlists", response_model=PlaylistOut, status_code=status.HTTP_201_CREATED,
             responses={**ERRORS, 201: PLAYLIST_LINKS})
async def create_playlist(body: PlaylistIn, user: CurrentUserDep, playlists: PlaylistsDep) -> PlaylistOut:
    now = datetime.now(UTC)
    document = await playlists.insert({**body.model_dump(), "owner_id": str(user["_id"]), "created_at": now,
                                       "updated_at": now})
    return PlaylistOut.model_validate(_out(document))


@router.get("/playlists/{playlist_id}", response_model=PlaylistOut, responses=ITEM_ERRORS, operation_id="get_playlist")
async def get_playlist(playlist_id: str, user: CurrentUserDep, playlists: PlaylistsDep) -> PlaylistOut:
    return PlaylistOut.model_validate(_out(await playlists.get(str(user["_id"]), playlist_id)))


@router.patch("/playlists/{playlist_id}", response_model=PlaylistOut, responses={**ITEM_ERRORS, 200: PLAYLIST_LINKS},
              operation_id="update_playlist")
async def update_playlist(playlist_id: str, body: PlaylistPatch, user: CurrentUserDep,
                          playlists: PlaylistsDep) -> PlaylistOut:
    changes = body.model_dump(exclude_unset=True)
    document = await playlists.update(str(user["_id"]), playlist_id, {**changes, "updated_at": datetime.now(UTC)})
    return PlaylistOut.model_validate(_out(document))


@router.delete("/playlists/{playlist_id}", status_code=status.HTTP_204_NO_CONTENT, responses=ITEM_ERRORS,
               operation_id="delete_playlist")
async def delete_playlist(playlist_id: str, user: CurrentUserDep, playlists: PlaylistsDep) -> Response:
    await playlists.delete(str(user["_id"]), playlist_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
