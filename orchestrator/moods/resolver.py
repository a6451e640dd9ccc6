"""A mood as callers name it (a mood word, valence/arousal, one of their stored mood events, or free text)
→ a position."""

from __future__ import annotations

from typing import NamedTuple

from orchestrator.core.errors import InvalidInputError
from orchestrator.moods.events import MoodEventRepository
from orchestrator.moods.schemas import MoodSpec
from orchestrator.moods.text import TextMoodService
from orchestrator.moods.vocabulary import UnknownMoodWordError, lookup

# MoodSpec has no language field: free text in a mood is read as English, TextMoodRequest's default.
TEXT_LANGUAGE = "en"


class ResolvedMood(NamedTuple):
    label: str | None
    valence: float
    arousal: float


def unknown_word_reason(error: UnknownMoodWordError) -> str:
    meant = f"did you mean {', '.join(repr(s) for s in error.suggestions)}? " if error.suggestions else ""
    return f"unknown mood word {error.text!r}; {meant}GET /v1/moods/vocabulary lists them"


class MoodResolver:
    def __init__(self, events: MoodEventRepository, text: TextMoodService) -> None:
        self.events = events
        self.text = text

    async def resolve(self, spec: MoodSpec, viewer_id: str | None) -> ResolvedMood:
        if spec.label is not None:
            try:
                word = lookup(spec.label)
            except UnknownMoodWordError as error:
                raise InvalidInputError(422, unknown_word_reason(error)) from error
            return ResolvedMood(word.word, word.valence, word.arousal)
        if spec.mood_event_id is not None:
            event = await self.events.get_visible(spec.mood_event_id, viewer_id)
            if not event.mood:
                raise InvalidInputError(422, f"mood event {spec.mood_event_id} has no mood (e.g. no face was found)")
            return ResolvedMood(event.mood.get("label"), float(event.mood["valence"]), float(event.mood["arousal"]))
        if spec.text is not None:
            # A real analysis, stored as a mood event of the caller's as POST /v1/moods/text stores one.
            _event, scores = await self.text.analyze(spec.text, TEXT_LANGUAGE, viewer_id)
            if scores.mood is None:
                raise InvalidInputError(422, f"the text gave no mood: {scores.reason}")
            return ResolvedMood(scores.mood.label, scores.mood.valence, scores.mood.arousal)
        # The schema requires both when there is no other kind of mood.
        assert spec.valence is not None and spec.arousal is not None  # nosec B101  # invariant for mypy
        return ResolvedMood(None, spec.valence, spec.arousal)
