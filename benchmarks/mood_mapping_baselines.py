"""The hand-set mood → audio-feature mappings the track-mood model is measured against.

- `hand_set`: the mapping the catalog used before the model (five features, fixed weights; its docstring
  said why each direction), kept here unchanged so the benchmark reports it fairly.
- `valence_energy`: what peer projects do: target valence = 0.5 + 0.5·valence, target energy = 0.5 + 0.5·arousal,
  rank by Euclidean distance over those two features.

Each returns a score per track (higher is better), fed to the same selection the API uses
(`ranking.best_diverse`).
"""

from __future__ import annotations

import numpy as np

from orchestrator.catalog.features import FEATURES

_HAND_SET = ("valence", "energy", "danceability", "tempo", "acousticness", "mode")
_HAND_SET_WEIGHTS = np.array([1.0, 1.0, 0.5, 0.5, 0.5, 0.1])
_TEMPO_MIN, _TEMPO_MAX = 50.0, 200.0
_MISSING_DIFFERENCE = 1.0


def _columns(raw: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    return np.asarray(raw[:, [FEATURES.index(name) for name in names]], dtype=np.float64)


def hand_set(raw: np.ndarray, valence: float, arousal: float) -> np.ndarray:
    """−(weighted distance to the hand-set targets): valence 0.5+0.4v, energy 0.5+0.4a, danceability
    0.55+0.2a+0.15v, tempo 115+35a bpm, acousticness 0.35−0.3a, mode major when v ≥ 0."""
    target = np.array([0.5 + 0.4 * valence, 0.5 + 0.4 * arousal, 0.55 + 0.2 * arousal + 0.15 * valence,
                       115.0 + 35.0 * arousal, 0.35 - 0.3 * arousal, 1.0 if valence >= 0 else 0.0])
    values = _columns(raw, _HAND_SET)
    tempo = _HAND_SET.index("tempo")
    values[:, tempo] = np.clip((values[:, tempo] - _TEMPO_MIN) / (_TEMPO_MAX - _TEMPO_MIN), 0.0, 1.0)
    target[tempo] = np.clip((target[tempo] - _TEMPO_MIN) / (_TEMPO_MAX - _TEMPO_MIN), 0.0, 1.0)
    difference = np.nan_to_num(values - target, nan=_MISSING_DIFFERENCE)
    return np.asarray(-np.sqrt((difference * difference) @ _HAND_SET_WEIGHTS / _HAND_SET_WEIGHTS.sum()))


def valence_energy(raw: np.ndarray, valence: float, arousal: float) -> np.ndarray:
    """−(distance to target valence 0.5 + 0.5·v and energy 0.5 + 0.5·a)."""
    values = _columns(raw, ("valence", "energy"))
    target = np.array([0.5 + 0.5 * valence, 0.5 + 0.5 * arousal])
    difference = np.nan_to_num(values - target, nan=_MISSING_DIFFERENCE)
    return np.asarray(-np.sqrt((difference * difference).sum(axis=1)))
