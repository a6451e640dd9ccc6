"""A user's playlists: saved by hand, or built as a mood journey from the catalog; and saved to Spotify."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from orchestrator.accounts.users import User
from orchestrator.catalog.journey import JOURNEY_PRESETS, journey, max_step_change
from orchestrator.catalog.store import TrackCatalog
from orchestrator.core.errors import DependencyUnavailableError, InvalidInputError
from orchestrator.moods.resolver import MoodResolver, ResolvedMood
from orchestrator.playlists.repository import SPOTIFY_TRACK_PREFIX, Playlist, PlaylistRepository
from orchestrator.playlists.schemas import JourneyRequest, PlaylistIn, PlaylistPatch
from orchestrator.spotify.link import SpotifyLinkService

MAX_PER_ARTIST = 2  # in a journey, as in recommendations


def mood_summary(mood: ResolvedMood) -> dict[str, Any]:
    return {"label": mood.label, "valence": round(mood.valence, 4), "arousal": round(mood.arousal, 4)}


class PlaylistService:
    def __init__(self, playlists: PlaylistRepository, catalog: TrackCatalog, moods: MoodResolver,
                 spotify: SpotifyLinkService) -> None:
        self.playlists = playlists
        self.catalog = catalog
        self.moods = moods
        self.spotify = spotify

    async def page(self, user: User, limit: int, cursor: str | None) -> tuple[list[Playlist], str | None]:
        return await self.playlists.page(user.id, limit, cursor)

    async def get(self, user: User, playlist_id: str) -> Playlist:
        return await self.playlists.get(user.id, playlist_id)

    async def create(self, user: User, playlist: PlaylistIn) -> Playlist:
        now = datetime.now(UTC)
        return await self.playlists.insert({**playlist.model_dump(), "owner_id": user.id, "created_at": now,
                                            "updated_at": now})

    async def update(self, user: User, playlist_id: str, patch: PlaylistPatch) -> Playlist:
        """Only the fields the request gave change."""
        changes = {**patch.model_dump(exclude_unset=True), "updated_at": datetime.now(UTC)}
        return await self.playlists.update(user.id, playlist_id, changes)

    async def delete(self, user: User, playlist_id: str) -> None:
        await self.playlists.delete(user.id, playlist_id)

    async def create_journey(self, user: User, request: JourneyRequest) -> Playlist:
        start = await self.moods.resolve(request.start, user.id)
        if request.preset is not None:
            preset = request.preset  # exactly as the schema lists them
            if preset not in JOURNEY_PRESETS:
                raise InvalidInputError(422, f"unknown preset {request.preset!r}; known: {sorted(JOURNEY_PRESETS)}")
            end = ResolvedMood(preset, *JOURNEY_PRESETS[preset])
        else:
            assert request.to is not None  # nosec B101  # invariant for mypy, not an input check
            end = await self.moods.resolve(request.to, user.id)
        try:
            steps = journey((start.valence, start.arousal), (end.valence, end.arousal), request.length,
                            await self.catalog.non_empty_matrix(), MAX_PER_ARTIST)
        except ValueError as error:
            # The length is checked with the request (5 to 100): what remains is a catalog too small for it,
            # a fact of this server's data rather than a fault of the request.
            raise InvalidInputError(409, str(error)) from error
        details = await self.catalog.get_many([s.track.track_id for s in steps])
        now = datetime.now(UTC)
        name = request.name or f"From {start.label or 'here'} to {end.label or 'there'}"
        playlist = await self.playlists.insert({
            "owner_id": user.id, "name": name, "kind": "journey",
            "description": f"{len(steps)} tracks, step by step from {start.label or _position(start)} "
                           f"to {end.label or _position(end)}",
            "mood": {"label": end.label or "journey", "valence": end.valence, "arousal": end.arousal},
            "tracks": [{"title": s.track.name, "artist": s.track.artist,
                        "uri": f"{SPOTIFY_TRACK_PREFIX}{s.track.track_id}",
                        "duration_ms": getattr(details.get(s.track.track_id), "duration_ms", None)} for s in steps],
            "journey": {"from": mood_summary(start), "to": mood_summary(end),
                        "steps": [{"index": s.index, "mood": {"valence": s.valence, "arousal": s.arousal},
                                   "track_id": s.track.track_id, "distance": s.track.distance,
                                   "step_distance": s.step_distance} for s in steps],
                        "max_step_change": max_step_change(steps)},
            "spotify_id": None, "spotify_url": None, "created_at": now, "updated_at": now,
        })
        if request.save_to_spotify:
            playlist = await self.push_to_spotify(user, playlist.id)
        return playlist

    async def push_to_spotify(self, user: User, playlist_id: str) -> Playlist:
        """Create the stored playlist on the user's Spotify account; its Spotify id and URL are kept."""
        playlist = await self.playlists.get(user.id, playlist_id)
        uris = [str(t.uri) for t in playlist.tracks if t.on_spotify]
        if not uris:
            # The stored playlist's state, not the request, is what is wrong: a conflict.
            raise InvalidInputError(409, "the playlist has no Spotify tracks (uri spotify:track:…) to save")
        try:
            spotify_id, url = await self.spotify.save_playlist(user, playlist.name, playlist.description or "", uris)
        except DependencyUnavailableError as error:
            error.reason = f"{error.reason}; the playlist is kept here: POST /v1/playlists/{playlist_id}/spotify later"
            raise
        return await self.playlists.update(user.id, playlist_id, {"spotify_id": spotify_id, "spotify_url": url,
                                                                  "updated_at": datetime.now(UTC)})


def _position(mood: ResolvedMood) -> str:
    return f"valence {mood.valence:+.2f}, arousal {mood.arousal:+.2f}"
