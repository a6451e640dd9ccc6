"""Who is calling: the typed current-user dependencies routes declare (`CurrentUser`, `OptionalUser`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, WebSocket
from fastapi.security import OAuth2PasswordBearer
from fastapi.security.utils import get_authorization_scheme_param

from orchestrator.accounts.users import User
from orchestrator.core.errors import UnauthorizedError
from orchestrator.wiring import ServicesDep

_bearer = OAuth2PasswordBearer(tokenUrl="/v1/auth/token", auto_error=False)
BearerToken = Annotated[str | None, Depends(_bearer)]


async def optional_user(services: ServicesDep, token: BearerToken) -> User | None:
    """The caller's account when a token is sent (a bad token is a 401, never silently anonymous)."""
    if token is None:
        if not services.settings.allow_anonymous_moods:
            raise UnauthorizedError("this server needs a token for mood calls")
        return None
    return await services.accounts.authenticate(token)


async def current_user(services: ServicesDep, token: BearerToken) -> User:
    if token is None:
        raise UnauthorizedError("not authenticated")
    return await services.accounts.authenticate(token)


def websocket_token(websocket: WebSocket, access_token: str | None = None) -> str | None:
    """A WebSocket's bearer token. Browsers cannot set headers on a WebSocket, so it may come as
    `?access_token=`; an Authorization header works too. Checked by the route after the handshake, so that
    a refusal reaches the client as a close code rather than a bare HTTP 403."""
    scheme, credentials = get_authorization_scheme_param(websocket.headers.get("authorization"))
    return access_token or (credentials if scheme.lower() == "bearer" and credentials else None)


OptionalUser = Annotated[User | None, Depends(optional_user)]
CurrentUser = Annotated[User, Depends(current_user)]
WebSocketToken = Annotated[str | None, Depends(websocket_token)]


def owner_of(user: User | None) -> str | None:
    return user.id if user else None
