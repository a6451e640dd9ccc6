"""What the routers are handed (typed FastAPI dependencies): the state, the caller's token, and shapes whose
links point back at the host a request came to.

They are ``async`` so that FastAPI resolves them on the event loop, like the handlers and the gate, rather
than in a worker thread: the state is plain, unlocked Python objects.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from standins.spotify.shapes import Shapes
from standins.spotify.state import AccessToken, StandinState


async def standin_state(request: Request) -> StandinState:
    state: StandinState = request.app.state.standin  # set by create_app
    return state


StateDep = Annotated[StandinState, Depends(standin_state)]


async def user_token(request: Request, state: StateDep) -> AccessToken:
    return state.authenticate(request.headers.get("authorization"))


async def any_token(request: Request, state: StateDep) -> AccessToken:
    return state.authenticate(request.headers.get("authorization"), user=False)


UserToken = Annotated[AccessToken, Depends(user_token)]  # a user's token; an app token answers 401
AnyToken = Annotated[AccessToken, Depends(any_token)]  # a user's or a client-credentials (app) token


async def request_shapes(request: Request, state: StateDep) -> Shapes:
    return Shapes(str(request.base_url), state.config.development_mode, state.config.open_url)


ShapesDep = Annotated[Shapes, Depends(request_shapes)]
