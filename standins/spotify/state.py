"""The stand-in's state: the catalogue and accounts it was configured with, and what requests change (codes,
tokens, playlists, faults, the allow-list, the authorize decision, the request log). It lives in memory only."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Literal

from standins.spotify.catalog import CatalogTrack, Library, SeedUser, build_library, load_tracks
from standins.spotify.config import SpotifyStandinConfig
from standins.spotify.errors import NOT_ALLOW_LISTED, ApiError
from standins.spotify.shapes import JSON

Decision = Literal["approve", "deny", "ask"]  # how /authorize answers when the request does not say


@dataclass
class AuthCode:
    client_id: str
    redirect_uri: str
    user_id: str
    scopes: frozenset[str]
    code_challenge: str | None
    expires_at: float


@dataclass
class AccessToken:
    user_id: str | None  # None: a client-credentials (app) token
    client_id: str
    scopes: frozenset[str]
    expires_at: float


@dataclass
class RefreshToken:
    user_id: str
    client_id: str
    scopes: frozenset[str]
    public_client: bool  # issued through PKCE (no secret needed to refresh)


@dataclass
class PlaylistEntry:
    added_at: str
    added_by: str
    track: CatalogTrack


@dataclass
class Playlist:
    id: str
    owner_id: str
    name: str
    description: str | None
    public: bool
    collaborative: bool
    snapshot_id: str
    created_at: str
    entries: list[PlaylistEntry] = field(default_factory=list)


@dataclass
class Faults:
    rate_limited_calls: int = 0
    retry_after_s: int = 1
    outage: bool = False


class StandinState:
    def __init__(self, config: SpotifyStandinConfig) -> None:
        self.config = config
        tracks = load_tracks(config.tracks_csv)
        self.catalog: dict[str, CatalogTrack] = {track.id: track for track in tracks}
        self.order = [track.id for track in tracks]
        self.users: dict[str, SeedUser] = {user.id: user for user in config.users}
        self.libraries: dict[str, Library] = {user.id: build_library(user, self.catalog, self.order)
                                              for user in config.users}
        if config.auto_approve_user is not None and config.auto_approve_user not in self.users:
            raise ValueError(f"auto_approve_user {config.auto_approve_user!r} is not a configured user")
        self.reset()

    def reset(self) -> None:
        """Back to the configured state (what /_control/reset promises)."""
        self.codes: dict[str, AuthCode] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.playlists: dict[str, Playlist] = {}
        self.faults = Faults()
        self.allow_list: set[str] | None = (set(self.config.allowed_users)
                                            if self.config.allowed_users is not None else None)
        self.decision: Decision = "approve" if self.config.auto_approve_user else "ask"
        self.decision_user: str | None = self.config.auto_approve_user
        self.request_log: list[JSON] = []

    def tracks(self) -> list[CatalogTrack]:
        """The catalogue in its file's order (search and recommendations rank from it)."""
        return [self.catalog[track_id] for track_id in self.order]

    # --- tokens -----------------------------------------------------------------------------------

    def issue(self, user_id: str | None, client_id: str, scopes: frozenset[str], public_client: bool,
              with_refresh: bool = True) -> JSON:
        """A new access token (and refresh token) as /api/token's answer body."""
        access = "BQ" + secrets.token_urlsafe(60)
        self.access_tokens[access] = AccessToken(user_id, client_id, scopes,
                                                 time.monotonic() + self.config.token_ttl_s)
        body: JSON = {"access_token": access, "token_type": "Bearer", "expires_in": int(self.config.token_ttl_s),
                      "scope": " ".join(sorted(scopes))}  # nosec B105  # "Bearer": a token type's name
        if with_refresh and user_id is not None:
            refresh = "AQ" + secrets.token_urlsafe(90)
            self.refresh_tokens[refresh] = RefreshToken(user_id, client_id, scopes, public_client)
            body["refresh_token"] = refresh
        return body

    def authenticate(self, authorization: str | None, *, user: bool = True) -> AccessToken:
        """The token an Authorization header carries, checked as the Web API does (401 missing/invalid/expired,
        403 when the account is not on a Development Mode app's allow-list); user: app tokens answer 401."""
        if not authorization:
            raise ApiError(401, "No token provided")
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise ApiError(400, "Only valid bearer authentication supported")
        token = self.access_tokens.get(value.strip())
        if token is None:
            raise ApiError(401, "Invalid access token", headers=_www_authenticate("Invalid access token"))
        if token.expires_at <= time.monotonic():
            raise ApiError(401, "The access token expired", headers=_www_authenticate("The access token expired"))
        if token.user_id is not None and self.allow_list is not None and token.user_id not in self.allow_list:
            raise ApiError(403, None, text=NOT_ALLOW_LISTED)
        if user and token.user_id is None:
            raise ApiError(401, "Valid user authentication required")
        return token

    def require_scope(self, token: AccessToken, *scopes: str) -> None:
        """At least one of scopes must have been granted."""
        if self.config.enforce_scopes and not token.scopes.intersection(scopes):
            raise ApiError(403, "Insufficient client scope")

    def user_of(self, token: AccessToken) -> SeedUser:
        assert token.user_id is not None
        return self.users[token.user_id]

    def playlist_for(self, playlist_id: str, token: AccessToken) -> Playlist:
        """The playlist, if the token may see it; others' private playlists answer 404, as if absent."""
        playlist = self.playlists.get(playlist_id)
        if playlist is None or (not playlist.public and playlist.owner_id != token.user_id
                                and not playlist.collaborative):
            raise ApiError(404, "Resource not found")
        return playlist


def _www_authenticate(description: str) -> dict[str, str]:
    return {"WWW-Authenticate": f'Bearer realm="spotify", error="invalid_token", error_description="{description}"'}
