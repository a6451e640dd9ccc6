"""Bodies of the recommendation and feedback routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from orchestrator.http.bodies import JsonInt, RequestModel
from orchestrator.moods.schemas import MoodSpec


class RecommendationRequest(RequestModel):
    mood: MoodSpec
    limit: JsonInt = Field(default=20, ge=1, le=50)
    include_library: bool = Field(default=True, description="Also rank the linked user's saved and top tracks")


class TrackPosition(BaseModel):
    valence: float
    arousal: float


class RecommendedTrack(BaseModel):
    track_id: str
    uri: str
    artist: str
    name: str
    popularity: int | None
    fit: float = Field(description="How well the track fits the mood, 0–1 (your feedback included); best first")
    distance: float = Field(description="1 − fit: 0 fits exactly")
    position: TrackPosition = Field(description="Where the track-mood model places the track")
    moods: dict[str, float] = Field(description="The model's probability for each labelled mood")
    why: dict[str, Any] = Field(description="`summary` in words (e.g. \"calm: acoustic, quiet and slow\"), the "
                                "`mood` and `features` behind it, `mood_fit`, `unknown` features, and "
                                "`feedback` when your 👍/👎 moved it")
    in_library: bool = Field(description="Saved by the user or among their top tracks")


class RecommendationsOut(BaseModel):
    mood: dict[str, Any]
    targets: dict[str, float] = Field(description="The mood point ranked for: valence, arousal")
    tracks: list[RecommendedTrack]
    sources: dict[str, Any] = Field(description="What was ranked: the catalog (and model version), the user's "
                                    "library (or why not), Spotify's suggestions, feedback")


TRACK_ID_PATTERN = r"^(spotify:track:)?[0-9A-Za-z]{22}$"


class FeedbackRequest(RequestModel):
    track_id: str = Field(pattern=TRACK_ID_PATTERN, description="A catalog track: bare or spotify:track: id")
    verdict: Literal["like", "dislike"]


class FeedbackOut(BaseModel):
    track_id: str
    verdict: Literal["like", "dislike"]
    created_at: datetime
    updated_at: datetime


class FeedbackPage(BaseModel):
    items: list[FeedbackOut]
