"""Bodies of the melody and job routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, Field

from music.instruments import GENERAL_MIDI_INSTRUMENTS
from music.mood_targets import DEFAULT_TEMPERATURE
from orchestrator.http.bodies import INTEGRAL, JsonInt, RequestModel
from orchestrator.moods.schemas import MoodSpec

Part = Literal["melody", "chords", "bass", "drums"]  # music.piece.PARTS, spelled out for the schema
ALL_PARTS: tuple[Part, ...] = get_args(Part)


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
    files: dict[str, str] | None = Field(default=None, description="Presigned download URLs once the job "
                                         "succeeded: midi (a track per part), wav and ogg (the mix), and with several "
                                         "parts one OGG stem each (stem_melody, stem_chords, stem_bass, stem_drums)")
    error: str | None
    created_at: datetime
    updated_at: datetime


class GenerationJobPage(BaseModel):
    items: list[GenerationJobOut]
    next_cursor: str | None


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
    parts: list[Part] = Field(default_factory=lambda: list(ALL_PARTS), min_length=1, max_length=len(ALL_PARTS),
                              description="The parts to make: the melody, chords and a bass line under it, and "
                              "drums when the mood's arousal is at least 0.3 (they are left out below). "
                              "[\"melody\"] gives the melody alone")
    temperature: float = Field(default=DEFAULT_TEMPERATURE, gt=0, le=4,
                               description="Sampling temperature: lower is safer, higher more adventurous")
    # Below 2^53 so JavaScript clients read it back exactly.
    seed: Annotated[int, Field(ge=0, lt=2**53), INTEGRAL] | None = Field(
        default=None, description="Same seed and parameters, same melody")
