"""Response and request bodies of the public API.

Requests are strict and carry the input rules (lengths, ranges, the listed names); answers are separate, lenient
models with the same fields, built from stored documents that may predate today's rules. The names and ranges
come from the modules that define them, never copied here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, EmailStr, Field, field_validator, model_validator

from music.instruments import GENERAL_MIDI_INSTRUMENTS
from music.mood_targets import DEFAULT_TEMPERATURE
from orchestrator.catalog.journey import JOURNEY_PRESETS
from orchestrator.catalog.journey import MAX_STEPS as JOURNEY_MAX_STEPS
from orchestrator.catalog.journey import MIN_STEPS as JOURNEY_MIN_STEPS
from orchestrator.security.passwords import MAX_LENGTH as PASSWORD_MAX
from orchestrator.security.passwords import MIN_LENGTH as PASSWORD_MIN
from orchestrator.services.mood_mapping import EMOTION_VALENCE_AROUSAL

# Names the API accepts exactly as listed (no case or spacing variants): the schema's enums, so that a client
# can offer them as a choice and the schema-driven fuzzing holds the server to them both ways.
MOOD_LABELS = sorted(EMOTION_VALENCE_AROUSAL)
JOURNEY_PRESET_NAMES = sorted(JOURNEY_PRESETS)
PASSWORD_LENGTH: dict[str, Any] = {"minLength": PASSWORD_MIN, "maxLength": PASSWORD_MAX}


def _integral_number(value: Any) -> Any:
    # JSON has one number type: 5.0 is the integer 5 (as JSON Schema's "integer" says); 5.5 stays refused.
    return int(value) if isinstance(value, float) and value.is_integer() else value


# An integer in a request body: also written as 5.0, never as "5" or true. (In an optional field, constraints
# go before it, `Annotated[int, Field(ge=0), INTEGRAL] | None`: after it pydantic writes "ge" into the schema.)
INTEGRAL = BeforeValidator(_integral_number)
JsonInt = Annotated[int, INTEGRAL]


def _has_unpaired_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_unpaired_surrogate(k) or _has_unpaired_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_unpaired_surrogate(item) for item in value)
    return False


class RequestModel(BaseModel):
    """A request body: strict, so that it accepts what its schema says and nothing else (no `false` for 0,
    no "8" for 8): the schema-driven fuzzing holds the API to its schema both ways."""

    model_config = ConfigDict(strict=True)

    @model_validator(mode="before")
    @classmethod
    def valid_unicode(cls, data: Any) -> Any:
        # JSON may escape half of a surrogate pair ("\ud83d" alone): no Unicode text, it cannot be stored
        # (MongoDB wants UTF-8) nor sent back, so it is refused here rather than failing later with a 500.
        if _has_unpaired_surrogate(data):
            raise ValueError("strings must be valid Unicode: an unpaired surrogate (\\ud800-\\udfff) was sent")
        return data


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


class TextMoodRequest(RequestModel):
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
    """Every refusal: 4xx and 503 answers all carry `detail`."""

    detail: str = Field(description="Why, in words")


class FieldErrorOut(BaseModel):
    loc: list[str | int] = Field(description='Where: e.g. ["body", "mood", "label"] or ["query", "limit"]')
    msg: str
    type: str = Field(description="Kind of error, e.g. missing, string_too_long, greater_than_equal")


class ValidationErrorOut(ErrorOut):
    errors: list[FieldErrorOut] = Field(default_factory=list, description="Each invalid field, when the "
                                        "request did not match its schema (absent when a rule beyond it refused)")


class UnavailableOut(ErrorOut):
    dependency: str = Field(description="What is unavailable, e.g. mongodb, redis, object storage, model:emotion")


# -- accounts ---------------------------------------------------------------------------------
class SignUpRequest(RequestModel):
    email: EmailStr
    # The length in the schema; checked with the other rules (security/passwords.py), which word the refusal.
    password: str = Field(json_schema_extra=PASSWORD_LENGTH,
                          description="Not only letters or only digits, and not containing the email's name")
    display_name: str | None = Field(default=None, max_length=80)


class UserOut(BaseModel):
    id: str
    email: str
    display_name: str | None
    created_at: datetime


def _optional_password_length(schema: dict[str, Any]) -> None:
    schema["anyOf"][0].update(PASSWORD_LENGTH)


class UserPatch(RequestModel):
    display_name: str | None = Field(default=None, max_length=80)
    password: str | None = Field(default=None, json_schema_extra=_optional_password_length,
                                 description="A new password (the sign-up rules); needs current_password")
    current_password: str | None = Field(default=None, max_length=PASSWORD_MAX)


class TokenOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds the access token lives")


class RefreshRequest(RequestModel):
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
class Track(RequestModel):
    title: str = Field(min_length=1, max_length=300)
    artist: str = Field(min_length=1, max_length=300)
    uri: str | None = Field(default=None, max_length=300, description="e.g. spotify:track:…")
    # At most a day: longer is no track (and MongoDB stores integers of at most 8 bytes).
    duration_ms: Annotated[int, Field(ge=0, le=24 * 3600 * 1000), INTEGRAL] | None = None


class PlaylistMood(RequestModel):
    label: str
    valence: float = Field(ge=-1, le=1)
    arousal: float = Field(ge=-1, le=1)


class PlaylistIn(RequestModel):
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    mood: PlaylistMood | None = None
    tracks: list[Track] = Field(default_factory=list, max_length=500)
    spotify_id: str | None = Field(default=None, max_length=100)
    spotify_url: str | None = Field(default=None, max_length=500)


def _absent_or_value(schema: dict[str, Any]) -> None:
    """The schema of a field that may be left out but not be null (its validator refuses null)."""
    options = [option for option in schema.pop("anyOf") if option != {"type": "null"}]
    schema.update(options[0])
    schema.pop("default", None)


class PlaylistPatch(RequestModel):
    """Only the fields sent change; a name and the tracks may be left out, never set to null."""

    name: str | None = Field(default=None, min_length=1, max_length=200, json_schema_extra=_absent_or_value)
    description: str | None = Field(default=None, max_length=2000)
    mood: PlaylistMood | None = None
    tracks: list[Track] | None = Field(default=None, max_length=500, json_schema_extra=_absent_or_value)
    spotify_id: str | None = Field(default=None, max_length=100)
    spotify_url: str | None = Field(default=None, max_length=500)

    @field_validator("name", "tracks", mode="before")
    @classmethod
    def not_null(cls, value: Any) -> Any:
        # A playlist always has a name and a list of tracks: null would store one that cannot be read back.
        if value is None:
            raise ValueError("leave it out to keep it; it cannot be null")
        return value


class TrackOut(BaseModel):
    """A stored track as it is: the input rules (lengths, at most a day) are not checked on the way out."""

    title: str
    artist: str
    uri: str | None = Field(default=None, description="e.g. spotify:track:…")
    duration_ms: int | None = None


class PlaylistMoodOut(BaseModel):
    label: str
    valence: float
    arousal: float


class PlaylistOut(BaseModel):
    """A stored playlist: PlaylistIn's fields without its input rules, since a document written before a rule
    was added (or by a journey, from catalog data) must still be readable rather than answered with a 500."""

    name: str
    description: str | None = None
    mood: PlaylistMoodOut | None = None
    tracks: list[TrackOut] = Field(default_factory=list)
    spotify_id: str | None = None
    spotify_url: str | None = None
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


def _one_kind_of_mood(schema: dict[str, Any]) -> None:
    """The schema of MoodSpec's rule: exactly one kind of mood (a null counts as absent), a known label."""
    properties = schema["properties"]
    properties["label"]["anyOf"][0]["enum"] = MOOD_LABELS
    none: dict[str, Any] = {"type": "null"}

    def kind(*present: str) -> dict[str, Any]:
        return {"required": list(present),
                "properties": {name: none for name in ("label", "valence", "arousal", "mood_event_id")
                               if name not in present} | {name: {"not": none} for name in present}}

    schema["oneOf"] = [kind("label"), kind("valence", "arousal"), kind("mood_event_id")]


