from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from orchestrator.api.deps import CurrentUserDep, SpotifyDep
from orchestrator.errors import InvalidInputError
from orchestrator.schemas import ErrorOut, SpotifyLinkOut, SpotifyLoginOut

router = APIRouter(prefix="/v1/spotify", tags=["spotify"])
ERRORS: dict[int | str, dict[str, object]] = {code: {"model": ErrorOut} for code in (400, 401, 403, 409, 501, 503)}


@router.get("/login", response_model=SpotifyLoginOut, responses=ERRORS,
            summary="Start linking Spotify: the authorize URL to open in the user's browser")
async def login(user: CurrentUserDep, spotify: SpotifyDep) -> SpotifyLoginOut:
    return SpotifyLoginOut(authorize_url=await spotify.login_url(user))


@router.get("/callback", response_model=SpotifyLinkOut, responses=ERRORS,
            summary="Where Spotify sends the browser back; the state names the user who started the login")
async def callback(spotify: SpotifyDep, state: Annotated[str, Query(max_length=200)],
                   code: Annotated[str | None, Query(max_length=2000)] = None,
                   error: Annotated[str | None, Query(max_length=200)] = None) -> dict[str, Any]:
    if error is not None or code is None:
        raise InvalidInputError(400, f"Spotify did not authorize the link: {error or 'no code returned'}")
    return await spotify.finish_login(state, code)


@router.get("/link", response_model=SpotifyLinkOut, responses=ERRORS)
async def link_status(user: CurrentUserDep, spotify: SpotifyDep) -> dict[str, Any]:
    return spotify.describe(user)


@router.delete("/link", status_code=status.HTTP_204_NO_CONTENT, responses=ERRORS)
async def unlink(user: CurrentUserDep, spotify: SpotifyDep) -> Response:
    await spotify.unlink(user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
