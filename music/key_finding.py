"""Key finding for melodies: music21's default (`stream.analyze('key')`) in a few numpy lines.

The Aarden–Essen key profiles (as in music21's `analysis.discrete.AardenEssen`) are correlated
(Pearson) with the melody's duration-weighted pitch-class histogram for all 24 keys; the best
correlation wins. Used by the generator's key check, where importing music21 per request would cost
more than the check itself; a test keeps it in agreement with music21.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from music.events import melody_notes

AARDEN_ESSEN_MAJOR = np.array(
    [17.7661, 0.145624, 14.9265, 0.160186, 19.8049, 11.3587, 0.291248, 22.062, 0.145624, 8.15494, 0.232998, 4.95122]
)
AARDEN_ESSEN_MINOR = np.array(
    [18.2648, 0.737619, 14.0499, 16.8599, 0.702494, 14.4362, 0.702494, 18.6161, 4.56621, 1.93186, 7.37619, 1.75623]
)
MODES = ("major", "minor")
# Pitch-class sets used for the in-key ratio: major and harmonic + natural minor.
SCALE_PITCH_CLASSES = {"major": frozenset({0, 2, 4, 5, 7, 9, 11}), "minor": frozenset({0, 2, 3, 5, 7, 8, 10, 11})}


@dataclass(frozen=True)
class Key:
    tonic: int  # pitch class, 0 = C
    mode: str
    correlation: float


def pitch_class_histogram(events: np.ndarray) -> np.ndarray:
    """Total duration (in steps) each pitch class sounds."""
    histogram = np.zeros(12)
    for note in melody_notes(events):
        histogram[note.pitch % 12] += note.end_step - note.start_step
    return histogram


def _profiles() -> np.ndarray:
    """[24, 12]: every rotation of both profiles, centred; rows 0–11 major tonics, 12–23 minor."""
    rows = [np.roll(profile, tonic) for profile in (AARDEN_ESSEN_MAJOR, AARDEN_ESSEN_MINOR) for tonic in range(12)]
    stacked: np.ndarray = np.array(rows)
    centred: np.ndarray = stacked - stacked.mean(axis=1, keepdims=True)
    return centred


_CENTRED_PROFILES = _profiles()


def find_key(events: np.ndarray) -> Key | None:
    """The most likely key of a melody, or None for a melody without notes."""
    histogram = pitch_class_histogram(events)
    if not histogram.any():
        return None
    centred = histogram - histogram.mean()
    denominator = np.sqrt((_CENTRED_PROFILES**2).sum(axis=1) * (centred**2).sum())
    correlations = np.divide(_CENTRED_PROFILES @ centred, denominator, out=np.zeros(24), where=denominator > 0)
    best = int(np.argmax(correlations))
    return Key(tonic=best % 12, mode=MODES[best // 12], correlation=float(correlations[best]))


def in_key_ratio(events: np.ndarray, tonic: int, mode: str) -> float:
    """Share of notes whose pitch class belongs to the key's scale."""
    notes = melody_notes(events)
    if not notes:
        return 0.0
    scale = SCALE_PITCH_CLASSES[mode]
    return sum((n.pitch - tonic) % 12 in scale for n in notes) / len(notes)


def key_correlation(events: np.ndarray, tonic: int, mode: str) -> float:
    """How well the melody fits one given key (the correlation `find_key` maximises)."""
    histogram = pitch_class_histogram(events)
    centred = histogram - histogram.mean()
    profile = _CENTRED_PROFILES[MODES.index(mode) * 12 + tonic]
    denominator = float(np.sqrt((profile**2).sum() * (centred**2).sum()))
    return float(profile @ centred) / denominator if denominator > 0 else 0.0
