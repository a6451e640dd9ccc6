"""A mood as callers name it (label, valence/arousal, or one of their stored mood events) → a position."""

from __future__ import annotations

from typing import NamedTuple

from orchestrator.core.errors import InvalidInputError
from orchestrator.moods.events import MoodEventRepository
from orchestrator.moods.mapping import EMOTION_VALENCE_AROUSAL
from orchestrator.moods.schemas import MoodSpec


class ResolvedMood(NamedTuple):
    label: str | None
    valence: float
    arousal: float


class MoodResolver:
    def __init__(self, events: MoodEventRepository) -> None:
        self.events = events

    async def resolve(self, spec: MoodSpec, viewer_id: str | None) -> ResolvedMood:
        if spec.label is not None:
            # Exactly as the schema lists them (schemas.MOOD_LABELS), as instrument names and journey presets
            # are: a variant in case or spacing is refused with the listed spelling, never guessed.
            label = spec.label
            if label not in EMOTION_VALENCE_AROUSAL:
                meant = label.strip().lower()
                hint = f"did you mean {meant!r}? " if meant in EMOTION_VALENCE_AROUSAL else ""
                raise InvalidInputError(422, f"unknown mood label {label!r}; {hint}known: "
                                             f"{sorted(EMOTION_VALENCE_AROUSAL)}")
            return ResolvedMood(label, *EMOTION_VALENCE_AROUSAL[label])
        if spec.mood_event_id is not None:
            event = await self.events.get_visible(spec.mood_event_id, viewer_id)
            if not event.mood:
                raise InvalidInputError(422, f"mood event {spec.mood_event_id} has no mood (e.g. no face was found)")
            return ResolvedMood(event.mood.get("label"), float(event.mood["valence"]), float(event.mood["arousal"]))
        # The schema requires both when there is neither a label nor an event.
        assert spec.valence is not None and spec.arousal is not None  # nosec B101  # invariant for mypy
        return ResolvedMood(None, spec.valence, spec.arousal)
