"""Tracks for a mood, and mood journeys, from the track catalog and the linked user's own tracks.

Spotify's /recommendations and /audio-features are closed to new apps, so features come from our
catalog (MongoDB, imported from a CSV with `python -m orchestrator.catalog.import_csv`). A linked
user's saved and top tracks that the catalog knows are ranked too, and up to half of a list may come
from them when they fit the mood as well as (within `LIBRARY_MARGIN` of) the catalog's best: people like
hearing their own music, but never at the cost of the mood. With MUSEAIKA_SPOTIFY_USE_RECOMMENDATIONS_ENDPOINT
(only for apps that still have Spotify's `/recommendations`), its suggestions that the catalog knows join
the same pool. When Spotify fails, the catalog still answers and `sources` says what is missing and why.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from orchestrator.catalog.features import audio_targets
from orchestrator.catalog.journey import JOURNEY_PRESETS, journey, max_step_change
from orchestrator.catalog.ranking import RankedTrack, rank
from orchestrator.catalog.store import FeatureMatrix, TrackCatalog
from orchestrator.core.errors import DependencyUnavailableError, InvalidInputError
from orchestrator.moods.resolver import MoodResolver, ResolvedMood
from orchestrator.moods.schemas import MoodSpec
from orchestrator.playlists.repository import PlaylistRepository
from orchestrator.playlists.schemas import JourneyRequest
from orchestrator.spotify.link import SpotifyLinkService
from orchestrator.storage.owned import Document

MAX_PER_ARTIST = 2
LIBRARY_MARGIN = 0.05  # a user's own track may stand in for a catalog track this much further from the targets
User = dict[str, Any]


def _mood_dict(mood: ResolvedMood) -> dict[str, Any]:
    return {"label": mood.label, "valence": round(mood.valence, 4), "arousal": round(mood.arousal, 4)}


class RecommendationService:
    def __init__(self, catalog: TrackCatalog, moods: MoodResolver, spotify: SpotifyLinkService,
                 playlists: PlaylistRepository, use_recommendations_endpoint: bool = False) -> None:
        self.catalog = catalog
        self.moods = moods
        self.spotify = spotify
        self.playlists = playlists
        self.use_recommendations_endpoint = use_recommendations_endpoint

    async def _matrix(self) -> FeatureMatrix:
        matrix = await self.catalog.matrix()
        if len(matrix.ids) == 0:
            raise DependencyUnavailableError("track catalog", "it is empty: import one with "
                                             "python -m orchestrator.catalog.import_csv")
        return matrix

    async def _library_ids(self, user: User | None, wanted: bool) -> tuple[set[str], dict[str, Any]]:
        if not wanted:
            return set(), {"used": False, "reason": "not requested"}
        if not self.spotify.is_linked(user):
            return set(), {"used": False, "reason": "Spotify is not linked"}
        assert user is not None  # nosec B101  # invariant for mypy, not an input check
        try:
            library = await self.spotify.library(user)
        except (DependencyUnavailableError, InvalidInputError) as error:  # the catalog still answers
            return set(), _not_used(error)
        ids = {track.track_id for track in library}
        return ids, {"used": True, "tracks": len(ids)}

    async def _spotify_recommended(self, user: User | None, seeds: set[str],
                                   targets: dict[str, float], limit: int) -> tuple[set[str], dict[str, Any]]:
        """Spotify's own suggestions, when the setting asks for them and the app still has the endpoint."""
        if not self.use_recommendations_endpoint or user is None or not seeds:
            return set(), {"used": False, "reason": "not enabled" if not self.use_recommendations_endpoint
                           else "needs a linked account with saved or top tracks"}
        try:
            found = await self.spotify.spotify_recommendations(user, sorted(seeds), targets, limit)
        except (DependencyUnavailableError, InvalidInputError) as error:  # closed to new apps: 404 → 422
            return set(), _not_used(error)
        return set(found), {"used": True, "tracks": len(found)}

    async def recommend(self, user: User | None, spec: MoodSpec, limit: int, include_library: bool) -> dict[str, Any]:
        mood = await self.moods.resolve(spec, str(user["_id"]) if user else None)
        targets = audio_targets(mood.valence, mood.arousal)
        matrix = await self._matrix()
        library_ids, library_source = await self._library_ids(user, include_library)
        suggested, suggested_source = await self._spotify_recommended(
            user, library_ids, {k: v for k, v in targets.as_dict().items() if k != "mode"}, limit)
        known = [i for i in library_ids | suggested if i in matrix.index]
        if library_source.get("used"):
            library_source["with_features"] = len([i for i in library_ids if i in matrix.index])
        catalog_picks = rank(targets, matrix, limit=limit, max_per_artist=MAX_PER_ARTIST)
        own_picks = rank(targets, matrix, limit=limit, max_per_artist=MAX_PER_ARTIST,
                         candidate_ids=known) if known else []
        tracks = _merge(catalog_picks, own_picks, limit)
        return {
            "mood": _mood_dict(mood), "targets": targets.as_dict(),
            "tracks": [{**t.as_dict(), "in_library": t.track_id in library_ids} for t in tracks],
            "sources": {"catalog": {"tracks": len(matrix.ids)}, "library": library_source,
                        "spotify_recommendations": suggested_source},
        }

    async def create_journey(self, user: User, request: JourneyRequest) -> Document:
        owner = str(user["_id"])
        start = await self.moods.resolve(request.start, owner)
        if request.preset is not None:
            preset = request.preset  # exactly as the schema lists them
            if preset not in JOURNEY_PRESETS:
                raise InvalidInputError(422, f"unknown preset {request.preset!r}; known: {sorted(JOURNEY_PRESETS)}")
            end = ResolvedMood(preset, *JOURNEY_PRESETS[preset])
        else:
            assert request.to is not None  # nosec B101  # invariant for mypy, not an input check
            end = await self.moods.resolve(request.to, owner)
        try:
            steps = journey((start.valence, start.arousal), (end.valence, end.arousal), request.length,
                            await self._matrix(), MAX_PER_ARTIST)
        except ValueError as error:
            # The length is checked with the request (5 to 100): what remains is a catalog too small for it,
            # a fact of this server's data rather than a fault of the request.
            raise InvalidInputError(409, str(error)) from error
        details = await self.catalog.get_many([s.track.track_id for s in steps])
        now = datetime.now(UTC)
        name = request.name or f"From {start.label or 'here'} to {end.label or 'there'}"
        document: Document = {
            "owner_id": owner, "name": name, "kind": "journey",
            "description": f"{len(steps)} tracks, step by step from {start.label or _position(start)} "
                           f"to {end.label or _position(end)}",
            "mood": {"label": end.label or "journey", "valence": end.valence, "arousal": end.arousal},
            "tracks": [{"title": s.track.name, "artist": s.track.artist, "uri": f"spotify:track:{s.track.track_id}",
                        "duration_ms": getattr(details.get(s.track.track_id), "duration_ms", None)} for s in steps],
            "journey": {"from": _mood_dict(start), "to": _mood_dict(end),
                        "steps": [{"index": s.index, "mood": {"valence": s.valence, "arousal": s.arousal},
                                   "track_id": s.track.track_id, "distance": s.track.distance,
                                   "step_distance": s.step_distance} for s in steps],
                        "max_step_change": max_step_change(steps)},
            "spotify_id": None, "spotify_url": None, "created_at": now, "updated_at": now,
        }
        document = await self.playlists.insert(document)
        if request.save_to_spotify:
            document = await self.push_to_spotify(user, str(document["_id"]))
        return document

    async def push_to_spotify(self, user: User, playlist_id: str) -> Document:
        """Create the stored playlist on the user's Spotify account; its Spotify id and URL are kept."""
        owner = str(user["_id"])
        playlist = await self.playlists.get(owner, playlist_id)
        uris = [t["uri"] for t in playlist.get("tracks", []) if str(t.get("uri") or "").startswith("spotify:track:")]
        if not uris:
            # The stored playlist's state, not the request, is what is wrong: a conflict.
            raise InvalidInputError(409, "the playlist has no Spotify tracks (uri spotify:track:…) to save")
        try:
            spotify_id, url = await self.spotify.save_playlist(user, playlist["name"],
                                                               playlist.get("description") or "", uris)
        except DependencyUnavailableError as error:
            error.reason = f"{error.reason}; the playlist is kept here: POST /v1/playlists/{playlist_id}/spotify later"
            raise
        return await self.playlists.update(owner, playlist_id, {"spotify_id": spotify_id, "spotify_url": url,
                                                                "updated_at": datetime.now(UTC)})


def _not_used(error: DependencyUnavailableError | InvalidInputError) -> dict[str, Any]:
    """A Spotify source that failed, as `sources` reports it: the catalog answers without it."""
    return {"used": False, "reason": error.reason if isinstance(error, InvalidInputError) else str(error)}


def _position(mood: ResolvedMood) -> str:
    return f"valence {mood.valence:+.2f}, arousal {mood.arousal:+.2f}"


def _merge(catalog: list[RankedTrack], own: list[RankedTrack], limit: int) -> list[RankedTrack]:
    """Nearest first; the user's fitting tracks fill up to half the list; no artist more than twice."""
    best = catalog[0].distance if catalog else 1.0
    own_fitting = [t for t in own if t.distance <= best + LIBRARY_MARGIN][: limit // 2]
    chosen: list[RankedTrack] = []
    seen: set[str] = set()
    per_artist: Counter[str] = Counter()
    for track in sorted([*own_fitting, *catalog], key=lambda t: t.distance):
        if track.track_id in seen or per_artist[track.artist] >= MAX_PER_ARTIST:
            continue
        chosen.append(track)
        seen.add(track.track_id)
        per_artist[track.artist] += 1
        if len(chosen) == limit:
            break
    return chosen
