"""The audio features the catalog keeps for each track (Spotify's, natural units), and what "unknown" means.

A catalog row may lack a feature: the file had no such column (the labelled set has no `mode`), the cell was
empty, or Spotify reported tempo 0 (it found no beat: rain, noise, ambient recordings). Such a value is NaN in
the `FeatureMatrix`, never a guess; the track-mood model treats it as unknown (`track_moods`), and the
explanations and the import report name it.
"""

from __future__ import annotations

import numpy as np

# Every feature a track may carry, in the columns' order in `FeatureMatrix.raw`.
FEATURES: tuple[str, ...] = ("danceability", "energy", "valence", "acousticness", "instrumentalness", "liveness",
                             "speechiness", "loudness", "tempo", "mode")
# Spotify's documented ranges, both inclusive (loudness in dB, tempo in bpm; tempo 0 = no beat found).
RANGES: dict[str, tuple[float, float]] = {
    "danceability": (0.0, 1.0), "energy": (0.0, 1.0), "valence": (0.0, 1.0), "acousticness": (0.0, 1.0),
    "instrumentalness": (0.0, 1.0), "liveness": (0.0, 1.0), "speechiness": (0.0, 1.0), "loudness": (-70.0, 10.0),
    "tempo": (0.0, 300.0), "mode": (0, 1),
}


def known_values(raw: np.ndarray) -> np.ndarray:
    """Rows in `FEATURES` order with what is not known as NaN: missing values, and tempo 0 (no beat)."""
    values = np.array(raw, dtype=np.float64, copy=True).reshape(-1, len(FEATURES))
    tempo = values[:, FEATURES.index("tempo")]
    tempo[tempo <= 0] = np.nan
    return values


def unknown_features(raw: np.ndarray) -> list[list[str]]:
    """Per row, the names of the features it lacks (in `FEATURES` order)."""
    missing = np.isnan(known_values(raw))
    return [[FEATURES[i] for i in np.flatnonzero(row)] for row in missing]
