"""Response and request bodies of the public API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, EmailStr, Field, model_validator

from music.mood_targets import DEFAULT_TEMPERATURE


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


# -- accounts ---------------------------------------------------------------------------------
class SignUpRequest(BaseModel):
    email: EmailStr
    password: str = Field(description="At least 10 characters, not only letters or only digits")
    display_name: str | None = Field(default=None, max_length=80)


class UserOut(BaseModel):
    id: str
    email: str
    display_name: str | None
    created_at: datetime


class UserPatch(BaseModel):
    display_name: str | None = Field(default=None, max_length=80)
    password: str | None = None
    current_password: str | None = None


class TokenOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds the access token lives")


class RefreshRequest(BaseModel):
    refresh_token: str


class AccountDeletedOut(BaseModel):
    deleted: dict[str, int]


# -- history ----------------------------------------------------------------------------------
class MoodHistoryOut(BaseModel):
    items: list[MoodEventOut]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next (older) page; null at the end")


class DayMoodOut(BaseModel):
    day: str
    events: int
    mean_valence: float
    mean_arousal: float


class MoodSummaryOut(BaseModel):
    since: datetime
    until: datetime
    events: int = Field(description="Events with a mood in the period")
    counts: dict[str, int] = Field(description="Events per mood label, most frequent first")
    days: list[DayMoodOut]


# -- playlists and jobs -----------------------------------------------------------------------
class Track(BaseModel):
    title: str = Field(min_length=1, max_length=300)
    artist: str = Field(min_length=1, max_length=300)
    uri: str | None = Field(default=None, max_length=300, description="e.g. spotify:track:…")
    duration_ms: int | None = Field(default=None, ge=0)


class PlaylistMood(BaseModel):
    label: str
    valence: float = Field(ge=-1, le=1)
    arousal: float = Field(ge=-1, le=1)


class PlaylistIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    mood: PlaylistMood | None = None
    tracks: list[Track] = Field(default_factory=list, max_length=500)
    spotify_id: str | None = Field(default=None, max_length=100)
    spotify_url: str | None = Field(default=None, max_length=500)


class PlaylistPatch(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    mood: PlaylistMood | None = None
    tracks: list[Track] | None = Field(default=None, max_length=500)
    spotify_id: str | None = Field(default=None, max_length=100)
    spotify_url: str | None = Field(default=None, max_length=500)


class PlaylistOut(PlaylistIn):
    id: str
    kind: str | None = Field(default=None, description='"journey" for a mood journey')
    journey: dict[str, Any] | None = Field(default=None, description="From and to moods, each step's mood and "
                                           "track, the largest feature change between steps")
    created_at: datetime
    updated_at: datetime


class PlaylistPage(BaseModel):
    items: list[PlaylistOut]
    next_cursor: str | None


class GenerationJobOut(BaseModel):
    id: str
    kind: str
    state: str = Field(description="queued, running, succeeded or failed")
    stage: str = Field(default="queued", description="queued, generating, rendering, uploading, done or failed")
    progress: float = Field(ge=0, le=1)
    attempts: int = Field(default=0, description="Times a worker has started this job")
    parameters: dict[str, Any]
    result_keys: list[str] = Field(description="Object-store keys of the results")
    result: dict[str, Any] | None = Field(default=None, description="What was generated (key found, density …)")
    files: dict[str, str] | None = Field(default=None, description="Presigned download URLs (midi, wav, ogg) "
                                         "once the job succeeded")
    error: str | None
    created_at: datetime
    updated_at: datetime


class GenerationJobPage(BaseModel):
    items: list[GenerationJobOut]
    next_cursor: str | None


class MoodSpec(BaseModel):
    """One of: an emotion label (e.g. "happy", "sad"), a valence/arousal position, or a stored mood event."""

    label: str | None = Field(default=None, max_length=40, examples=["happy"])
    valence: float | None = Field(default=None, ge=-1, le=1)
    arousal: float | None = Field(default=None, ge=-1, le=1)
    mood_event_id: str | None = Field(default=None, max_length=40, description="A mood event of yours")

    @model_validator(mode="after")
    def one_kind(self) -> MoodSpec:
        has_position = self.valence is not None or self.arousal is not None
        kinds = (self.label is not None) + has_position + (self.mood_event_id is not None)
        if kinds > 1:
            raise ValueError("give either a label, valence and arousal, or a mood_event_id, not both")
        if kinds == 0 or (has_position and (self.valence is None or self.arousal is None)):
            raise ValueError("give a label, both valence and arousal, or a mood_event_id")
        return self


class MelodyRequest(BaseModel):
    mood: MoodSpec
    bars: int = Field(default=8, ge=1, le=64, description="Length in 4/4 bars")
    tempo: float | None = Field(default=None, ge=20, le=300, description="Beats per minute; default from the mood")
    instrument: int | str = Field(default=0, description="General MIDI program 0–127, or its name "
                                  "(e.g. \"Acoustic Grand Piano\", \"Flute\")")
    temperature: float = Field(default=DEFAULT_TEMPERATURE, gt=0, le=4,
                               description="Sampling temperature: lower is safer, higher more adventurous")
    # Below 2^53 so JavaScript clients read it back exactly.
    seed: int | None = Field(default=None, ge=0, lt=2**53, description="Same seed and parameters, same melody")


# -- Spotify and recommendations --------------------------------------------------------------
class SpotifyLoginOut(BaseModel):
    authorize_url: str = Field(description="Open in the user's browser; Spotify returns to /v1/spotify/callback")


class SpotifyLinkOut(BaseModel):
    linked: bool
    spotify_user_id: str | None = None
    display_name: str | None = None
    scope: str | None = None
    linked_at: datetime | None = None


class RecommendationRequest(BaseModel):
    mood: MoodSpec
    limit: int = Field(default=20, ge=1, le=50)
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


class JourneyRequest(BaseModel):
    start: MoodSpec = Field(alias="from", description="Where the listener is now")
    to: MoodSpec | None = None
    preset: str | None = Field(default=None, description="Instead of `to`: " + ", ".join(
        ["calm me down", "cheer me up", "energize me", "wind down"]))
    length: int = Field(default=20, description="Tracks, 5–100")
    name: str | None = Field(default=None, min_length=1, max_length=200)
    save_to_spotify: bool = False

    model_config = {"populate_by_name": True}

    @model_validator(mode="after")
    def one_destination(self) -> JourneyRequest:
        if (self.to is None) == (self.preset is None):
            raise ValueError("give either `to` (a mood) or `preset`")
        return self
