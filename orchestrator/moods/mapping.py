"""Emotion labels → valence/arousal, and one mood from several faces (or face + text).

Positions come from Russell's circumplex of affect (J. A. Russell, "A circumplex model of affect",
Journal of Personality and Social Psychology 39(6):1161–1178, 1980, Table 3, direct circular scaling
of 28 affect words): each label sits on the unit circle at its word's angle, valence = cos, arousal
= sin. Words used: happy 7.8°, sad 207.5°, angry 99.0°, afraid 116.5° (fear), astonished 69.8°
(surprise). "Disgust" is not among Russell's 28 words; it takes the angle of "distressed" (138.0°),
the nearest unpleasant, moderately aroused term. "Neutral" is the circle's centre (no affect).

The text models use the same words where Russell has them: sadness = sad, joy = happy, anger = angry,
fear = afraid, surprise = astonished; sentiment 2.0.0's `disgust` and `neutral` are the face model's (distressed,
the centre), so face and text place one emotion at one point. sentiment 1.0.0's "love" is not among the 28
words; it takes the angle of "delighted" (24.9°), pleasant and more aroused than "happy". A label outside this
table is refused with `UnknownEmotionLabelError` rather than guessed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_RUSSELL_1980_ANGLES_DEG: dict[str, float | None] = {
    "happy": 7.8,
    "surprise": 69.8,
    "angry": 99.0,
    "fear": 116.5,
    "disgust": 138.0,
    "sad": 207.5,
    "neutral": None,
    # text-emotion labels
    "joy": 7.8,
    "love": 24.9,
    "anger": 99.0,
    "sadness": 207.5,
}


def _position(angle: float | None) -> tuple[float, float]:
    if angle is None:
        return 0.0, 0.0
    radians = math.radians(angle)
    return math.cos(radians), math.sin(radians)


EMOTION_VALENCE_AROUSAL: dict[str, tuple[float, float]] = {
    label: _position(angle) for label, angle in _RUSSELL_1980_ANGLES_DEG.items()
}


NEUTRAL = "neutral"


class UnknownEmotionLabelError(ValueError):
    pass


@dataclass(frozen=True)
class Mood:
    label: str
    valence: float
    arousal: float
    confidence: float
    probabilities: dict[str, float]


def mood_from_probabilities(probabilities: Mapping[str, float]) -> Mood:
    """Valence/arousal are the probability-weighted mean of the labels' positions; the label is
    the most probable emotion and the confidence its probability."""
    unknown = set(probabilities) - set(EMOTION_VALENCE_AROUSAL)
    if unknown:
        raise UnknownEmotionLabelError(f"no valence/arousal position for labels {sorted(unknown)}")
    total = sum(probabilities.values())
    if total <= 0:
        raise ValueError("probabilities must sum to a positive number")
    normalised = {label: p / total for label, p in probabilities.items()}
    valence = sum(p * EMOTION_VALENCE_AROUSAL[label][0] for label, p in normalised.items())
    arousal = sum(p * EMOTION_VALENCE_AROUSAL[label][1] for label, p in normalised.items())
    label = max(normalised, key=normalised.__getitem__)
    return Mood(label, _clamp(valence), _clamp(arousal), normalised[label], normalised)


def combine_moods(moods: Sequence[Mood]) -> Mood:
    """Confidence-weighted mean of several moods (e.g. every face in a photo)."""
    if not moods:
        raise ValueError("no moods to combine")
    weights = [max(m.confidence, 1e-9) for m in moods]
    total = sum(weights)
    labels = set().union(*(m.probabilities for m in moods))
    probabilities = {
        label: sum(w * m.probabilities.get(label, 0.0) for w, m in zip(weights, moods, strict=True)) / total
        for label in labels
    }
    valence = sum(w * m.valence for w, m in zip(weights, moods, strict=True)) / total
    arousal = sum(w * m.arousal for w, m in zip(weights, moods, strict=True)) / total
    label = max(probabilities, key=probabilities.__getitem__)
    confidence = sum(w * m.confidence for w, m in zip(weights, moods, strict=True)) / total
    return Mood(label, _clamp(valence), _clamp(arousal), confidence, probabilities)


def mood_as_dict(mood: Mood) -> dict[str, Any]:
    """The stored/returned form of a mood (probabilities stay with their faces or text)."""
    return {"label": mood.label, "valence": round(mood.valence, 4), "arousal": round(mood.arousal, 4),
            "confidence": round(mood.confidence, 4)}


def _clamp(value: float) -> float:
    return max(-1.0, min(1.0, value))
