"""Bodies of the recommendation route."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from orchestrator.http.bodies import JsonInt, RequestModel
from orchestrator.moods.schemas import MoodSpec


class RecommendationRequest(RequestModel):
    mood: MoodSpec
    limit: JsonInt = Field(default=20, ge=1, le=50)
    include_library: bool = Field(default=True, description="Also rank the linked user's saved and top tracks")


class RecommendedTrack(BaseModel):
    track_id: str
    uri: str
    artist: str
    name: str
    popularity: int | None
    distance: float = Field(description="Weighted distance to the mood's targets, 0 = exact")
    why: dict[str, Any] = Field(description="Per feature: target, actual, difference, weight, share")
    in_library: bool = Field(description="Saved by the user or among their top tracks")


class RecommendationsOut(BaseModel):
    mood: dict[str, Any]
    targets: dict[str, float]
    tracks: list[RecommendedTrack]
    sources: dict[str, Any] = Field(description="What was ranked: the catalog, the user's library (or why not)")
