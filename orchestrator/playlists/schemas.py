"""Bodies of the playlist routes: saved playlists, their tracks and moods, and journey requests."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from orchestrator.catalog.journey import JOURNEY_PRESETS
from orchestrator.catalog.journey import MAX_STEPS as JOURNEY_MAX_STEPS
from orchestrator.catalog.journey import MIN_STEPS as JOURNEY_MIN_STEPS
from orchestrator.http.bodies import INTEGRAL, JsonInt, RequestModel
from orchestrator.moods.schemas import MoodSpec

JOURNEY_PRESET_NAMES = sorted(JOURNEY_PRESETS)
# A link the try page and other clients put in an <a href>: https only, so `javascript:` or `data:` cannot ride in.
HTTPS_URL = r"^https://[^\s/?#@]+(/[^\s]*)?$"


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
    spotify_url: str | None = Field(default=None, max_length=500, pattern=HTTPS_URL,
                                    description="An https:// link to the playlist on Spotify")


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
    spotify_url: str | None = Field(default=None, max_length=500, pattern=HTTPS_URL,
                                    description="An https:// link to the playlist on Spotify")

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
