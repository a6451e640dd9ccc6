from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from orchestrator.accounts.deps import CurrentUser
from orchestrator.accounts.users import SpotifyLink
from orchestrator.core.errors import InvalidInputError
from orchestrator.http.responses import AUTHENTICATED, error_responses
from orchestrator.spotify.schemas import SpotifyLinkOut, SpotifyLoginOut
from orchestrator.wiring import ServicesDep

router = APIRouter(prefix="/v1/spotify", tags=["spotify"])
NOT_CONFIGURED = {501: "Spotify is not configured on this server (MUSEAIKA_SPOTIFY_CLIENT_ID)"}


def link_out(link: SpotifyLink | None) -> SpotifyLinkOut:
    if link is None:
        return SpotifyLinkOut(linked=False)
    return SpotifyLinkOut(linked=True, spotify_user_id=link.spotify_user_id, display_name=link.display_name,
                          scope=link.scope, linked_at=link.linked_at)


@router.get("/login", response_model=SpotifyLoginOut, responses=error_responses(*AUTHENTICATED, 501,
                                                                                 descriptions=NOT_CONFIGURED),
            summary="Start linking Spotify: the authorize URL to open in the user's browser")
async def login(user: CurrentUser, services: ServicesDep) -> SpotifyLoginOut:
    return SpotifyLoginOut(authorize_url=await services.spotify.login_url(user))


@router.get("/callback", response_model=SpotifyLinkOut, responses=error_responses(
                400, 403, 409, 422, 501, 503, descriptions={
                    **NOT_CONFIGURED, 400: "Spotify did not authorize, or the state is unknown or expired",
                    403: "Spotify refuses this account (an app in development mode serves only its allow-list)",
                    409: "Spotify no longer accepts the new link"}),
            summary="Where Spotify sends the browser back; the state names the user who started the login")
async def callback(services: ServicesDep, state: Annotated[str, Query(max_length=200)],
                   code: Annotated[str | None, Query(max_length=2000)] = None,
                   error: Annotated[str | None, Query(max_length=200)] = None) -> SpotifyLinkOut:
    if error is not None or code is None:
        raise InvalidInputError(400, f"Spotify did not authorize the link: {error or 'no code returned'}")
    return link_out(await services.spotify.finish_login(state, code))


@router.get("/link", response_model=SpotifyLinkOut, responses=error_responses(*AUTHENTICATED))
async def link_status(user: CurrentUser) -> SpotifyLinkOut:
    return link_out(user.spotify)


@router.delete("/link", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(*AUTHENTICATED))
async def unlink(user: CurrentUser, services: ServicesDep) -> Response:
    await services.spotify.unlink(user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
