"""Rank catalog tracks by their weighted distance to a mood's audio targets, with an explanation per track.

The distance is `features.weighted_distance` (normalised features, `FEATURE_WEIGHTS`, in [0, 1]), computed
for the whole matrix at once; only the nearest few are sorted (argpartition), ties go to the more popular
track. Diversity: walking down that order, a track whose artist already has `max_per_artist` tracks in the
list is passed over (the candidate window widens until the list is full or the catalog is exhausted).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from orchestrator.catalog.features import (
    FEATURE_WEIGHTS,
    FEATURES,
    WEIGHT_TOTAL,
    WEIGHTS,
    AudioTargets,
    squared_differences,
)
from orchestrator.catalog.store import FeatureMatrix

_WINDOW_FACTOR = 4  # first candidate window: limit × max(4, …) nearest tracks


@dataclass(frozen=True)
class FeatureMatch:
    target: float
    actual: float | None  # None: the track lacks it (tempo 0 = no beat)
    difference: float | None  # actual − target, natural units (bpm for tempo)
    weight: float  # `FEATURE_WEIGHTS`
    share: float  # this feature's part of the squared weighted distance (the shares sum to 1)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RankedTrack:
    track_id: str
    artist: str
    name: str
    popularity: int | None
    distance: float  # weighted distance to the targets, 0 (exact) … 1
    why: dict[str, FeatureMatch]  # per feature, in `FEATURES` order

    def as_dict(self) -> dict[str, Any]:
        """The JSON form an API returns."""
        return {
            "track_id": self.track_id,
            "uri": f"spotify:track:{self.track_id}",
            "artist": self.artist,
            "name": self.name,
            "popularity": self.popularity,
            "distance": self.distance,
            "why": {name: match.as_dict() for name, match in self.why.items()},
        }


def explain(targets: AudioTargets, matrix: FeatureMatrix, row: int, target_vector: np.ndarray | None = None,
            ) -> RankedTrack:
    """Matrix row `row` as a `RankedTrack`: its distance to `targets` and each feature's part in it."""
    target = targets.vector() if target_vector is None else target_vector
    squared = squared_differences(matrix.normalised[row:row + 1], target)[0] * WEIGHTS
    total = float(squared.sum())
    why: dict[str, FeatureMatch] = {}
    for i, name in enumerate(FEATURES):
        wanted = float(getattr(targets, name))
        actual: float | None = float(matrix.raw[row, i])
        if np.isnan(matrix.normalised[row, i]):
            actual = None
        difference = None if actual is None else _round(actual - wanted, name)
        share = float(squared[i]) / total if total > 0 else 0.0
        why[name] = FeatureMatch(_round(wanted, name), None if actual is None else _round(actual, name), difference,
                                 FEATURE_WEIGHTS[name], round(share, 4))
    popularity = int(matrix.popularity[row])
    return RankedTrack(matrix.ids[row], matrix.artists[row], matrix.names[row], None if popularity < 0 else popularity,
                       round(float(np.sqrt(total / WEIGHT_TOTAL)), 4), why)


def rank(targets: AudioTargets, matrix: FeatureMatrix, limit: int = 20, max_per_artist: int = 2,
         exclude_ids: Iterable[str] = (), candidate_ids: Collection[str] | None = None) -> list[RankedTrack]:
    """The `limit` tracks nearest to `targets`, no artist more than `max_per_artist` times, nearest first.

    exclude_ids: never returned (e.g. already played). candidate_ids: rank only these (e.g. a user's saved
    tracks); ids not in the catalog are ignored. Ids may be bare or `spotify:track:` ids.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    if max_per_artist < 1:
        raise ValueError("max_per_artist must be at least 1")
    if candidate_ids is None:
        rows: np.ndarray | None = None
        normalised = matrix.normalised
    else:
        rows = matrix.positions(candidate_ids)
        normalised = matrix.normalised[rows]
    target = targets.vector()
    squared = squared_differences(normalised, target) @ WEIGHTS  # weighted squared distance × WEIGHT_TOTAL
    excluded = matrix.positions(exclude_ids)
    if excluded.size:
        if rows is None:
            squared[excluded] = np.inf
        else:
            squared[np.isin(rows, excluded)] = np.inf
    order = _nearest_diverse(squared, matrix, rows, limit, max_per_artist)
    return [explain(targets, matrix, row, target) for row in order]


def _nearest_diverse(squared: np.ndarray, matrix: FeatureMatrix, rows: np.ndarray | None, limit: int,
                     max_per_artist: int) -> list[int]:
    """Matrix rows, nearest first, at most `max_per_artist` per artist (rows: the candidates' matrix rows,
    or None when `squared` covers the whole matrix)."""
    eligible = int(np.isfinite(squared).sum())
    window = min(eligible, limit * max(_WINDOW_FACTOR, 2 * max_per_artist))
    while True:
        if window == 0:
            return []
        nearest = np.argpartition(squared, window - 1)[:window] if window < squared.size else np.arange(squared.size)
        nearest = nearest[np.isfinite(squared[nearest])]
        matrix_rows = nearest if rows is None else rows[nearest]
        # nearest first; equal distances: the more popular first
        ordered = matrix_rows[np.lexsort((-matrix.popularity[matrix_rows], squared[nearest]))]
        chosen: list[int] = []
        per_artist: dict[int, int] = {}
        for row in ordered.tolist():
            artist = int(matrix.artist_codes[row])
            if per_artist.get(artist, 0) >= max_per_artist:
                continue
            per_artist[artist] = per_artist.get(artist, 0) + 1
            chosen.append(row)
            if len(chosen) == limit:
                return chosen
        if window >= eligible:
            return chosen
        window = min(eligible, window * 4)


def _round(value: float, feature: str) -> float:
    return round(value, 1 if feature == "tempo" else 4)
