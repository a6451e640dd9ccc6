"""One mood from a face part and a text part, fused in valence–arousal space.

Rule: each available part is weighted by its evidence of a mood — the probability of its most likely
emotion other than `neutral` — so a confident neutral part ("I'm heading to the shop") counts as no
evidence rather than as a calm mood that drags the other part to the centre. The fused valence/arousal is
the weighted mean, the fused label the label of the part with more evidence. Parts farther apart than
`DISAGREEMENT_DISTANCE` on the valence–arousal plane are flagged instead of silently averaged.
A part whose model server is down is reported as missing and the mood is fused from the rest; the call
fails (503) only when no part could be computed. Bad input in any part is refused before any model runs.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from typing import Any

from orchestrator.core.errors import DependencyUnavailableError, InvalidInputError
from orchestrator.moods.events import MoodEvent, MoodEventRepository
from orchestrator.moods.face import FaceMoodService, FaceScores
from orchestrator.moods.mapping import NEUTRAL, Mood, mood_as_dict
from orchestrator.moods.text import TextMoodService, TextScores

# Half the unit circle's diameter: e.g. happy vs sad ≈ 1.97, happy vs surprise ≈ 0.97.
DISAGREEMENT_DISTANCE = 1.0


@dataclass
class Fusion:
    mood: Mood
    weights: dict[str, float]
    explanation: str
    disagreement: bool
    distance: float | None

    def as_record(self) -> dict[str, Any]:
        return {"weights": self.weights, "explanation": self.explanation, "disagreement": self.disagreement,
                "distance": None if self.distance is None else round(self.distance, 4)}


def mood_evidence(mood: Mood) -> float:
    """How much a part says about a mood: its most probable non-neutral emotion's probability (its
    confidence when it has no probabilities or no neutral label)."""
    affective = [p for label, p in mood.probabilities.items() if label != NEUTRAL]
    if not affective or NEUTRAL not in mood.probabilities:
        return mood.confidence
    return max(affective)


def _describe(name: str, mood: Mood) -> str:
    if mood.label == NEUTRAL:
        return f"{name} neutral {mood.confidence:.2f} (no evidence of a mood)"
    return f"{name} confidence {mood.confidence:.2f}"


def fuse(parts: dict[str, Mood]) -> Fusion:
    if not parts:
        raise ValueError("nothing to fuse")
    evidence = {name: max(mood_evidence(mood), 1e-9) for name, mood in parts.items()}
    total = sum(evidence.values())
    weights = {name: c / total for name, c in evidence.items()}
    valence = sum(weights[n] * m.valence for n, m in parts.items())
    arousal = sum(weights[n] * m.arousal for n, m in parts.items())
    strongest = max(parts, key=evidence.__getitem__)
    confidence = sum(weights[n] * m.confidence for n, m in parts.items())
    explanation = ", ".join(_describe(name, parts[name]) for name in parts)
    distance = None
    disagreement = False
    if len(parts) == 2:
        first, second = parts.values()
        distance = math.dist((first.valence, first.arousal), (second.valence, second.arousal))
        # A neutral part sits at the centre: far from a strong mood, but silent rather than in conflict.
        disagreement = distance > DISAGREEMENT_DISTANCE and NEUTRAL not in (first.label, second.label)
        if disagreement:
            explanation += (f"; the parts disagree ({' vs '.join(m.label for m in parts.values())}, distance "
                            f"{distance:.2f} in valence-arousal): the weighted mean hides a conflict")
    mood = Mood(parts[strongest].label, valence, arousal, confidence, {})
    return Fusion(mood, {n: round(w, 4) for n, w in weights.items()}, explanation, disagreement, distance)


@dataclass
class FusedResult:
    event: MoodEvent
    face: FaceScores | None
    text: TextScores | None
    fusion: Fusion | None
    missing: dict[str, str]  # part → why it could not be computed
    reason: str | None


class FusedMoodService:
    def __init__(self, face: FaceMoodService, text: TextMoodService, events: MoodEventRepository) -> None:
        self.face = face
        self.text = text
        self.events = events

    async def analyze(self, image: bytes | None, text: str | None, language: str,
                      owner_id: str | None = None) -> FusedResult:
        if image is None and text is None:
            raise InvalidInputError(422, "send an image, a text, or both")
        if image is not None:
            self.face.validate(image)
        if text is not None:
            self.text.validate(text, language)
        face_task = self.face.score(image) if image is not None else None
        text_task = self.text.score(text) if text is not None else None
        results = await asyncio.gather(*(t for t in (face_task, text_task) if t is not None), return_exceptions=True)
        named = iter(results)
        face_result = next(named) if face_task is not None else None
        text_result = next(named) if text_task is not None else None

        missing: dict[str, str] = {}
        face_scores = self._part("face", face_result, missing)
        text_scores = self._part("text", text_result, missing)
        if face_scores is None and text_scores is None:
            first = next(r for r in (face_result, text_result) if isinstance(r, DependencyUnavailableError))
            raise first

        moods = {name: scores.mood for name, scores in (("face", face_scores), ("text", text_scores))
                 if scores is not None and scores.mood is not None}
        fusion = fuse(moods) if moods else None
        reasons = [r for r in (face_scores.reason if face_scores else None,
                               text_scores.reason if text_scores else None) if r]
        event = MoodEvent(
            source="fused",
            models=[s.model for s in (face_scores, text_scores) if s is not None],
            mood=mood_as_dict(fusion.mood) if fusion else None,
            faces=face_scores.faces if face_scores else None,
            text=text_scores.as_record(len(text), language) if text_scores and text is not None else None,
            fusion={**fusion.as_record(), "missing": missing} if fusion else {"missing": missing},
            owner_id=owner_id,
        )
        stored = await self.events.add(event)
        return FusedResult(stored, face_scores, text_scores, fusion, missing, "; ".join(reasons) or None)

    @staticmethod
    def _part(name: str, result: object, missing: dict[str, str]) -> Any:
        if isinstance(result, DependencyUnavailableError):
            missing[name] = f"{result.dependency} unavailable: {result.reason}"
            return None
        if isinstance(result, BaseException):
            raise result
        return result
