"""Key finding for melodies: music21's Krumhansl–Schmuckler key finders in a few numpy lines.

A key profile (the weight of each scale degree in a major and in a minor key) is correlated (Pearson) with the
melody's duration-weighted pitch-class histogram for all 24 keys; the best correlation wins. Two profiles are
here, as in music21's `analysis.discrete`: Aarden–Essen (music21's default, `stream.analyze('key')`), drawn from
folk melodies, and Bellman–Budge, drawn from chords in art music. Used by the generator's key check, where
importing music21 per request would cost more than the check itself; tests keep both in agreement with music21.
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
BELLMAN_BUDGE_MAJOR = np.array([16.80, 0.86, 12.95, 1.41, 13.49, 11.93, 1.25, 20.28, 1.80, 8.04, 0.62, 10.57])
BELLMAN_BUDGE_MINOR = np.array([18.16, 0.69, 12.99, 13.34, 1.07, 11.15, 1.38, 21.07, 7.49, 1.53, 0.92, 10.21])
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


def _profiles(major: np.ndarray, minor: np.ndarray) -> np.ndarray:
    """[24, 12]: every rotation of both profiles, centred; rows 0–11 major tonics, 12–23 minor."""
    rows = [np.roll(profile, tonic) for profile in (major, minor) for tonic in range(12)]
    stacked: np.ndarray = np.array(rows)
    centred: np.ndarray = stacked - stacked.mean(axis=1, keepdims=True)
    return centred


PROFILES = {"aarden_essen": _profiles(AARDEN_ESSEN_MAJOR, AARDEN_ESSEN_MINOR),
            "bellman_budge": _profiles(BELLMAN_BUDGE_MAJOR, BELLMAN_BUDGE_MINOR)}


def find_key(events: np.ndarray, profile: str = "aarden_essen") -> Key | None:
    """The most likely key of a melody by one of `PROFILES`, or None for a melody without notes."""
    histogram = pitch_class_histogram(events)
    if not histogram.any():
        return None
    profiles = PROFILES[profile]
    centred = histogram - histogram.mean()
    denominator = np.sqrt((profiles**2).sum(axis=1) * (centred**2).sum())
    correlations = np.divide(profiles @ centred, denominator, out=np.zeros(24), where=denominator > 0)
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
    """How well the melody fits one given key (the correlation `find_key` maximises with Aarden–Essen)."""
    histogram = pitch_class_histogram(events)
    centred = histogram - histogram.mean()
    profile = PROFILES["aarden_essen"][MODES.index(mode) * 12 + tonic]
    denominator = float(np.sqrt((profile**2).sum() * (centred**2).sum()))
    return float(profile @ centred) / denominator if denominator > 0 else 0.0
