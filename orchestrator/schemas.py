"""Response and request bodies of the public API."""

from __future__ import annotations

from datetime import datetime

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
    faces: list[FaceEmotion]
    mood: MoodOut | None
    model: ModelRef
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