class MoodSpec(RequestModel):
    """One of: an emotion label (e.g. "happy", "sad"), a valence/arousal position, or a stored mood event."""

    model_config = ConfigDict(json_schema_extra=_one_kind_of_mood)

    label: str | None = Field(default=None, max_length=40, examples=["happy"], description="Exactly as listed")
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


def _instrument_names(schema: dict[str, Any]) -> None:
    for option in schema["anyOf"]:
        if option.get("type") == "integer":
            option.update(minimum=0, maximum=127)
        elif option.get("type") == "string":
            option["enum"] = list(GENERAL_MIDI_INSTRUMENTS)


class MelodyRequest(RequestModel):
    mood: MoodSpec
    bars: JsonInt = Field(default=8, ge=1, le=64, description="Length in 4/4 bars")
    tempo: float | None = Field(default=None, ge=20, le=300, description="Beats per minute; default from the mood")
    instrument: JsonInt | str = Field(default=0, json_schema_extra=_instrument_names,
                                  description="General MIDI program 0–127, or its name exactly as listed (e.g. "
                                  "\"Acoustic Grand Piano\", \"Flute\")")
    temperature: float = Field(default=DEFAULT_TEMPERATURE, gt=0, le=4,
                               description="Sampling temperature: lower is safer, higher more adventurous")
    # Below 2^53 so JavaScript clients read it back exactly.
    seed: Annotated[int, Field(ge=0, lt=2**53), INTEGRAL] | None = Field(
        default=None, description="Same seed and parameters, same melody")


