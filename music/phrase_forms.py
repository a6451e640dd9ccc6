"""Phrase forms: which bars of a tune repeat an earlier bar, as a plan for generating a new one.

Songs are built from phrases that come back: in music21's folk tunes (the melody model's training split), a bar
most often repeats the bar four back (the second half of a period restating its first), then eight and two back.
A *form* lists, bar by bar, how many bars back that bar repeats exactly (0: a new bar). The generator samples a
form from those of the training tunes and copies the planned bars while it samples, so its melodies repeat as
often, and at the same distances, as the tunes it learned from; the bars between are the model's own. Busy
tunes (reels, jigs) repeat whole bars less often than slow airs, so a form is drawn from the tunes nearest the
melody's density in notes per bar.
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
NEIGHBOUR_SHARE = 0.25  # a form is drawn from this share of the tunes, those nearest the requested density


@dataclass(frozen=True)
class PhraseForms:
    forms: tuple[tuple[int, ...], ...]  # each FORM_BARS lags (0 = a new bar)
    weights: tuple[int, ...]  # how many training tunes have each form
    # Per form, the notes per bar (over its FORM_BARS bars) of each tune that has it; empty where not recorded.
    densities: tuple[tuple[float, ...], ...] = ()

    def draw(self, rng: np.random.Generator, notes_per_bar: float | None = None) -> tuple[int, ...]:
        """A form, as often as the training tunes have it; with `notes_per_bar` (and densities recorded), the
        form of one of the NEIGHBOUR_SHARE of tunes nearest that density."""
        if notes_per_bar is None or not self.densities:
            probabilities = np.asarray(self.weights, dtype=float) / sum(self.weights)
            return self.forms[int(rng.choice(len(self.forms), p=probabilities))]
        form_of_tune = np.repeat(np.arange(len(self.forms)), [len(d) for d in self.densities])
        distance = np.abs(np.concatenate([np.asarray(d, dtype=float) for d in self.densities]) - notes_per_bar)
        nearest = np.argsort(distance, kind="stable")[: max(1, round(NEIGHBOUR_SHARE * len(distance)))]
        return self.forms[int(form_of_tune[nearest[int(rng.integers(len(nearest)))]])]

    def to_dict(self) -> dict[str, Any]:
        return {"forms": [list(f) for f in self.forms], "weights": list(self.weights),
                "densities": [[round(d, 3) for d in tunes] for tunes in self.densities]}

    @classmethod
    def from_dict(cls, document: dict[str, Any]) -> PhraseForms:
        forms = tuple(tuple(int(lag) for lag in form) for form in document["forms"])
        weights = tuple(int(w) for w in document["weights"])
        densities = tuple(tuple(float(d) for d in tunes) for tunes in document.get("densities", []))
        if not forms or len(forms) != len(weights) or any(len(f) != FORM_BARS for f in forms):
            raise ValueError(f"phrase forms need {FORM_BARS} lags each and one weight per form")
        if any(not 0 <= lag <= bar for form in forms for bar, lag in enumerate(form)):
            raise ValueError("a bar can only repeat an earlier bar")
        if densities and [len(d) for d in densities] != list(weights):
            raise ValueError("densities need one value per tune of each form")
        return cls(forms, weights, densities)


def bar_cells(events: np.ndarray, bars: int | None = None) -> list[bytes]:
    """Each whole bar's events (the first `bars`, or all of them) as bytes, for telling identical bars apart."""
    count = len(events) // STEPS_PER_BAR if bars is None else bars
    return [np.asarray(events[b * STEPS_PER_BAR:(b + 1) * STEPS_PER_BAR], dtype=np.int16).tobytes()
            for b in range(count)]


def form_of(events: np.ndarray, bars: int = FORM_BARS) -> tuple[int, ...]:
    """For each of the first `bars` bars, the smallest distance back to an identical bar (0: none)."""
    cells = bar_cells(events, bars)
    return tuple(next((lag for lag in range(1, bar + 1) if cells[bar] == cells[bar - lag]), 0)
                 for bar in range(bars))


def collect_forms(tunes: list[np.ndarray]) -> PhraseForms:
    """The forms of every tune at least FORM_BARS long, with their counts (most common first) and the densities
    of the tunes behind each."""
    steps = FORM_BARS * STEPS_PER_BAR
    long_enough = [t for t in tunes if len(t) >= steps]
    if not long_enough:
        raise ValueError(f"no tune is {FORM_BARS} bars long")
    densities: dict[tuple[int, ...], list[float]] = {}
    for tune in long_enough:
        densities.setdefault(form_of(tune), []).append(float(np.count_nonzero(tune[:steps] >= 0)) / FORM_BARS)
    ranked = Counter({form: len(found) for form, found in densities.items()}).most_common()
    return PhraseForms(tuple(f for f, _ in ranked), tuple(c for _, c in ranked),
                       tuple(tuple(densities[f]) for f, _ in ranked))


def copy_plan(form: tuple[int, ...], bars: int) -> np.ndarray:
    """[bars · STEPS_PER_BAR]: the step each step copies (-1: sampled). Longer melodies repeat the form's lags."""
    plan = np.full(bars * STEPS_PER_BAR, -1, dtype=np.int64)
    for bar in range(bars):
        lag = form[bar % FORM_BARS]
        if lag and bar >= lag:
            start = bar * STEPS_PER_BAR
            plan[start:start + STEPS_PER_BAR] = np.arange(start, start + STEPS_PER_BAR) - lag * STEPS_PER_BAR
    return plan


def unplanned_repeats(events: np.ndarray, plan: np.ndarray | None) -> int:
    """Bars the model sampled (not copied by `plan`) that equal an earlier bar exactly: loops no form asked for."""
    seen: set[bytes] = set()
    repeats = 0
    for bar, cell in enumerate(bar_cells(events)):
        repeats += cell in seen and (plan is None or plan[bar * STEPS_PER_BAR] < 0)
        seen.add(cell)
    return repeats
