"""Phrase forms: which bars of a tune repeat an earlier bar, as a plan for generating a new one.

Songs are built from phrases that come back: in music21's folk tunes (the melody model's training split), a bar
most often repeats the bar four back (the second half of a period restating its first), then eight and two back.
A *form* lists, bar by bar, how many bars back that bar repeats exactly (0: a new bar). The generator samples a
form from those of the training tunes and copies the planned bars while it samples, so its melodies repeat as
often, and at the same distances, as the tunes it learned from; the bars between are the model's own.
`training/phrase_forms.py` extracts the forms into the model directory's `phrase_forms.json`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from music.events import STEPS_PER_BAR

FORM_BARS = 16
FORMS_FILE = "phrase_forms.json"


@dataclass(frozen=True)
class PhraseForms:
    forms: tuple[tuple[int, ...], ...]  # each FORM_BARS lags (0 = a new bar)
    weights: tuple[int, ...]  # how many training tunes have each form

    def draw(self, rng: np.random.Generator) -> tuple[int, ...]:
        probabilities = np.asarray(self.weights, dtype=float) / sum(self.weights)
        return self.forms[int(rng.choice(len(self.forms), p=probabilities))]

    def to_dict(self) -> dict[str, Any]:
        return {"forms": [list(f) for f in self.forms], "weights": list(self.weights)}

    @classmethod
    def from_dict(cls, document: dict[str, Any]) -> PhraseForms:
        forms = tuple(tuple(int(lag) for lag in form) for form in document["forms"])
        weights = tuple(int(w) for w in document["weights"])
        if not forms or len(forms) != len(weights) or any(len(f) != FORM_BARS for f in forms):
            raise ValueError(f"phrase forms need {FORM_BARS} lags each and one weight per form")
        if any(not 0 <= lag <= bar for form in forms for bar, lag in enumerate(form)):
            raise ValueError("a bar can only repeat an earlier bar")
        return cls(forms, weights)


def form_of(events: np.ndarray, bars: int = FORM_BARS) -> tuple[int, ...]:
    """For each of the first `bars` bars, the smallest distance back to an identical bar (0: none)."""
    cells = [np.asarray(events[b * STEPS_PER_BAR:(b + 1) * STEPS_PER_BAR], dtype=np.int16).tobytes()
             for b in range(bars)]
    return tuple(next((lag for lag in range(1, bar + 1) if cells[bar] == cells[bar - lag]), 0)
                 for bar in range(bars))


def collect_forms(tunes: list[np.ndarray]) -> PhraseForms:
    """The forms of every tune at least FORM_BARS long, with their counts (most common first)."""
    counts = Counter(form_of(t) for t in tunes if len(t) >= FORM_BARS * STEPS_PER_BAR)
    if not counts:
        raise ValueError(f"no tune is {FORM_BARS} bars long")
    ranked = counts.most_common()
    return PhraseForms(tuple(f for f, _ in ranked), tuple(c for _, c in ranked))


def copy_plan(form: tuple[int, ...], bars: int) -> np.ndarray:
    """[bars · STEPS_PER_BAR]: the step each step copies (-1: sampled). Longer melodies repeat the form's lags."""
    plan = np.full(bars * STEPS_PER_BAR, -1, dtype=np.int64)
    for bar in range(bars):
        lag = form[bar % FORM_BARS]
        if lag and bar >= lag:
            start = bar * STEPS_PER_BAR
            plan[start:start + STEPS_PER_BAR] = np.arange(start, start + STEPS_PER_BAR) - lag * STEPS_PER_BAR
    return plan
