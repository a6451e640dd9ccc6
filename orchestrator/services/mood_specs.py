"""A mood as callers name it (label, valence/arousal, or one of their stored mood events) → a position."""

from __future__ import annotations

from typing import NamedTuple

from orchestrator.errors import InvalidInputError
from orchestrator.schemas import MoodSpec
from orchestrator.services.mood_mapping import EMOTION_VALENCE_AROUSAL
from orchestrator.store.mood_events import MoodEventRepository


class ResolvedMood(NamedTuple):
    label: str | None
    valence: float
    arousal: float


class MoodResolver:
    def __init__(self, events: MoodEventRepository) -> None:
        self.events = events

    async def resolve(self, spec: MoodSpec, viewer_id: str | None) -> ResolvedMood:
        if spec.label is not None:
            label = spec.label  # exactly as the schema lists them (MOOD_LABELS): nothing else is accepted
            if label not in EMOTION_VALENCE_AROUSAL:
                raise InvalidInputError(422, f"unknown mood label {spec.label!r}; known: "
                                             f"{sorted(EMOTION_VALENCE_AROUSAL)}")
            return ResolvedMood(label, *EMOTION_VALENCE_AROUSAL[label])
        if spec.mood_event_id is not None:
            event = await self.events.get_visible(spec.mood_event_id, viewer_id)
            if not event.mood:
                raise InvalidInputError(422, f"mood event {spec.mood_event_id} has no mood (e.g. no face was found)")
            return ResolvedMood(event.mood.get("label"), float(event.mood["valence"]), float(event.mood["arousal"]))
        # bandit: an invariant for mypy (the schema requires both), not an input check (B101)
        assert spec.valence is not None and spec.arousal is not None  # nosec B101
        return ResolvedMood(None, spec.valence, spec.arousal)
