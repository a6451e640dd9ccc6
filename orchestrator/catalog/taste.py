"""A listener's taste from their 👍/👎, as Rocchio's relevance feedback (J. J. Rocchio, "Relevance feedback
in information retrieval", in The SMART Retrieval System, 1971): a direction in audio-feature space from what
they disliked towards what they liked.

The direction is taken relative to the tracks the current mood offers (its `POOL` best-fitting tracks), in
units of their spread: asking for "calm", a listener who 👎 instrumentals is told apart by instrumentalness,
not by the quiet and acoustic sound every calm track shares. A track then moves up or down by how far it lies
along that direction, at most `WEIGHT` (fit is 0–1, so the mood still comes first); a disliked track is never
offered again (`ranking`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from orchestrator.catalog.store import FeatureMatrix
from orchestrator.catalog.track_moods import FEATURE_WORDS

POOL = 200  # the best-fitting tracks a taste is measured against
WEIGHT = 0.35  # the most feedback moves a score
NOTED = 0.05  # a move at least this large is said in the track's "why"


@dataclass(frozen=True)
class Feedback:
    """One listener's verdicts, as matrix rows."""

    liked: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    disliked: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def __bool__(self) -> bool:
        return bool(self.liked.size or self.disliked.size)


@dataclass(frozen=True)
class Taste:
    centre: np.ndarray  # (features,): the pool's mean standardised features
    spread: np.ndarray  # (features,): their standard deviations (1 where the pool does not vary)
    direction: np.ndarray  # (features,): unit vector, disliked → liked

    @classmethod
    def of(cls, matrix: FeatureMatrix, feedback: Feedback, fit: np.ndarray, rows: np.ndarray) -> Taste | None:
        """The taste `feedback` shows against the best of `rows` by `fit`; None when it points nowhere."""
        if not feedback:
            return None
        best = rows[np.argsort(-fit, kind="stable")[:POOL]]
        pool = matrix.standardised[best]
        centre, spread = pool.mean(axis=0), pool.std(axis=0)
        spread = np.where(spread > 1e-6, spread, 1.0)

        def mean_of(chosen: np.ndarray) -> np.ndarray:
            if not chosen.size:
                return np.zeros_like(centre)
            return np.asarray(((matrix.standardised[chosen] - centre) / spread).mean(axis=0))

        direction = np.asarray(mean_of(feedback.liked) - mean_of(feedback.disliked), dtype=np.float64)
        norm = float(np.linalg.norm(direction))
        return cls(centre, spread, direction / norm) if norm > 1e-9 else None

    def _local(self, matrix: FeatureMatrix, rows: np.ndarray) -> np.ndarray:
        """Rows' standardised features in units of the pool's spread, around its centre."""
        return np.asarray((matrix.standardised[rows] - self.centre) / self.spread)

    def moves(self, matrix: FeatureMatrix, rows: np.ndarray) -> np.ndarray:
        """(len(rows),): how far the taste moves each row's score, within ±`WEIGHT`."""
        return np.asarray(WEIGHT * np.tanh(self._local(matrix, rows) @ self.direction))

    def note(self, matrix: FeatureMatrix, row: int) -> str | None:
        """In words, how the taste moved this track: by the feature that moved it most."""
        move = float(self.moves(matrix, np.array([row]))[0])
        if abs(move) < NOTED:
            return None
        local = self._local(matrix, np.array([row]))[0]
        feature = int(np.argmax(local * self.direction * np.sign(move)))
        high, low = FEATURE_WORDS[matrix.model.features[feature]]
        word = high if matrix.standardised[row, feature] > 0 else low
        return (f"moved up: {word}, like the tracks you liked" if move > 0
                else f"moved down: {word}, like the tracks you disliked")
