"""Magenta's melody encoders: events ↔ network inputs and class labels, apart from the model.

`OneHotMelodyEncoding` is `note_seq.MelodyOneHotEncoding(48, 84)` (basic_rnn: 38 classes, 0 = no
event, 1 = note-off, then pitches 48–83). `LookbackMelodyEncoding` is
`note_seq.LookbackEventSequenceEncoderDecoder` with lookbacks of one and two bars and a 5-bit metric
counter (lookback_rnn: 121 inputs, 40 classes; the two extra classes mean "repeat the event from one /
two bars ago"). Class indices and input layouts match Magenta's so its trained bundles load as-is.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from music.events import MAX_PITCH, MIN_PITCH, NO_EVENT, NOTE_OFF, STEPS_PER_BAR

NUM_SPECIAL_EVENTS = 2


def event_to_class(event: int) -> int:
    if event == NO_EVENT:
        return 0
    if event == NOTE_OFF:
        return 1
    if not MIN_PITCH <= event < MAX_PITCH:
        raise ValueError(f"pitch {event} outside the encodable range [{MIN_PITCH}, {MAX_PITCH})")
    return event - MIN_PITCH + NUM_SPECIAL_EVENTS


def class_to_event(index: int) -> int:
    if index == 0:
        return NO_EVENT
    if index == 1:
        return NOTE_OFF
    return index - NUM_SPECIAL_EVENTS + MIN_PITCH


NUM_EVENT_CLASSES = MAX_PITCH - MIN_PITCH + NUM_SPECIAL_EVENTS  # 38


class MelodyEncoding(Protocol):
    name: str
    input_size: int
    num_classes: int

    def inputs(self, events: np.ndarray) -> np.ndarray:
        """float32 [len(events), input_size]: row t encodes events[: t + 1] for predicting step t + 1."""

    def labels(self, events: np.ndarray) -> np.ndarray:
        """int64 [len(events) - 1]: the class of each next event given the ones before it."""

    def step_inputs(self, events: np.ndarray) -> np.ndarray:
        """float32 [batch, input_size]: the input row for the last step of each melody in a
        [batch, steps] array (what generation feeds one step at a time)."""

    def class_to_event(self, index: int, events: np.ndarray) -> int:
        """The event a sampled class stands for, given the melody so far."""


def _event_classes(events: np.ndarray) -> np.ndarray:
    classes = np.where(events == NO_EVENT, 0, np.where(events == NOTE_OFF, 1, events - MIN_PITCH + NUM_SPECIAL_EVENTS))
    if np.any((events >= 0) & ((events < MIN_PITCH) | (events >= MAX_PITCH))):
        raise ValueError(f"melody has pitches outside [{MIN_PITCH}, {MAX_PITCH})")
    return classes.astype(np.int64)


class OneHotMelodyEncoding:
    name = "basic"
    input_size = NUM_EVENT_CLASSES
    num_classes = NUM_EVENT_CLASSES

    def inputs(self, events: np.ndarray) -> np.ndarray:
        out = np.zeros((len(events), self.input_size), dtype=np.float32)
        out[np.arange(len(events)), _event_classes(events)] = 1.0
        return out

    def labels(self, events: np.ndarray) -> np.ndarray:
        return _event_classes(events)[1:]

    def step_inputs(self, events: np.ndarray) -> np.ndarray:
        out = np.zeros((events.shape[0], self.input_size), dtype=np.float32)
        out[np.arange(events.shape[0]), _event_classes(events[:, -1])] = 1.0
        return out

    def class_to_event(self, index: int, events: np.ndarray) -> int:
        return class_to_event(index)


class LookbackMelodyEncoding:
    name = "lookback"
    lookback_distances = (STEPS_PER_BAR, 2 * STEPS_PER_BAR)
    binary_counter_bits = 5
    input_size = NUM_EVENT_CLASSES * 3 + binary_counter_bits + 2  # 121
    num_classes = NUM_EVENT_CLASSES + 2  # 40

    def inputs(self, events: np.ndarray) -> np.ndarray:
        steps = len(events)
        classes = _event_classes(events)
        out = np.zeros((steps, self.input_size), dtype=np.float32)
        rows = np.arange(steps)
        out[rows, classes] = 1.0  # the last event
        offset = NUM_EVENT_CLASSES
        for distance in self.lookback_distances:
            # The event that would come next if the melody repeated itself `distance` steps back.
            source = rows - distance + 1
            looked = np.where(source >= 0, classes[np.clip(source, 0, None)], 0)
            out[rows, offset + looked] = 1.0
            offset += NUM_EVENT_CLASSES
        position = rows + 1  # metric position of the *next* event
        for bit in range(self.binary_counter_bits):
            out[:, offset] = np.where((position >> bit) & 1, 1.0, -1.0)
            offset += 1
        for distance in self.lookback_distances:
            source = rows - distance
            out[:, offset] = (source >= 0) & (events == events[np.clip(source, 0, None)])
            offset += 1
        return out

    def labels(self, events: np.ndarray) -> np.ndarray:
        classes = _event_classes(events)
        labels = classes[1:].copy()
        positions = np.arange(1, len(events))
        repeat_classes = [NUM_EVENT_CLASSES + i for i in range(len(self.lookback_distances))]
        assigned = np.zeros(len(labels), dtype=bool)
        # Magenta: a leading no-event before the longest lookback is "repeat the furthest".
        early = (positions < self.lookback_distances[-1]) & (events[1:] == NO_EVENT)
        labels[early] = repeat_classes[-1]
        assigned |= early
        for index in reversed(range(len(self.lookback_distances))):
            source = positions - self.lookback_distances[index]
            repeats = ~assigned & (source >= 0) & (events[1:] == events[np.clip(source, 0, None)])
            labels[repeats] = repeat_classes[index]
            assigned |= repeats
        return labels

    def step_inputs(self, events: np.ndarray) -> np.ndarray:
        batch, steps = events.shape
        position = steps - 1
        rows = np.arange(batch)
        out = np.zeros((batch, self.input_size), dtype=np.float32)
        out[rows, _event_classes(events[:, -1])] = 1.0
        offset = NUM_EVENT_CLASSES
        for distance in self.lookback_distances:
            source = position - distance + 1
            looked = _event_classes(events[:, source]) if source >= 0 else np.zeros(batch, dtype=np.int64)
            out[rows, offset + looked] = 1.0
            offset += NUM_EVENT_CLASSES
        for bit in range(self.binary_counter_bits):
            out[:, offset] = 1.0 if ((position + 1) >> bit) & 1 else -1.0
            offset += 1
        for distance in self.lookback_distances:
            source = position - distance
            if source >= 0:
                out[:, offset] = events[:, -1] == events[:, source]
            offset += 1
        return out

    def class_to_event(self, index: int, events: np.ndarray) -> int:
        if index >= NUM_EVENT_CLASSES:
            distance = self.lookback_distances[index - NUM_EVENT_CLASSES]
            return int(events[-distance]) if len(events) >= distance else NO_EVENT
        return class_to_event(index)


ENCODINGS: dict[str, type[OneHotMelodyEncoding] | type[LookbackMelodyEncoding]] = {
    OneHotMelodyEncoding.name: OneHotMelodyEncoding,
    LookbackMelodyEncoding.name: LookbackMelodyEncoding,
}


def encoding_by_name(name: str) -> OneHotMelodyEncoding | LookbackMelodyEncoding:
    try:
        return ENCODINGS[name]()
    except KeyError:
        raise ValueError(f"unknown melody encoding {name!r}; known: {sorted(ENCODINGS)}") from None
