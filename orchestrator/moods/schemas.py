"""Bodies of the mood routes: face, text and fused answers, mood events and history, and `MoodSpec`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from orchestrator.http.bodies import RequestModel
from orchestrator.moods.vocabulary import VOCABULARY, Group

# The mood words (orchestrator/moods/vocabulary.py), as the label's description lists them. Not an enum: a
# label is looked up case- and space-insensitively and by its synonyms, which an enum cannot say.
MOOD_WORDS = [mood.word for mood in VOCABULARY]
MAX_MOOD_TEXT_CHARS = 500


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
    emotions: dict[str, float] = Field(description="Share of each label of the served text model (sums to 1): "
                                                   "what the mood is computed from")
    top_emotion: str
    top_score: float
    labels: list[str] = Field(default_factory=list, description="Every label the text carries, strongest first: "
                              "the top one, and for a multi-label model (sentiment 2.0.0) each other label whose "
                              "own score reaches its threshold, e.g. [\"joy\", \"surprise\"]")
    label_scores: dict[str, float] = Field(default_factory=dict, description="The model's own score of each label: "
                                           "independent sigmoids (0–1 each) for a multi-label model, the "
                                           "probabilities again for a single-label one")
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


class MoodHistoryOut(BaseModel):
    items: list[MoodEventOut]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next (older) page; null at the end")


class DayMoodOut(BaseModel):
    day: str
    events: int
    mean_valence: float
    mean_arousal: float


class MoodWordOut(BaseModel):
    word: str
    group: Group = Field(description="circumplex (Russell 1980; Posner et al. 2005), music, or emotion "
                                     "(a label of the face and text models)")
    valence: float = Field(ge=-1, le=1, description="Unpleasant (-1) to pleasant (+1): (V - 5) / 4")
    arousal: float = Field(ge=-1, le=1, description="Calm (-1) to excited (+1): (A - 5) / 4")
    intensity: float = Field(ge=0, le=1, description="Distance from the neutral centre (0, 0), at most 1")
    synonyms: list[str] = Field(description="Also accepted as the label, for this word")
    source: str = Field(description='Where the position comes from, e.g. "Warriner et al. 2013: V 6.89, A 1.67" '
                                    "(mean valence V and arousal A, 1-9)")


class MoodVocabularyOut(BaseModel):
    words: list[MoodWordOut] = Field(description="Sorted by group, then word")


class MoodSummaryOut(BaseModel):
    since: datetime
    until: datetime
    events: int = Field(description="Events with a mood in the period")
    counts: dict[str, int] = Field(description="Events per mood label, most frequent first")
    days: list[DayMoodOut]


_KINDS = ("label", "valence", "arousal", "mood_event_id", "text")


def _one_kind_of_mood(schema: dict[str, Any]) -> None:
    """The schema of MoodSpec's rule: exactly one kind of mood (a null counts as absent)."""
    none: dict[str, Any] = {"type": "null"}

    def kind(*present: str) -> dict[str, Any]:
        return {"required": list(present),
                "properties": {name: none for name in _KINDS if name not in present}
                | {name: {"not": none} for name in present}}

    schema["oneOf"] = [kind("label"), kind("valence", "arousal"), kind("mood_event_id"), kind("text")]


class MoodSpec(RequestModel):
    """One of: a mood word (e.g. "calm", "energetic", "happy"), a valence/arousal position, a stored mood event,
    or a few words of free text, whose mood the text model reads."""

    model_config = ConfigDict(json_schema_extra=_one_kind_of_mood)

    label: str | None = Field(
        default=None, max_length=40, examples=["calm", "energetic"],
        description="A mood word or one of its synonyms, in any case and spacing (GET /v1/moods/vocabulary lists "
                    f"them with their positions): {', '.join(MOOD_WORDS)}")
    valence: float | None = Field(default=None, ge=-1, le=1)
    arousal: float | None = Field(default=None, ge=-1, le=1)
    mood_event_id: str | None = Field(default=None, max_length=40, description="A mood event of yours")
    text: str | None = Field(default=None, min_length=1, max_length=MAX_MOOD_TEXT_CHARS,
                             examples=["rainy sunday, want to slow down"],
                             description="Free text (English) whose mood the text model reads; stored as a mood "
                                         "event, as POST /v1/moods/text does")

    @model_validator(mode="after")
    def one_kind(self) -> MoodSpec:
        has_position = self.valence is not None or self.arousal is not None
        kinds = (self.label is not None) + has_position + (self.mood_event_id is not None) + (self.text is not None)
        if kinds > 1:
            raise ValueError("give one kind of mood (a label, valence and arousal, a mood_event_id or a text), "
                             "not both")
        if kinds == 0 or (has_position and (self.valence is None or self.arousal is None)):
            raise ValueError("give a label, both valence and arousal, a mood_event_id or a text")
        return self
