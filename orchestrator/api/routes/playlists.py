from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from orchestrator.api.deps import CurrentUserDep, PlaylistsDep
from orchestrator.schemas import (
    ErrorOut,
    PlaylistIn,
    PlaylistOut,
    PlaylistPage,
    PlaylistPatch,
)

router = APIRouter(prefix="/v1", tags=["playlists"])
ERRORS: dict[int | str, dict[str, object]] = {code: {"model": ErrorOut} for code in (401, 404, 422)}
Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=200)]


def _out(document: dict[str, Any]) -> dict[str, Any]:
    return {**document, "id": str(document["_id"])}


@router.get("/playlists", response_model=PlaylistPage, responses=ERRORS)
async def list_playlists(user: CurrentUserDep, playlists: PlaylistsDep, limit: Limit = 20,
                         cursor: Cursor = None) -> PlaylistPage:
    items, next_cursor = await playlists.page(str(user["_id"]), limit, cursor)
    return PlaylistPage(items=[PlaylistOut.model_validate(_out(d)) for d in items], next_cursor=next_cursor)


@router.post("/playlists", response_model=PlaylistOut, status_code=status.HTTP_201_CREATED, responses=ERRORS)
async def create_playlist(body: PlaylistIn, user: CurrentUserDep, playlists: PlaylistsDep) -> PlaylistOut:
    now = datetime.now(UTC)
    document = await playlists.insert({**body.model_dump(), "owner_id": str(user["_id"]), "created_at": now,
                                       "updated_at": now})
    return PlaylistOut.model_validate(_out(document))


@router.get("/playlists/{playlist_id}", response_model=PlaylistOut, responses=ERRORS)
async def get_playlist(playlist_id: str, user: CurrentUserDep, playlists: PlaylistsDep) -> PlaylistOut:
    return PlaylistOut.model_validate(_out(await playlists.get(str(user["_id"]), playlist_id)))


@router.patch("/playlists/{playlist_id}", response_model=PlaylistOut, responses=ERRORS)
async def update_playlist(playlist_id: str, body: PlaylistPatch, user: CurrentUserDep,
                          playlists: PlaylistsDep) -> PlaylistOut:
    changes = body.model_dump(exclude_unset=True)
    document = await playlists.update(str(user["_id"]), playlist_id, {**changes, "updated_at": datetime.now(UTC)})
    return PlaylistOut.model_validate(_out(document))


@router.delete("/playlists/{playlist_id}", status_code=status.HTTP_204_NO_CONTENT, responses=ERRORS)
async def delete_playlist(playlist_id: str, user: CurrentUserDep, playlists: PlaylistsDep) -> Response:
    await playlists.delete(str(user["_id"]), playlist_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
