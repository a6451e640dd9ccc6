"""Rank catalog tracks for a mood point, with an explanation per track a listener can read.

A track's score is its `fit` to the mood (`track_moods`: the probability it puts on moods near that point),
moved up or down by the listener's taste when they gave feedback (`taste`); a disliked track is never
offered again. Only the best
few are sorted (argpartition); ties go to the more popular track. Diversity: walking down that order, a track
whose artist already has `max_per_artist` tracks in the list is passed over (the candidate window widens until
the list is full or the catalog is exhausted).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from orchestrator.catalog.store import FeatureMatrix
from orchestrator.catalog.taste import Feedback, Taste
from orchestrator.catalog.track_moods import words_list

_WINDOW_FACTOR = 4  # first candidate window: limit × max(4, …) best tracks


@dataclass(frozen=True)
class MoodPoint:
    valence: float
    arousal: float
    label: str | None = None


@dataclass(frozen=True)
class RankedTrack:
    track_id: str
    artist: str
    name: str
    popularity: int | None
    fit: float  # 0 … 1: how well the track fits the mood (feedback included)
    position: tuple[float, float]  # where the model places the track: valence, arousal
    moods: dict[str, float]  # the model's probability per labelled mood
    why: dict[str, Any]

    @property
    def distance(self) -> float:
        """1 − fit: 0 fits exactly (the order of a ranking, nearest first)."""
        return round(1.0 - self.fit, 4)

    def as_dict(self) -> dict[str, Any]:
        """The JSON form an API returns."""
        return {"track_id": self.track_id, "uri": f"spotify:track:{self.track_id}", "artist": self.artist,
                "name": self.name, "popularity": self.popularity, "fit": self.fit, "distance": self.distance,
                "position": {"valence": self.position[0], "arousal": self.position[1]}, "moods": self.moods,
                "why": self.why}


def scores(matrix: FeatureMatrix, point: MoodPoint, rows: np.ndarray | None = None,
           feedback: Feedback | None = None) -> tuple[np.ndarray, Taste | None]:
    """The score of each of `rows` (all rows when None) for `point`, and the taste that moved them; a
    disliked track scores −inf."""
    selected = np.arange(len(matrix)) if rows is None else rows
    fit = matrix.model.fit(matrix.placement.probabilities[selected], (point.valence, point.arousal))
    taste = Taste.of(matrix, feedback, fit, selected) if feedback else None
    if taste is not None:
        fit = fit + taste.moves(matrix, selected)
    if feedback:
        fit[np.isin(selected, feedback.disliked)] = -np.inf
    return np.asarray(fit), taste


def explain(matrix: FeatureMatrix, row: int, point: MoodPoint, score: float, taste: Taste | None = None
            ) -> RankedTrack:
    """Matrix row `row` as a `RankedTrack`: where the model puts it, and the features that put it there."""
    model, placement = matrix.model, matrix.placement
    probabilities = placement.probabilities[row]
    top = int(np.argmax(probabilities))
    explained = placement.paths is not None or row in placement.unknown_contributions
    words = model.describe(matrix.model_values[row], placement.contributions(row), top) if explained else []
    mood = model.moods[top]
    summary = f"{mood}: {words_list(words)}" if words else mood
    why: dict[str, Any] = {
        "summary": summary, "mood": mood, "features": words,
        "mood_fit": round(float(model.fit(probabilities[None, :], (point.valence, point.arousal))[0]), 4),
        "unknown": [model.features[i] for i in np.flatnonzero(np.isnan(matrix.model_values[row]))],
    }
    note = taste.note(matrix, row) if taste is not None else None
    if note:
        why["feedback"] = note
    popularity = int(matrix.popularity[row])
    position = (round(float(placement.positions[row, 0]), 4), round(float(placement.positions[row, 1]), 4))
    return RankedTrack(matrix.ids[row], matrix.artists[row], matrix.names[row], None if popularity < 0 else popularity,
                       round(float(np.clip(score, 0.0, 1.0)), 4), position,
                       {m: round(float(p), 4) for m, p in zip(model.moods, probabilities, strict=True)}, why)


def rank(matrix: FeatureMatrix, point: MoodPoint, limit: int = 20, max_per_artist: int = 2,
         exclude_ids: Iterable[str] = (), candidate_ids: Collection[str] | None = None,
         feedback: Feedback | None = None) -> list[RankedTrack]:
    """The `limit` best tracks for `point`, no artist more than `max_per_artist` times, best first.

    exclude_ids: never returned (e.g. already played). candidate_ids: rank only these (e.g. a user's saved
    tracks); ids not in the catalog are ignored. Ids may be bare or `spotify:track:` ids.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    if max_per_artist < 1:
        raise ValueError("max_per_artist must be at least 1")
    rows = None if candidate_ids is None else matrix.positions(candidate_ids)
    score, taste = scores(matrix, point, rows, feedback)
    excluded = matrix.positions(exclude_ids)
    if excluded.size:
        score[excluded if rows is None else np.isin(rows, excluded)] = -np.inf
    order = best_diverse(score, matrix, rows, limit, max_per_artist)
    # score is indexed like `rows` (or like the matrix when all rows are ranked)
    where = None if rows is None else {row: i for i, row in enumerate(rows.tolist())}
    return [explain(matrix, row, point, float(score[row if where is None else where[row]]), taste) for row in order]


def best_diverse(score: np.ndarray, matrix: FeatureMatrix, rows: np.ndarray | None, limit: int,
                 max_per_artist: int) -> list[int]:
    """Matrix rows, best first, at most `max_per_artist` per artist (rows: the candidates' matrix rows, or
    None when `score` covers the whole matrix); a row scoring −inf is never chosen."""
    eligible = int(np.isfinite(score).sum())
    window = min(eligible, limit * max(_WINDOW_FACTOR, 2 * max_per_artist))
    while True:
        if window == 0:
            return []
        best = np.argpartition(-score, window - 1)[:window] if window < score.size else np.arange(score.size)
        best = best[np.isfinite(score[best])]
        matrix_rows = best if rows is None else rows[best]
        # best first; equal scores: the more popular first
        ordered = matrix_rows[np.lexsort((-matrix.popularity[matrix_rows], -score[best]))]
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
