"""Calls to Spotify's Web API for one linked user, with Spotify's failures turned into ours.

| Spotify answers                       | we do                                                            |
|---------------------------------------|------------------------------------------------------------------|
| 401 (token expired or revoked)        | refresh once and repeat; refresh refused → `SpotifyRelinkNeeded` |
| 429 with Retry-After ≤ the bound      | wait that long once and repeat                                   |
| 429 with a longer Retry-After, 5xx,   | `DependencyUnavailableError("spotify")` → 503 with Retry-After   |
|   timeouts, connection errors         |                                                                  |
| 403 (user not on the app's allow-list)| `SpotifyForbidden` → 403 saying so                               |
| any other 4xx (e.g. an unknown track) | `SpotifyRefused` → 422 with Spotify's message                    |

spotipy's own retries are off (its default can sleep for as long as Spotify's Retry-After says,
hours included, and then reports every status as 429); each call runs in a thread (spotipy is synchronous).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import spotipy
from spotipy.exceptions import SpotifyException

from orchestrator.core.errors import DependencyUnavailableError, InvalidInputError
from orchestrator.spotify.oauth import SpotifyAuthorizer, TokenInfo

logger = logging.getLogger(__name__)
DEPENDENCY = "spotify"
REFRESH_MARGIN_S = 60  # refresh a token this close to its expiry before using it
T = TypeVar("T")


class SpotifyRelinkNeeded(InvalidInputError):
    def __init__(self, reason: str) -> None:
        super().__init__(409, f"{reason}; link Spotify again at /v1/spotify/login")


class SpotifyForbidden(InvalidInputError):
    def __init__(self, message: str) -> None:
        super().__init__(403, "Spotify refused this account: while the app is in development mode only users "
                              f"on its allow-list may use it (Spotify said: {message})")


class SpotifyRefused(InvalidInputError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(422, f"Spotify refused the request ({status}): {message}")


class SpotifyRateLimited(DependencyUnavailableError):
    def __init__(self, retry_after_s: int) -> None:
        super().__init__(DEPENDENCY, f"rate limited by Spotify for {retry_after_s} s")
        self.retry_after_s = retry_after_s


@dataclass
class LinkedTokens:
    access_token: str
    refresh_token: str
    expires_at: float


TokenSaver = Callable[[TokenInfo], Awaitable[None]]


class SpotifyGateway:
    def __init__(self, api_url: str, authorizer: SpotifyAuthorizer, timeout_s: float, max_wait_s: float) -> None:
        self.api_url = api_url.rstrip("/") + "/"
        self.authorizer = authorizer
        self.timeout_s = timeout_s
        self.max_wait_s = max_wait_s

    def _client(self, access_token: str) -> spotipy.Spotify:
        # status_forcelist: statuses urllib3 would retry and then report as "429 Max Retries", hiding the
        # real status and Retry-After. An empty list means spotipy's defaults (429 and 5xx included), so
        # it names a status no server sends.
        client = spotipy.Spotify(auth=access_token, requests_timeout=self.timeout_s, retries=0, status_retries=0,
                                 backoff_factor=0, status_forcelist=(599,))
        client.prefix = self.api_url  # not a constructor argument in spotipy 2.26
        return client

    async def _refresh(self, tokens: LinkedTokens, save: TokenSaver) -> None:
        fresh = await self.authorizer.refresh(tokens.refresh_token)
        if fresh is None:
            raise SpotifyRelinkNeeded("Spotify no longer accepts this link")
        tokens.access_token, tokens.expires_at = fresh.access_token, fresh.expires_at
        tokens.refresh_token = fresh.refresh_token or tokens.refresh_token
        await save(TokenInfo(tokens.access_token, tokens.refresh_token, tokens.expires_at, fresh.scope))

    async def call(self, tokens: LinkedTokens, save: TokenSaver, operation: Callable[[spotipy.Spotify], T]) -> T:
        if tokens.expires_at - REFRESH_MARGIN_S < time.time():
            await self._refresh(tokens, save)
        refreshed = waited = False
        while True:
            try:
                return await asyncio.to_thread(operation, self._client(tokens.access_token))
            except SpotifyException as error:
                if error.http_status == 401 and not refreshed:
                    refreshed = True
                    await self._refresh(tokens, save)
                    continue
                if error.http_status == 401:
                    raise SpotifyRelinkNeeded("Spotify refused the refreshed token") from error
                if error.http_status == 429:
                    retry_after = _retry_after(error)
                    if not waited and retry_after <= self.max_wait_s:
                        waited = True
                        await asyncio.sleep(retry_after)
                        continue
                    raise SpotifyRateLimited(max(1, retry_after)) from error
                if error.http_status == 403:
                    raise SpotifyForbidden(_message(error)) from error
                if error.http_status >= 500 or error.http_status < 0:
                    raise DependencyUnavailableError(DEPENDENCY, f"Spotify answered {error.http_status}") from error
                # Any other 4xx is about what we sent (e.g. a track id Spotify does not know).
                raise SpotifyRefused(error.http_status, _message(error)) from error
            except OSError as error:  # requests' connection errors and timeouts
                raise DependencyUnavailableError(DEPENDENCY, f"unreachable: {error.__class__.__name__}") from error


def _message(error: SpotifyException) -> str:
    """Spotify's own words, without the URL spotipy puts in front of them."""
    return str(error.msg).rsplit(":\n", 1)[-1].strip()


def _retry_after(error: SpotifyException) -> int:
    headers: dict[str, Any] = dict(error.headers or {})
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    try:
        return int(value) if value is not None else 1
    except ValueError:
        return 1
