"""Spotify's authorization code flow with PKCE, through spotipy's `SpotifyPKCE`.

The `state` sent to Spotify is random and single-use: it maps (in Redis, for ten minutes) to the user
who started the login and the PKCE code verifier, so a callback proves both who asked and that the code
is ours. spotipy is pointed at the configured Accounts service (Spotify's, or the local stand-in) by
its `OAUTH_AUTHORIZE_URL` / `OAUTH_TOKEN_URL`, and never caches tokens on disk.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from dataclasses import dataclass

import redis.asyncio as aioredis
from spotipy.cache_handler import MemoryCacheHandler
from spotipy.oauth2 import SpotifyOauthError, SpotifyPKCE

from orchestrator.core.errors import DependencyUnavailableError, InvalidInputError
from orchestrator.storage.redis import translate_redis_errors

STATE_TTL_S = 600
DEPENDENCY = "spotify"


@dataclass(frozen=True)
class SpotifyApp:
    client_id: str
    redirect_uri: str
    accounts_url: str  # https://accounts.spotify.com
    scopes: tuple[str, ...]
    timeout_s: float


@dataclass(frozen=True)
class TokenInfo:
    access_token: str
    refresh_token: str
    expires_at: float  # epoch seconds
    scope: str


def _state_key(state: str) -> str:
    return f"museaika:spotify-login:{state}"


class SpotifyAuthorizer:
    def __init__(self, app: SpotifyApp, redis: aioredis.Redis) -> None:
        self.app = app
        self.redis = redis

    def _pkce(self) -> SpotifyPKCE:
        auth = SpotifyPKCE(client_id=self.app.client_id, redirect_uri=self.app.redirect_uri,
                           scope=" ".join(self.app.scopes), cache_handler=MemoryCacheHandler(),
                           open_browser=False, requests_timeout=self.app.timeout_s)
        auth.OAUTH_AUTHORIZE_URL = f"{self.app.accounts_url}/authorize"
        auth.OAUTH_TOKEN_URL = f"{self.app.accounts_url}/api/token"
        return auth

    async def start(self, user_id: str) -> str:
        """The URL to send the user's browser to."""
        auth = self._pkce()
        auth.get_pkce_handshake_parameters()
        state = secrets.token_urlsafe(24)
        async with translate_redis_errors():
            await self.redis.set(_state_key(state), json.dumps({"user_id": user_id, "verifier": auth.code_verifier}),
                                 ex=STATE_TTL_S)
        return str(auth.get_authorize_url(state=state))

    async def finish(self, state: str, code: str) -> tuple[str, TokenInfo]:
        """(the user who started this login, their tokens); a state never issued, already used or
        expired is refused."""
        async with translate_redis_errors():
            stored = await self.redis.getdel(_state_key(state))
        if stored is None:
            raise InvalidInputError(400, "unknown or expired login state: start again at /v1/spotify/login")
        pending = json.loads(stored)
        auth = self._pkce()
        auth.code_verifier = pending["verifier"]
        auth.code_challenge = "unused: the challenge went out with the authorize URL"
        try:
            await asyncio.to_thread(auth.get_access_token, code, False)
        except SpotifyOauthError as error:
            raise InvalidInputError(400, f"Spotify refused the authorization code: {error.error}") from error
        except OSError as error:  # requests' connection errors
            raise DependencyUnavailableError(DEPENDENCY, f"accounts service unreachable: {error}") from error
        return str(pending["user_id"]), self._token_info(auth.cache_handler.get_cached_token())

    async def refresh(self, refresh_token: str) -> TokenInfo | None:
        """New tokens, or None when Spotify no longer accepts the refresh token (re-link needed)."""
        auth = self._pkce()
        try:
            info = await asyncio.to_thread(auth.refresh_access_token, refresh_token)
        except SpotifyOauthError:
            return None
        except OSError as error:
            raise DependencyUnavailableError(DEPENDENCY, f"accounts service unreachable: {error}") from error
        return self._token_info(info)

    @staticmethod
    def _token_info(info: dict[str, object] | None) -> TokenInfo:
        if not info or "access_token" not in info:
            raise DependencyUnavailableError(DEPENDENCY, "the accounts service answered without a token")
        expires_at = info.get("expires_at")
        return TokenInfo(str(info["access_token"]), str(info.get("refresh_token", "")),
                         float(expires_at) if isinstance(expires_at, int | float) else time.time() + 3600,
                         str(info.get("scope", "")))
