"""Tracks for a mood, from the track catalog and the linked user's own tracks.

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
from dataclasses import dataclass
from typing import Any

from orchestrator.accounts.users import User
from orchestrator.catalog.features import audio_targets
from orchestrator.catalog.ranking import RankedTrack, rank
from orchestrator.catalog.store import TrackCatalog
from orchestrator.core.errors import DependencyUnavailableError, InvalidInputError
from orchestrator.moods.resolver import MoodResolver
from orchestrator.moods.schemas import MoodSpec
from orchestrator.playlists.service import MAX_PER_ARTIST, mood_summary
from orchestrator.spotify.link import SpotifyLinkService

LIBRARY_MARGIN = 0.05  # a user's own track may stand in for a catalog track this much further from the targets


@dataclass(frozen=True)
class Recommendations:
    mood: dict[str, Any]  # label, valence, arousal
    targets: dict[str, float]
    tracks: list[dict[str, Any]]  # each ranked track with why it fits and whether it is the user's own
    sources: dict[str, Any]  # what was ranked: the catalog, the user's library (or why not)


class RecommendationService:
    def __init__(self, catalog: TrackCatalog, moods: MoodResolver, spotify: SpotifyLinkService,
                 use_recommendations_endpoint: bool = False) -> None:
        self.catalog = catalog
        self.moods = moods
        self.spotify = spotify
        self.use_recommendations_endpoint = use_recommendations_endpoint

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

    async def recommend(self, user: User | None, spec: MoodSpec, limit: int, include_library: bool
                        ) -> Recommendations:
        mood = await self.moods.resolve(spec, user.id if user else None)
        targets = audio_targets(mood.valence, mood.arousal)
        matrix = await self.catalog.non_empty_matrix()
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
        return Recommendations(
            mood=mood_summary(mood), targets=targets.as_dict(),
            tracks=[{**t.as_dict(), "in_library": t.track_id in library_ids} for t in tracks],
            sources={"catalog": {"tracks": len(matrix.ids)}, "library": library_source,
                     "spotify_recommendations": suggested_source})


def _not_used(error: DependencyUnavailableError | InvalidInputError) -> dict[str, Any]:
    """A Spotify source that failed, as `sources` reports it: the catalog answers without it."""
    return {"used": False, "reason": error.reason if isinstance(error, InvalidInputError) else str(error)}


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