# -- Spotify and recommendations --------------------------------------------------------------
class SpotifyLoginOut(BaseModel):
    authorize_url: str = Field(description="Open in the user's browser; Spotify returns to /v1/spotify/callback")


class SpotifyLinkOut(BaseModel):
    linked: bool
    spotify_user_id: str | None = None
    display_name: str | None = None
    scope: str | None = None
    linked_at: datetime | None = None


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


def _one_destination(schema: dict[str, Any]) -> None:
    """The schema of JourneyRequest's rule: `to` or `preset` (a known one), not both."""
    schema["properties"]["preset"]["anyOf"][0]["enum"] = JOURNEY_PRESET_NAMES
    none: dict[str, Any] = {"type": "null"}
    schema["oneOf"] = [{"required": [given], "properties": {given: {"not": none}, other: none}}
                       for given, other in (("to", "preset"), ("preset", "to"))]


class JourneyRequest(RequestModel):
    model_config = ConfigDict(populate_by_name=True, json_schema_extra=_one_destination)

    start: MoodSpec = Field(alias="from", description="Where the listener is now")
    to: MoodSpec | None = None
    preset: str | None = Field(default=None, description="Instead of `to`: one of the listed names, exactly")
    length: JsonInt = Field(default=20, description=f"Tracks, {JOURNEY_MIN_STEPS} to {JOURNEY_MAX_STEPS}",
                        json_schema_extra={"minimum": JOURNEY_MIN_STEPS, "maximum": JOURNEY_MAX_STEPS})
    name: str | None = Field(default=None, min_length=1, max_length=200)
    save_to_spotify: bool = False

    @field_validator("length")
    @classmethod
    def steps_in_range(cls, length: int) -> int:
        # Not ge/le: this message names the range, as the journey builder's own check does.
        if not JOURNEY_MIN_STEPS <= length <= JOURNEY_MAX_STEPS:
            raise ValueError(f"a journey has {JOURNEY_MIN_STEPS} to {JOURNEY_MAX_STEPS} steps (length {length})")
        return length

    @model_validator(mode="after")
    def one_destination(self) -> JourneyRequest:
        if (self.to is None) == (self.preset is None):
            raise ValueError("give either `to` (a mood) or `preset`")
        return self
