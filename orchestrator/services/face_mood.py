"""Face photo → faces with emotions → one mood, stored as a mood event."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from orchestrator.inference.client import InferenceBackend
from orchestrator.metrics import FACES_DETECTED
from orchestrator.services.image_validation import inspect_image
from orchestrator.services.mood_mapping import Mood, combine_moods, mood_from_probabilities
from orchestrator.store.mood_events import MoodEvent, MoodEventRepository

EMOTION_MODEL = "emotion"
NO_FACE_REASON = "no face was found in the image"


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int
    max_pixels: int


def mood_as_dict(mood: Mood) -> dict[str, Any]:
    return {"label": mood.label, "valence": round(mood.valence, 4), "arousal": round(mood.arousal, 4),
            "confidence": round(mood.confidence, 4)}


class FaceMoodService:
    def __init__(self, inference: InferenceBackend, events: MoodEventRepository, limits: UploadLimits) -> None:
        self.inference = inference
        self.events = events
        self.limits = limits

    async def analyze(self, image: bytes, owner_id: str | None = None) -> MoodEvent:
        inspect_image(image, self.limits.max_bytes, self.limits.max_pixels)
        answer = await self.inference.predict(EMOTION_MODEL, image)
        faces: list[dict[str, Any]] = answer["faces"]
        FACES_DETECTED.inc(len(faces))
        mood = combine_moods([mood_from_probabilities(face["emotions"]) for face in faces]) if faces else None
        event = MoodEvent(
            source="face",
            model_name=answer["model"]["name"],
            model_version=answer["model"]["version"],
            faces=faces,
            mood=mood_as_dict(mood) if mood else None,
            owner_id=owner_id,
        )
        return await self.events.add(event)

    async def get(self, event_id: str) -> MoodEvent:
        return await self.events.get(event_id)
