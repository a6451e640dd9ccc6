"""Mood journeys: a playlist that starts where the listener is and moves, step by step, to where they want
to be — the iso principle of music therapy (Altshuler, 1948: meet the patient's mood first, then change it
gradually; Heiderscheit & Madson, "Use of the iso principle as a central method in mood management",
Music Therapy Perspectives 33(1), 2015).

1. Step moods: N points evenly spaced on the straight line from `start` to `end` (valence, arousal); the
   first is exactly the start mood, the last exactly the end mood. Each becomes its `AudioTargets`
   (`features.audio_targets`, the one mapping), so the targets move monotonically feature by feature.
2. Choice: step by step, the catalog track nearest to that step's targets (`features.weighted_distance`)
   that is not already in the journey and whose artist has fewer than `max_per_artist` tracks in it.
3. Order: the chosen tracks are sorted by their position along the journey's direction (the projection of
   their normalised, weighted features onto end target − start target) and matched to the steps in that
   order. The progress along the journey then never goes backwards, and since the step targets are evenly
   spaced on that same line, this order is also the assignment with the least total squared distance along
   it. When start and end are the same mood there is no direction and the choice order stays.

Each step reports its mood, targets, the track with its per-feature target vs actual (`RankedTrack.why`)
and its change from the previous step; `max_step_change` sums a journey up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from orchestrator.catalog.features import (
    FEATURES,
    MISSING_DIFFERENCE,
    WEIGHT_TOTAL,
    WEIGHTS,
    AudioTargets,
    audio_targets,
    squared_differences,
)
from orchestrator.catalog.ranking import RankedTrack, explain
from orchestrator.catalog.store import FeatureMatrix

MIN_STEPS = 5
MAX_STEPS = 100
# Where "calm me down" and friends lead (valence, arousal), on the same circumplex as the emotion labels
# (moods/mapping.py). The API lists these names in its schema (orchestrator/*/schemas.py).
JOURNEY_PRESETS: dict[str, tuple[float, float]] = {
    "calm me down": (0.5, -0.7),
    "cheer me up": (0.85, 0.35),
    "energize me": (0.6, 0.8),
    "wind down": (0.2, -0.85),
}


@dataclass(frozen=True)
class JourneyStep:
    index: int
    valence: float  # the step's mood
    arousal: float
    target: AudioTargets
    track: RankedTrack  # distance and why are against this step's target
    change: dict[str, float | None]  # actual features minus the previous step's (natural units); 0 at step 0
    step_distance: float  # weighted distance (features.weighted_distance) to the previous step's track

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "mood": {"valence": self.valence, "arousal": self.arousal},
                "target": self.target.as_dict(), "track": self.track.as_dict(), "change": self.change,
                "step_distance": self.step_distance}


def journey(start: tuple[float, float], end: tuple[float, float], length: int, matrix: FeatureMatrix,
            max_per_artist: int = 2) -> list[JourneyStep]:
    """`length` steps (5–100) from the `start` mood to the `end` mood, one distinct track per step."""
    if not MIN_STEPS <= length <= MAX_STEPS:
        raise ValueError(f"a journey has {MIN_STEPS} to {MAX_STEPS} steps (length {length})")
    if max_per_artist < 1:
        raise ValueError("max_per_artist must be at least 1")
    fractions = np.linspace(0.0, 1.0, length)
    moods = [(round(start[0] + (end[0] - start[0]) * f, 4), round(start[1] + (end[1] - start[1]) * f, 4))
             for f in fractions.tolist()]
    targets = [audio_targets(valence, arousal) for valence, arousal in moods]
    vectors = np.stack([t.vector() for t in targets])
    chosen = _choose(vectors, matrix, max_per_artist)
    if len(chosen) < length:
        raise ValueError(f"the catalog has only {len(chosen)} tracks for a {length}-step journey "
                         f"with at most {max_per_artist} per artist")
    ordered = _order(chosen, vectors, matrix)
    step_distances = [0.0, *consecutive_distances(matrix, ordered).tolist()]
    steps: list[JourneyStep] = []
    for index, (row, (valence, arousal), target) in enumerate(zip(ordered, moods, targets, strict=True)):
        previous = ordered[index - 1] if index else row
        steps.append(JourneyStep(index, valence, arousal, target, explain(target, matrix, row, vectors[index]),
                                 _change(matrix, previous, row), round(step_distances[index], 4)))
    return steps


def max_step_change(steps: list[JourneyStep]) -> dict[str, float]:
    """The largest step-to-step change: `distance` (weighted, normalised) and per feature (natural units)."""
    summary = {"distance": max((s.step_distance for s in steps), default=0.0)}
    for name in FEATURES:
        changes = [abs(c) for s in steps if (c := s.change[name]) is not None]
        summary[name] = max(changes, default=0.0)
    return summary


def _choose(vectors: np.ndarray, matrix: FeatureMatrix, max_per_artist: int) -> list[int]:
    """Greedy, step by step: the nearest track not yet chosen and not from an artist at the cap."""
    blocked = np.zeros(len(matrix), dtype=bool)
    per_artist: dict[int, int] = {}
    chosen: list[int] = []
    for vector in vectors:
        squared = squared_differences(matrix.normalised, vector) @ WEIGHTS
        squared[blocked] = np.inf
        row = int(np.argmin(squared))
        if not np.isfinite(squared[row]):
            break
        chosen.append(row)
        blocked[row] = True
        artist = int(matrix.artist_codes[row])
        per_artist[artist] = per_artist.get(artist, 0) + 1
        if per_artist[artist] >= max_per_artist:
            blocked |= matrix.artist_codes == artist
    return chosen


def _order(chosen: list[int], vectors: np.ndarray, matrix: FeatureMatrix) -> list[int]:
    direction = (vectors[-1] - vectors[0]) * WEIGHTS
    if not np.any(np.abs(direction) > 1e-12):
        return chosen
    features = matrix.normalised[chosen]
    # a missing feature (tempo 0) sits at its own step's target: it neither pushes nor pulls
    features = np.where(np.isnan(features), vectors, features)
    progress = (features - vectors[0]) @ direction
    return [chosen[i] for i in np.argsort(progress, kind="stable").tolist()]


def _change(matrix: FeatureMatrix, previous: int, row: int) -> dict[str, float | None]:
    change: dict[str, float | None] = {}
    for i, name in enumerate(FEATURES):
        if np.isnan(matrix.normalised[previous, i]) or np.isnan(matrix.normalised[row, i]):
            change[name] = None
        else:
            change[name] = round(float(matrix.raw[row, i] - matrix.raw[previous, i]), 1 if name == "tempo" else 4)
    return change


def consecutive_distances(matrix: FeatureMatrix, rows: Sequence[int]) -> np.ndarray:
    """Weighted distance (as `features.weighted_distance`) between each pair of consecutive `rows`: len − 1
    values. A feature missing from both tracks does not differ; missing from one differs by 1."""
    features = matrix.normalised[list(rows)]
    missing = np.isnan(features)
    difference = np.diff(np.nan_to_num(features, nan=0.0), axis=0)
    one_missing = missing[1:] != missing[:-1]
    both_missing = missing[1:] & missing[:-1]
    difference = np.where(one_missing, MISSING_DIFFERENCE, np.where(both_missing, 0.0, difference))
    return np.asarray(np.sqrt((difference * difference) @ WEIGHTS / WEIGHT_TOTAL))
