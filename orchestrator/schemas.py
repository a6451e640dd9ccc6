"""Response and request bodies of the public API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class Box(BaseModel):
    x: int
    y: int
    width: int
    height: int


class FaceEmotion(BaseModel):
    box: Box
    detection_score: float = Field(description="MTCNN face probability")
    emotions: dict[str, float] = Field(description="Probability of each of the seven FER2013 emotions")
    top_emotion: str
    top_score: float


class MoodOut(BaseModel):
    label: str
    valence: float = Field(ge=-1, le=1, description="Unpleasant (-1) to pleasant (+1)")
    arousal: float = Field(ge=-1, le=1, description="Calm (-1) to excited (+1)")
    confidence: float = Field(ge=0, le=1)


class ModelRef(BaseModel):
    name: str
    version: str


class FaceMoodPart(BaseModel):
    faces: list[FaceEmotion]
    mood: MoodOut | None


class TextMoodRequest(BaseModel):
    text: str = Field(description="What the person wrote (at most MUSEAIKA_MAX_TEXT_CHARS characters)")
    language: str = Field(default="en", min_length=2, max_length=16, description="BCP 47 tag, e.g. en")


class TextEmotion(BaseModel):
    emotions: dict[str, float] = Field(description="Probability of each label of the served text model")
    top_emotion: str
    top_score: float
    truncated: bool = Field(description="True when the text was longer than the model reads and was cut")
    tokens: int


class TextMoodResponse(BaseModel):
    event_id: str
    text: TextEmotion
    mood: MoodOut | None
    reason: str | None = Field(default=None, description="Why `mood` is null, when it is")
    model: ModelRef
    created_at: datetime


class FusionOut(BaseModel):
    weights: dict[str, float] = Field(description="Share of each part in the fused mood")
    explanation: str = Field(description='e.g. "face confidence 0.31, text confidence 0.92"')
    disagreement: bool = Field(description="The parts are far apart in valence-arousal: look at both")
    distance: float | None


class FusedMoodResponse(BaseModel):
    event_id: str
    face: FaceMoodPart | None
    text: TextEmotion | None
    text_mood: MoodOut | None
    mood: MoodOut | None = Field(description="The fused mood")
    fusion: FusionOut | None
    missing: dict[str, str] = Field(description="Parts that could not be computed, and why")
    reason: str | None
    models: list[ModelRef]
    created_at: datetime


class FaceMoodResponse(BaseModel):
    event_id: str
    faces: list[FaceEmotion]
    mood: MoodOut | None
    reason: str | None = Field(default=None, description="Why `mood` is null, when it is")
    model: ModelRef
    created_at: datetime


class MoodEventOut(BaseModel):
    id: str
    source: str
    faces: list[FaceEmotion] | None
    text: dict[str, Any] | None
    fusion: dict[str, Any] | None
    mood: MoodOut | None
    models: list[ModelRef]
    owner_id: str | None
    created_at: datetime


class DependencyStatusOut(BaseModel):
    ready: bool
    detail: str


class ReadinessOut(BaseModel):
    ready: bool
    dependencies: dict[str, DependencyStatusOut]


class ErrorOut(BaseModel):
    detail: str
