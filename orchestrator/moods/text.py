"""Text → emotion probabilities → mood, stored as a mood event (scores only, never the words)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from orchestrator.core.errors import InvalidInputError
from orchestrator.inference.client import InferenceBackend
from orchestrator.moods.events import MoodEvent, MoodEventRepository
from orchestrator.moods.mapping import Mood, UnknownEmotionLabelError, mood_as_dict, mood_from_probabilities

SENTIMENT_MODEL = "sentiment"


@dataclass
class TextScores:
    emotions: dict[str, float]
    top_emotion: str
    top_score: float
    truncated: bool
    tokens: int
    mood: Mood | None
    reason: str | None
    model: dict[str, str]
    labels: list[str]
    label_scores: dict[str, float]

    def as_record(self, characters: int, language: str) -> dict[str, Any]:
        return {"emotions": self.emotions, "top_emotion": self.top_emotion, "top_score": self.top_score,
                "labels": self.labels, "label_scores": self.label_scores,
                "truncated": self.truncated, "tokens": self.tokens, "characters": characters, "language": language}


class TextMoodService:
    def __init__(self, inference: InferenceBackend, events: MoodEventRepository, max_chars: int,
                 languages: list[str]) -> None:
        self.inference = inference
        self.events = events
        self.max_chars = max_chars
        self.languages = {language.lower() for language in languages}

    def validate(self, text: str, language: str) -> None:
        primary = language.lower().split("-")[0]
        if "*" not in self.languages and language.lower() not in self.languages and primary not in self.languages:
            raise InvalidInputError(422, f"language {language!r} is not supported by the served text model "
                                         f"(supported: {', '.join(sorted(self.languages))})")
        if not text.strip():
            raise InvalidInputError(422, "text is empty")
        if len(text) > self.max_chars:
            raise InvalidInputError(413, f"text has {len(text)} characters; the limit is {self.max_chars}")
        if "\x00" in text:
            raise InvalidInputError(400, "text contains NUL bytes; send plain text")

    async def score(self, text: str) -> TextScores:
        answer = await self.inference.predict(SENTIMENT_MODEL, text.encode("utf-8"))
        emotions: dict[str, float] = answer["emotions"]
        try:
            mood: Mood | None = mood_from_probabilities(emotions)
            reason = None
        except UnknownEmotionLabelError as error:
            # A served model with other labels still returns its scores; the mood is refused, not guessed.
            mood, reason = None, str(error)
        # A model server still running an archive from before multi-label answers sends neither field.
        labels = answer.get("labels") or [answer["top_emotion"]]
        return TextScores(emotions, answer["top_emotion"], answer["top_score"], answer["truncated"],
                          answer["tokens"], mood, reason, answer["model"], labels,
                          answer.get("label_scores") or emotions)

    async def analyze(self, text: str, language: str, owner_id: str | None = None) -> tuple[MoodEvent, TextScores]:
        self.validate(text, language)
        scores = await self.score(text)
        event = MoodEvent(source="text", models=[scores.model], text=scores.as_record(len(text), language),
                          mood=mood_as_dict(scores.mood) if scores.mood else None, owner_id=owner_id)
        return await self.events.add(event), scores
