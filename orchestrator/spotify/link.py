"""A user's Spotify link: start/finish the PKCE login, keep the tokens sealed on the user, unlink, and
the two things we ask Spotify for: the user's own tracks, and saving a playlist to their account."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import spotipy

from orchestrator.accounts.users import SpotifyLink, User, UserRepository
from orchestrator.core.errors import InvalidInputError
from orchestrator.spotify.gateway import LinkedTokens, SpotifyGateway, TokenSaver
from orchestrator.spotify.oauth import SpotifyAuthorizer, TokenInfo
from orchestrator.spotify.token_vault import TokenVault

ITEMS_PER_REQUEST = 100  # POST /playlists/{id}/items takes at most 100 URIs
LIBRARY_PAGE = 50  # /me/tracks and /me/top/tracks return at most 50 per page


class SpotifyNotConfiguredError(InvalidInputError):
    def __init__(self) -> None:
        super().__init__(501, "Spotify is not configured on this server (MUSEAIKA_SPOTIFY_CLIENT_ID)")


class SpotifyNotLinkedError(InvalidInputError):
    def __init__(self) -> None:
        super().__init__(409, "this account has no Spotify link: start one at GET /v1/spotify/login")


@dataclass(frozen=True)
class LibraryTrack:
    track_id: str
    title: str
    artist: str
    source: str  # "saved" | "top"


class SpotifyLinkService:
    def __init__(self, users: UserRepository, authorizer: SpotifyAuthorizer | None, gateway: SpotifyGateway | None,
                 vault: TokenVault) -> None:
        self.users = users
        self.authorizer = authorizer
        self.gateway = gateway
        self.vault = vault

    def _configured(self) -> tuple[SpotifyAuthorizer, SpotifyGateway]:
        if self.authorizer is None or self.gateway is None:
            raise SpotifyNotConfiguredError()
        return self.authorizer, self.gateway

    async def login_url(self, user: User) -> str:
        authorizer, _ = self._configured()
        return await authorizer.start(user.id)

    async def finish_login(self, state: str, code: str) -> SpotifyLink:
        authorizer, gateway = self._configured()
        user_id, info = await authorizer.finish(state, code)
        tokens = LinkedTokens(info.access_token, info.refresh_token, info.expires_at)
        profile: dict[str, Any] = await gateway.call(tokens, self._saver(user_id), lambda sp: sp.me())
        link = {"user_id": profile.get("id"), "display_name": profile.get("display_name"),
                "product": profile.get("product"), "scope": info.scope, "linked_at": datetime.now(UTC),
                **self._sealed(TokenInfo(tokens.access_token, tokens.refresh_token, tokens.expires_at, info.scope))}
        linked = await self.users.update(user_id, {"spotify": link})
        assert linked.spotify is not None  # nosec B101  # just written; an invariant for mypy
        return linked.spotify

    async def unlink(self, user: User) -> None:
        await self.users.update(user.id, {"spotify": None})

    def _sealed(self, info: TokenInfo) -> dict[str, Any]:
        return {"access_token": self.vault.seal(info.access_token),
                "refresh_token": self.vault.seal(info.refresh_token), "expires_at": info.expires_at}

    def _saver(self, user_id: str) -> TokenSaver:
        async def save(info: TokenInfo) -> None:
            await self.users.update(user_id, {f"spotify.{k}": v for k, v in self._sealed(info).items()})
        return save

    def _tokens(self, user: User) -> LinkedTokens:
        link = user.spotify
        if link is None:
            raise SpotifyNotLinkedError()
        access, refresh = self.vault.open(link.sealed_access_token), self.vault.open(link.sealed_refresh_token)
        if access is None or refresh is None:  # sealed under another key
            raise SpotifyNotLinkedError()
        return LinkedTokens(access, refresh, link.expires_at)

    def is_linked(self, user: User | None) -> bool:
        return bool(user and user.spotify and self.gateway is not None)

    async def library(self, user: User) -> list[LibraryTrack]:
        """The user's most recent saved tracks and their top tracks (one page of each)."""
        _, gateway = self._configured()
        tokens = self._tokens(user)

        def fetch(sp: spotipy.Spotify) -> list[LibraryTrack]:
            # Development-mode apps (Feb 2026) get `item` where the documentation still says `track`.
            saved = [item.get("track") or item.get("item") for item in
                     sp.current_user_saved_tracks(limit=LIBRARY_PAGE)["items"]]
            found = [LibraryTrack(**_track_fields(track), source="saved") for track in saved if track]
            found += [LibraryTrack(**_track_fields(track), source="top")
                      for track in sp.current_user_top_tracks(limit=LIBRARY_PAGE)["items"]]
            return found

        return await gateway.call(tokens, self._saver(user.id), fetch)

    async def spotify_recommendations(self, user: User, seed_track_ids: list[str], targets: dict[str, float],
                                      limit: int) -> list[str]:
        """Track ids from Spotify's own `GET /recommendations`: only apps created before 2024-11-27 still
        have it (new apps get 404), so callers treat any refusal as "not available"."""
        _, gateway = self._configured()
        tokens = self._tokens(user)
        tunables = {f"target_{name}": value for name, value in targets.items()}

        def fetch(sp: spotipy.Spotify) -> list[str]:
            answer = sp.recommendations(seed_tracks=seed_track_ids[:5], limit=limit, **tunables)
            return [str(track["id"]) for track in answer.get("tracks", [])]

        return await gateway.call(tokens, self._saver(user.id), fetch)

    async def save_playlist(self, user: User, name: str, description: str, uris: list[str]) -> tuple[str, str]:
        """Create a private playlist on the user's Spotify account (`POST /me/playlists`) and fill it in
        chunks of 100; (Spotify id, URL)."""
        _, gateway = self._configured()
        tokens, save = self._tokens(user), self._saver(user.id)
        # One gateway call per request: a repeated call (after a refresh or a short 429) repeats only
        # that request, never creates the playlist twice.
        created: dict[str, Any] = await gateway.call(tokens, save, lambda sp: sp.current_user_playlist_create(
            name, public=False, description=description[:300]))
        for start in range(0, len(uris), ITEMS_PER_REQUEST):
            chunk = uris[start:start + ITEMS_PER_REQUEST]

            def add(sp: spotipy.Spotify, chunk: list[str] = chunk) -> object:
                return sp.playlist_add_items(created["id"], chunk)

            await gateway.call(tokens, save, add)
        return str(created["id"]), str(created.get("external_urls", {}).get("spotify", ""))


def _track_fields(track: dict[str, Any]) -> dict[str, str]:
    artists = track.get("artists") or [{}]
    return {"track_id": str(track["id"]), "title": str(track.get("name", "")),
            "artist": str(artists[0].get("name", ""))}
