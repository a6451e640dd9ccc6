"""Mood (valence, arousal in [-1, 1]) → Spotify-style audio-feature targets: the one mapping, and the
weights and normalisation that every distance between a track and its targets uses.

| target        | from              | mapping                                   | range        |
|---------------|-------------------|-------------------------------------------|--------------|
| valence       | valence           | 0.5 + 0.4·valence                         | 0.10–0.90    |
| energy        | arousal           | 0.5 + 0.4·arousal                         | 0.10–0.90    |
| danceability  | arousal, valence  | 0.55 + 0.2·arousal + 0.15·valence         | 0.20–0.90    |
| tempo (bpm)   | arousal           | 115 + 35·arousal                          | 80–150       |
| acousticness  | arousal           | 0.35 − 0.3·arousal                        | 0.05–0.65    |
| mode          | valence           | major (1) when valence ≥ 0, else minor (0)|              |

Why these directions: Spotify's `valence` is itself defined as musical positiveness, so it follows the
circumplex valence directly. Arousal is carried by energy (Spotify: "perceptual measure of intensity and
activity"), tempo and danceability, the cues listeners rate as activating (Gabrielsson & Lindström, "The
role of structure in the musical expression of emotions", Handbook of Music and Emotion, 2010; Juslin &
Laukka 2003); danceability also rises with valence (r = 0.46 in the 14k-track catalog). Calm music is more
often acoustic (acousticness vs energy r = −0.70 in the catalog), so low arousal asks for acoustic tracks.
Positive valence asks for the major mode (the same rule as `music.mood_targets`). The targets stay inside
the middle of each scale (never 0 or 1) because the extremes of the catalog are mostly noise, speech and
ambient recordings. The magnitudes are our choice, kept here so ranking, tests and benchmarks agree.

Distance: each feature is scaled to [0, 1] (`normalise`: tempo linearly over 50–200 bpm and clipped, the
others are already 0–1, mode 0/1), then

    distance = sqrt( Σ wᵢ·(trackᵢ − targetᵢ)² / Σ wᵢ )  ∈ [0, 1]

with `FEATURE_WEIGHTS`: valence and energy 1.0 (they carry the mood's two axes), danceability, tempo and
acousticness 0.5 (secondary cues), mode 0.1 (binary and, in this catalog, nearly uncorrelated with
valence, r = −0.03: a tie-breaker, not a filter). A tempo of 0 means Spotify found no beat (noise, rain,
ambient recordings); such a track gets the largest tempo difference, 1.0.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

FEATURES: tuple[str, ...] = ("valence", "energy", "danceability", "tempo", "acousticness", "mode")
FEATURE_WEIGHTS: dict[str, float] = {
    "valence": 1.0,
    "energy": 1.0,
    "danceability": 0.5,
    "tempo": 0.5,
    "acousticness": 0.5,
    "mode": 0.1,
}
TEMPO_MIN_BPM = 50.0
TEMPO_MAX_BPM = 200.0
MISSING_DIFFERENCE = 1.0  # the normalised difference of a feature the track lacks (tempo 0: no beat)

WEIGHTS = np.array([FEATURE_WEIGHTS[name] for name in FEATURES], dtype=np.float64)
WEIGHT_TOTAL = float(WEIGHTS.sum())


@dataclass(frozen=True)
class AudioTargets:
    valence: float  # 0–1, Spotify's musical positiveness
    energy: float  # 0–1
    danceability: float  # 0–1
    tempo: float  # bpm
    acousticness: float  # 0–1
    mode: int  # 1 major, 0 minor

    def as_dict(self) -> dict[str, float]:
        return {name: float(value) for name, value in asdict(self).items()}

    def vector(self) -> np.ndarray:
        """The normalised target, in `FEATURES` order (float64, shape (6,))."""
        return np.asarray(normalise(np.array([[getattr(self, name) for name in FEATURES]], dtype=np.float64))[0])


def audio_targets(valence: float, arousal: float) -> AudioTargets:
    if not (-1.0 <= valence <= 1.0 and -1.0 <= arousal <= 1.0):
        raise ValueError("valence and arousal must lie in [-1, 1]")
    return AudioTargets(
        valence=round(0.5 + 0.4 * valence, 4),
        energy=round(0.5 + 0.4 * arousal, 4),
        danceability=round(0.55 + 0.2 * arousal + 0.15 * valence, 4),
        tempo=round(115.0 + 35.0 * arousal, 2),
        acousticness=round(0.35 - 0.3 * arousal, 4),
        mode=1 if valence >= 0 else 0,
    )


def normalise_tempo(bpm: np.ndarray) -> np.ndarray:
    """bpm → [0, 1] over 50–200 bpm (clipped); 0 bpm (no beat detected) → NaN."""
    scaled = np.clip((bpm - TEMPO_MIN_BPM) / (TEMPO_MAX_BPM - TEMPO_MIN_BPM), 0.0, 1.0)
    return np.asarray(np.where(bpm > 0, scaled, np.nan))


def normalise(raw: np.ndarray) -> np.ndarray:
    """Rows of features in natural units (`FEATURES` order) → rows in [0, 1] (NaN where missing)."""
    normalised = np.array(raw, dtype=np.float64, copy=True)
    tempo = FEATURES.index("tempo")
    normalised[:, tempo] = normalise_tempo(normalised[:, tempo])
    return normalised


def squared_differences(normalised: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Per-feature squared normalised differences (rows × features); a missing feature counts as 1."""
    difference = normalised - target
    np.nan_to_num(difference, copy=False, nan=MISSING_DIFFERENCE)
    return np.asarray(difference * difference)


def weighted_distance(normalised: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The distance of each row of `normalised` to `target` (both in `FEATURES` order), in [0, 1]."""
    return np.sqrt(squared_differences(normalised, target) @ WEIGHTS / WEIGHT_TOTAL)
