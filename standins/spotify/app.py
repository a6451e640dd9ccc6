"""One FastAPI app serving both Spotify hosts' paths: Accounts (``/authorize``, ``/api/token``, normally
https://accounts.spotify.com) and the Web API (``/v1/...``, normally https://api.spotify.com), plus
``/_control/...`` for tests (fault injection, inspection) which the real service does not have.

Each handler carries the link of its Spotify reference page. Shapes and messages follow those pages and,
where the pages say nothing (error bodies), what Spotify has been seen to answer. The pieces:

- ``state.py``: what the stand-in holds (catalogue, accounts, codes, tokens, playlists, faults, request log);
  routers get it through the typed dependencies in ``deps.py``.
- ``accounts.py``: ``/authorize`` and ``/api/token``.
- ``web_api.py``: the user's profile and library, search and tracks; ``playlists.py``: playlists;
  ``legacy.py``: ``/recommendations`` and ``/audio-features`` (closed to new apps since November 2024).
- ``control.py``: ``/_control/...``; ``covers.py``: ``/_standin/cover/...`` images for the catalogue.
- ``gate.py``: the middleware that logs requests and injects faults (429, 503); ``errors.py``: error bodies
  (rate limiting: 429 with ``Retry-After`` in seconds, https://developer.spotify.com/documentation/web-api/concepts/rate-limits).
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from standins.spotify import accounts, control, covers, legacy, playlists, web_api
from standins.spotify.config import SpotifyStandinConfig
from standins.spotify.errors import NOT_ALLOW_LISTED, install_error_handlers
from standins.spotify.gate import Gate
from standins.spotify.state import StandinState

__all__ = ["NOT_ALLOW_LISTED", "SpotifyStandinConfig", "create_app"]


def create_app(config: SpotifyStandinConfig) -> FastAPI:
    state = StandinState(config)
    app = FastAPI(title="Spotify stand-in", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.standin = state  # read by deps.standin_state
    app.add_middleware(Gate, state=state)
    # Outermost, so 429 and 503 carry CORS headers too; both Spotify hosts answer browsers (PKCE in a page).
    app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["*"], allow_headers=["*"],
                       expose_headers=["Retry-After"])
    install_error_handlers(app)
    for router in (accounts.router, web_api.router, legacy.router, playlists.router, covers.router, control.router):
        app.include_router(router)
    return app
