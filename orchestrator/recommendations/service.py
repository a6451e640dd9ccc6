"""Tracks for a mood, from the track catalog and the linked user's own tracks, shaped by their feedback.

Spotify's /recommendations and /audio-features are closed to new apps, so features come from our
catalog (MongoDB, imported from a CSV with `python -m orchestrator.catalog.import_csv`), and the track-mood
model learned from people's labels places each track (`catalog.track_moods`). A linked user's saved and top
tracks that the catalog knows are ranked too, and up to half of a list may come from them when they fit the
mood nearly as well as (within `LIBRARY_MARGIN` of) the catalog's best: people like hearing their own music,
but never at the cost of the mood. A signed-in user's 👍/👎 (`feedback`) move tracks like the ones they liked
up and tracks like the ones they disliked down; a disliked track is not offered again. With
MUSEAIKA_SPOTIFY_USE_RECOMMENDATIONS_ENDPOINT (only for apps that still have Spotify's `/recommendations`),
its suggestions that the catalog knows join the same pool. When Spotify fails, the catalog still answers and
`sources` says what is missing and why.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from orchestrator.accounts.users import User
from orchestrator.catalog.features import FEATURES
from orchestrator.catalog.ranking import MoodPoint, RankedTrack, rank
from orchestrator.catalog.store import FeatureMatrix, TrackCatalog, parse_track_id
from orchestrator.catalog.taste import Feedback
from orchestrator.core.errors import DependencyUnavailableError, InvalidInputError, NotFoundError
from orchestrator.moods.resolver import MoodResolver
from orchestrator.moods.schemas import MoodSpec
from orchestrator.playlists.service import MAX_PER_ARTIST, mood_summary
from orchestrator.recommendations.feedback import FeedbackRepository, TrackFeedback, Verdict
from orchestrator.spotify.link import SpotifyLinkService

LIBRARY_MARGIN = 0.05  # a user's own track may stand in for a catalog track fitting this much less
# Spotify's /recommendations takes target features; ours are the typical features of the best catalog picks.
SPOTIFY_TUNABLES = ("valence", "energy", "danceability", "tempo", "acousticness")


@dataclass(frozen=True)
class Recommendations:
    mood: dict[str, Any]  # label, valence, arousal
    targets: dict[str, float]  # the mood point tracks are ranked for
    tracks: list[RankedTrack]  # best first, each with why it fits
    library_ids: frozenset[str]  # the user's own tracks among everything ranked (`in_library`)
    sources: dict[str, Any]  # what was ranked: the catalog, the user's library (or why not), feedback


class RecommendationService:
    def __init__(self, catalog: TrackCatalog, moods: MoodResolver, spotify: SpotifyLinkService,
                 feedback: FeedbackRepository, use_recommendations_endpoint: bool = False) -> None:
        self.catalog = catalog
        self.moods = moods
        self.spotify = spotify
        self.feedback = feedback
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
        point = MoodPoint(mood.valence, mood.arousal, mood.label)
        matrix = await self.catalog.non_empty_matrix()
        feedback, feedback_source = await self._feedback(user, matrix)
        catalog_picks = rank(matrix, point, limit=limit, max_per_artist=MAX_PER_ARTIST, feedback=feedback)
        library_ids, library_source = await self._library_ids(user, include_library)
        suggested, suggested_source = await self._spotify_recommended(
            user, library_ids, typical_features(matrix, catalog_picks), limit)
        known = [i for i in library_ids | suggested if i in matrix.index]
        if library_source.get("used"):
            library_source["with_features"] = len([i for i in library_ids if i in matrix.index])
        own_picks = rank(matrix, point, limit=limit, max_per_artist=MAX_PER_ARTIST, candidate_ids=known,
                         feedback=feedback) if known else []
        tracks = _merge(catalog_picks, own_picks, limit)
        return Recommendations(
            mood=mood_summary(mood), targets={"valence": round(mood.valence, 4), "arousal": round(mood.arousal, 4)},
            tracks=tracks, library_ids=frozenset(library_ids),
            sources={"catalog": {"tracks": len(matrix.ids), "model": matrix.model.version},
                     "library": library_source, "spotify_recommendations": suggested_source,
                     "feedback": feedback_source})

    async def _feedback(self, user: User | None, matrix: FeatureMatrix) -> tuple[Feedback | None, dict[str, Any]]:
        if user is None:
            return None, {"used": False, "reason": "not signed in"}
        verdicts = await self.feedback.of(user.id)
        liked = matrix.positions(f.track_id for f in verdicts if f.verdict is Verdict.LIKE)
        disliked = matrix.positions(f.track_id for f in verdicts if f.verdict is Verdict.DISLIKE)
        source = {"used": bool(liked.size or disliked.size), "liked": int(liked.size), "disliked": int(disliked.size)}
        return Feedback(liked, disliked), source

    async def give_feedback(self, user: User, track_id: str, verdict: Verdict) -> tuple[TrackFeedback, bool]:
        """Remember a 👍/👎 on a catalog track (a second one on the same track replaces the first)."""
        bare = _bare_track_id(track_id)
        if bare not in (await self.catalog.non_empty_matrix()).index:
            raise NotFoundError(f"track {track_id!r} in the catalog")
        return await self.feedback.record(user.id, bare, verdict)

    async def feedback_of(self, user: User) -> list[TrackFeedback]:
        return await self.feedback.of(user.id)

    async def forget_feedback(self, user: User, track_id: str) -> None:
        bare = _bare_track_id(track_id)
        if not await self.feedback.forget(user.id, bare):
            raise NotFoundError(f"feedback on track {track_id!r}")


def _not_used(error: DependencyUnavailableError | InvalidInputError) -> dict[str, Any]:
    """A Spotify source that failed, as `sources` reports it: the catalog answers without it."""
    return {"used": False, "reason": error.reason if isinstance(error, InvalidInputError) else str(error)}


def _bare_track_id(track_id: str) -> str:
    try:
        return parse_track_id(track_id)
    except ValueError as error:
        raise InvalidInputError(422, str(error)) from error


def typical_features(matrix: FeatureMatrix, picks: list[RankedTrack]) -> dict[str, float]:
    """The median of each Spotify tunable over the ranked picks (what Spotify's targets are asked for)."""
    rows = matrix.positions(t.track_id for t in picks)
    if not rows.size:
        return {}
    values = matrix.raw[rows][:, [FEATURES.index(name) for name in SPOTIFY_TUNABLES]]
    typical = {}
    for name, column in zip(SPOTIFY_TUNABLES, values.T, strict=True):
        known = column[~np.isnan(column)]
        if known.size:
            typical[name] = round(float(np.median(known)), 4)
    return typical


def _merge(catalog: list[RankedTrack], own: list[RankedTrack], limit: int) -> list[RankedTrack]:
    """Best first; the user's fitting tracks fill up to half the list; no artist more than twice."""
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
