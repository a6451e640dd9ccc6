"""Magenta's monophonic melody events on a 16th-note grid.

A melody is a 1-D int array with one entry per step: a MIDI pitch starts a note, `NOTE_OFF` ends the
sounding note, `NO_EVENT` keeps whatever is happening (a held note or a rest).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NO_EVENT = -2
NOTE_OFF = -1
STEPS_PER_QUARTER = 4
STEPS_PER_BAR = 16  # 4/4: every generated melody is written in common time
MIN_PITCH = 48  # Magenta's melody_rnn range: C3 ..
MAX_PITCH = 84  # .. B5 (exclusive upper bound)


@dataclass(frozen=True)
class Note:
    pitch: int
    start_step: int
    end_step: int


def melody_notes(events: np.ndarray) -> list[Note]:
    """The notes a melody plays; a note lasts until the next note-on or note-off (or the end)."""
    notes: list[Note] = []
    pitch, start = -1, 0
    for step, event in enumerate(events.tolist()):
        if event == NO_EVENT:
            continue
        if pitch >= 0:
            notes.append(Note(pitch, start, step))
        pitch, start = (event, step) if event >= 0 else (-1, step)
    if pitch >= 0:
        notes.append(Note(pitch, start, len(events)))
    return notes


def notes_to_events(notes: list[tuple[int, int, int]], total_steps: int) -> np.ndarray:
    """Events for (pitch, start_step, end_step) notes, keeping the highest pitch where onsets collide
    (Magenta's `ignore_polyphonic_notes`) and cutting a note short when the next one starts."""
    onsets: dict[int, tuple[int, int]] = {}
    for pitch, start, end in notes:
        if 0 <= start < total_steps and end > start and (start not in onsets or pitch > onsets[start][0]):
            onsets[start] = (pitch, end)
    events = np.full(total_steps, NO_EVENT, dtype=np.int16)
    starts = sorted(onsets)
    for index, start in enumerate(starts):
        pitch, end = onsets[start]
        events[start] = pitch
        next_start = starts[index + 1] if index + 1 < len(starts) else total_steps
        if end < next_start:
            events[end] = NOTE_OFF
    return events


def transpose_into_range(events: np.ndarray, semitones: int) -> np.ndarray:
    """Shift every pitch, then fold notes outside [MIN_PITCH, MAX_PITCH) back by whole octaves."""
    shifted = events.astype(np.int16).copy()
    pitched = shifted >= 0
    values = shifted[pitched] + semitones
    values = np.where(values < MIN_PITCH, values + 12 * ((MIN_PITCH - values + 11) // 12), values)
    values = np.where(values >= MAX_PITCH, values - 12 * ((values - MAX_PITCH) // 12 + 1), values)
    shifted[pitched] = values
    return shifted
