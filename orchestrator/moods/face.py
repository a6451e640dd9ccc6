"""Face photo → faces with emotions → one mood, stored as a mood event."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from orchestrator.core.metrics import FACES_DETECTED
from orchestrator.inference.client import InferenceBackend
from orchestrator.moods.events import MoodEvent, MoodEventRepository
from orchestrator.moods.image_validation import inspect_image
from orchestrator.moods.mapping import Mood, combine_moods, mood_as_dict, mood_from_probabilities

EMOTION_MODEL = "emotion"
NO_FACE_REASON = "no face was found in the image"


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int
    max_pixels: int


@dataclass
class FaceScores:
    faces: list[dict[str, Any]]
    mood: Mood | None
    model: dict[str, str]

    @property
    def reason(self) -> str | None:
        return None if self.faces else NO_FACE_REASON


class FaceMoodService:
    def __init__(self, inference: InferenceBackend, events: MoodEventRepository, limits: UploadLimits) -> None:
        self.inference = inference
        self.events = events
        self.limits = limits

    def validate(self, image: bytes) -> None:
        """Refuse a bad upload before any model is called (raises InvalidInputError)."""
        inspect_image(image, self.limits.max_bytes, self.limits.max_pixels)

    async def score(self, image: bytes) -> FaceScores:
        answer = await self.inference.predict(EMOTION_MODEL, image)
        faces: list[dict[str, Any]] = answer["faces"]
        FACES_DETECTED.inc(len(faces))
        mood = combine_moods([mood_from_probabilities(face["emotions"]) for face in faces]) if faces else None
        return FaceScores(faces, mood, answer["model"])

    async def analyze(self, image: bytes, owner_id: str | None = None) -> tuple[MoodEvent, FaceScores]:
        self.validate(image)
        scores = await self.score(image)
        event = MoodEvent(source="face", models=[scores.model], faces=scores.faces,
                          mood=mood_as_dict(scores.mood) if scores.mood else None, owner_id=owner_id)
        return await self.events.add(event), scores
