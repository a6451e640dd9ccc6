"""Mood (valence, arousal in [-1, 1]) → the musical targets of a generated melody: the one mapping.

| target          | from                      | mapping                                                        |
|-----------------|---------------------------|----------------------------------------------------------------|
| mode            | valence                   | major when valence ≥ 0, else minor                             |
| note density    | arousal                   | quantile 0.5 + 0.45·arousal of the training tunes' notes/bar   |
| tempo (bpm)     | arousal, valence          | 96 + 40·arousal + 8·valence  (48–144; calm and sad is slow)    |
| velocity (MIDI) | arousal                   | 72 + 36·arousal, clamped to 30–112 (soft when calm)            |
| register        | valence, arousal          | transpose by round(4·valence + 2·arousal) semitones (−6…+6)    |

The direction of each cue follows the music-emotion literature: mode with valence; tempo, loudness and
note rate with arousal; higher register with positive valence (Gabrielsson & Lindström, "The role of
structure in the musical expression of emotions", Handbook of Music and Emotion, 2010; Juslin &
Laukka 2003). The magnitudes are our choice, kept here so tests and benchmarks use the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

# Sampling temperature when a request names none: the one closest to held-out tunes on the validation split
# (`python -m benchmarks melody --split validation --temperature T`; the sweep is in models/melody-rnn/README.md).
DEFAULT_TEMPERATURE = 0.7


@dataclass(frozen=True)
class MelodyTargets:
    mode: str
    density_quantile: float
    tempo_bpm: float
    velocity: int
    transpose: int  # semitones applied to the generated melody (which is in C)


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def melody_targets(valence: float, arousal: float) -> MelodyTargets:
    if not (-1.0 <= valence <= 1.0 and -1.0 <= arousal <= 1.0):
        raise ValueError("valence and arousal must lie in [-1, 1]")
    return MelodyTargets(
        mode="major" if valence >= 0 else "minor",
        density_quantile=round(0.5 + 0.45 * arousal, 4),
        tempo_bpm=round(96 + 40 * arousal + 8 * valence, 1),
        velocity=round(_clamp(72 + 36 * arousal, 30, 112)),
        transpose=round(4 * valence + 2 * arousal),
    )
