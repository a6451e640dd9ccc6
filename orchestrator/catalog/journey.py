"""Mood journeys: a playlist that starts where the listener is and moves, step by step, to where they want
to be — the iso principle of music therapy (Altshuler, 1948: meet the patient's mood first, then change it
gradually; Heiderscheit & Madson, "Use of the iso principle as a central method in mood management",
Music Therapy Perspectives 33(1), 2015).

The journey moves in the space the track-mood model places tracks in (`track_moods`: valence, arousal):

1. Step moods: N points evenly spaced on the straight line from `start` to `end`; the first is exactly the
   start mood, the last exactly the end mood.
2. Choice: step by step, the catalog track that fits that step's mood best (`ranking.scores`) that is not
   already in the journey and whose artist has fewer than `max_per_artist` tracks in it.
3. Order: the chosen tracks are sorted by where the model places them along the journey's direction (the
   projection of their position onto end − start) and matched to the steps in that order, so the journey
   never goes backwards. When start and end are the same mood there is no direction and the choice order stays.

Each step reports its mood, the track with its explanation, and the distance the music moved from the
previous step (between the model's positions); `max_step_change` sums a journey up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from orchestrator.catalog.ranking import MoodPoint, RankedTrack, explain, scores
from orchestrator.catalog.store import FeatureMatrix

MIN_STEPS = 5
MAX_STEPS = 100
# Where "calm me down" and friends lead (valence, arousal), on the same plane as the mood vocabulary.
# The API lists these names in its schema (orchestrator/playlists/schemas.py).
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
    track: RankedTrack  # its fit and why are for this step's mood
    step_distance: float  # how far the model places this track from the previous step's (0 at step 0)

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "mood": {"valence": self.valence, "arousal": self.arousal},
                "track": self.track.as_dict(), "step_distance": self.step_distance}


def journey(start: tuple[float, float], end: tuple[float, float], length: int, matrix: FeatureMatrix,
            max_per_artist: int = 2) -> list[JourneyStep]:
    """`length` steps (5–100) from the `start` mood to the `end` mood, one distinct track per step."""
    if not MIN_STEPS <= length <= MAX_STEPS:
        raise ValueError(f"a journey has {MIN_STEPS} to {MAX_STEPS} steps (length {length})")
    if max_per_artist < 1:
        raise ValueError("max_per_artist must be at least 1")
    fractions = np.linspace(0.0, 1.0, length)
    points = [MoodPoint(round(start[0] + (end[0] - start[0]) * f, 4), round(start[1] + (end[1] - start[1]) * f, 4))
              for f in fractions.tolist()]
    chosen = _choose(points, matrix, max_per_artist)
    if len(chosen) < length:
        raise ValueError(f"the catalog has only {len(chosen)} tracks for a {length}-step journey "
                         f"with at most {max_per_artist} per artist")
    ordered = _order(chosen, start, end, matrix)
    step_distances = [0.0, *path_distances(matrix, ordered).tolist()]
    steps: list[JourneyStep] = []
    for index, (row, point) in enumerate(zip(ordered, points, strict=True)):
        score = float(scores(matrix, point, np.array([row]))[0][0])
        steps.append(JourneyStep(index, point.valence, point.arousal, explain(matrix, row, point, score),
                                 round(step_distances[index], 4)))
    return steps


def max_step_change(steps: list[JourneyStep]) -> dict[str, float]:
    """The largest step-to-step move of the music, and the whole way it travelled (valence–arousal units)."""
    return {"distance": max((s.step_distance for s in steps), default=0.0),
            "travelled": round(sum(s.step_distance for s in steps), 4)}


def _choose(points: list[MoodPoint], matrix: FeatureMatrix, max_per_artist: int) -> list[int]:
    """Greedy, step by step: the best-fitting track not yet chosen and not from an artist at the cap."""
    blocked = np.zeros(len(matrix), dtype=bool)
    per_artist: dict[int, int] = {}
    chosen: list[int] = []
    for point in points:
        fit, _ = scores(matrix, point)
        fit[blocked] = -np.inf
        row = int(np.argmax(fit))
        if not np.isfinite(fit[row]):
            break
        chosen.append(row)
        blocked[row] = True
        artist = int(matrix.artist_codes[row])
        per_artist[artist] = per_artist.get(artist, 0) + 1
        if per_artist[artist] >= max_per_artist:
            blocked |= matrix.artist_codes == artist
    return chosen


def _order(chosen: list[int], start: tuple[float, float], end: tuple[float, float],
           matrix: FeatureMatrix) -> list[int]:
    direction = np.asarray(end, dtype=np.float64) - np.asarray(start, dtype=np.float64)
    if not np.any(np.abs(direction) > 1e-12):
        return chosen
    progress = (matrix.placement.positions[chosen] - np.asarray(start)) @ direction
    return [chosen[i] for i in np.argsort(progress, kind="stable").tolist()]


def path_distances(matrix: FeatureMatrix, rows: list[int]) -> np.ndarray:
    """Distances between the model's positions of consecutive `rows` (len − 1 values)."""
    return np.asarray(np.linalg.norm(np.diff(matrix.placement.positions[rows], axis=0), axis=1))
