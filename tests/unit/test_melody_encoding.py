"""Encodings against a line-by-line port of Magenta's per-position loops, and key finding against music21."""

from __future__ import annotations

import numpy as np
import pytest

from music.encoding import (
    NUM_EVENT_CLASSES,
    LookbackMelodyEncoding,
    OneHotMelodyEncoding,
    class_to_event,
    encoding_by_name,
    event_to_class,
)
from music.events import NO_EVENT, NOTE_OFF, melody_notes, notes_to_events, transpose_into_range
from music.key_finding import find_key, in_key_ratio, key_correlation


def magenta_lookback_input(events: list[int], position: int) -> list[float]:
    """note_seq.LookbackEventSequenceEncoderDecoder.events_to_input, lookbacks (16, 32), 5 counter bits."""
    distances, bits = (16, 32), 5
    vector = [0.0] * (NUM_EVENT_CLASSES * 3 + bits + 2)
    vector[event_to_class(events[position])] = 1.0
    offset = NUM_EVENT_CLASSES
    for distance in distances:
        source = position - distance + 1
        event = NO_EVENT if source < 0 else events[source]
        vector[offset + event_to_class(event)] = 1.0
        offset += NUM_EVENT_CLASSES
    n = position + 1
    for i in range(bits):
        vector[offset] = 1.0 if (n // 2**i) % 2 else -1.0
        offset += 1
    for distance in distances:
        source = position - distance
        if source >= 0 and events[position] == events[source]:
            vector[offset] = 1.0
        offset += 1
    return vector


def magenta_lookback_label(events: list[int], position: int) -> int:
    distances = (16, 32)
    if position < distances[-1] and events[position] == NO_EVENT:
        return NUM_EVENT_CLASSES + len(distances) - 1
    for i, distance in reversed(list(enumerate(distances))):
        source = position - distance
        if source >= 0 and events[position] == events[source]:
            return NUM_EVENT_CLASSES + i
    return event_to_class(events[position])


def random_melody(seed: int, steps: int = 96) -> np.ndarray:
    rng = np.random.default_rng(seed)
    events = rng.choice([NO_EVENT, NO_EVENT, NO_EVENT, NOTE_OFF, 60, 62, 64, 65, 67, 69, 71, 72], size=steps)
    events[40:56] = events[24:40]  # a repeated bar, so the lookback classes occur
    return events.astype(np.int16)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lookback_encoding_matches_magenta(seed: int) -> None:
    events = random_melody(seed)
    encoding = LookbackMelodyEncoding()
    assert (encoding.input_size, encoding.num_classes) == (121, 40)
    inputs, labels = encoding.inputs(events), encoding.labels(events)
    listed = events.tolist()
    for position in range(len(events)):
        assert inputs[position].tolist() == magenta_lookback_input(listed, position)
    assert labels.tolist() == [magenta_lookback_label(listed, p) for p in range(1, len(events))]
    assert set(labels.tolist()) & {NUM_EVENT_CLASSES, NUM_EVENT_CLASSES + 1}


def test_lookback_classes_decode_to_the_repeated_event() -> None:
    events = random_melody(3)
    encoding = LookbackMelodyEncoding()
    for position, label in enumerate(encoding.labels(events), start=1):
        assert encoding.class_to_event(int(label), events[:position]) == events[position]


def test_one_hot_encoding_is_magentas_basic_rnn_layout() -> None:
    encoding = encoding_by_name("basic")
    assert isinstance(encoding, OneHotMelodyEncoding)
    assert (encoding.input_size, encoding.num_classes) == (38, 38)
    assert [event_to_class(e) for e in (NO_EVENT, NOTE_OFF, 48, 83)] == [0, 1, 2, 37]
    assert [class_to_event(c) for c in (0, 1, 2, 37)] == [NO_EVENT, NOTE_OFF, 48, 83]
    with pytest.raises(ValueError, match="outside"):
        event_to_class(84)
    with pytest.raises(ValueError, match="unknown melody encoding"):
        encoding_by_name("attention")


def test_step_inputs_equal_the_whole_sequence_rows() -> None:
    batch = np.stack([random_melody(s, 80) for s in range(3)])
    for encoding in (LookbackMelodyEncoding(), OneHotMelodyEncoding()):
        whole = np.stack([encoding.inputs(m) for m in batch])
        for t in range(batch.shape[1]):
            np.testing.assert_array_equal(encoding.step_inputs(batch[:, : t + 1]), whole[:, t])


def test_events_round_trip_through_notes() -> None:
    notes = [(60, 0, 4), (62, 4, 6), (64, 8, 16), (65, 8, 10)]  # 64 and 65 start together: highest wins
    events = notes_to_events(notes, 16)
    assert [(n.pitch, n.start_step, n.end_step) for n in melody_notes(events)] == [(60, 0, 4), (62, 4, 6), (65, 8, 10)]
    assert events[6] == NOTE_OFF
    folded = transpose_into_range(np.array([40, NO_EVENT, 90], dtype=np.int16), 0)
    assert folded.tolist() == [52, NO_EVENT, 78]


@pytest.mark.parametrize(("profile", "music21_method"), [("aarden_essen", "key"), ("bellman_budge", "key.bellman")])
def test_key_finding_agrees_with_music21(profile: str, music21_method: str) -> None:
    music21 = pytest.importorskip("music21")
    from music21 import note, stream

    rng = np.random.default_rng(5)
    scales = {"major": [0, 2, 4, 5, 7, 9, 11], "minor": [0, 2, 3, 5, 7, 8, 10]}
    checked = 0
    for trial in range(40):
        mode = "major" if trial % 2 else "minor"
        tonic = int(rng.integers(0, 12))
        pitches = [60 + tonic + rng.choice(scales[mode]) + 12 * int(rng.integers(-1, 1)) for _ in range(24)]
        pitches[0] = pitches[-1] = 60 + tonic
        lengths = rng.choice([1, 2, 2, 4], size=len(pitches))
        events, step, sequence = [], 0, stream.Stream()
        for pitch, length in zip(pitches, lengths, strict=True):
            events += [int(pitch)] + [NO_EVENT] * (int(length) - 1)
            sequence.append(note.Note(int(pitch), quarterLength=float(length) / 4))  # type: ignore[no-untyped-call]
            step += int(length)
        ours = find_key(np.array(events, dtype=np.int16), profile)
        theirs = sequence.analyze(music21_method)
        assert ours is not None
        assert (ours.tonic, ours.mode) == (theirs.tonic.pitchClass, theirs.mode), trial
        assert abs(ours.correlation - theirs.correlationCoefficient) < 1e-6
        if profile == "aarden_essen":  # the fit `key_correlation` gives to one key
            assert key_correlation(np.array(events, dtype=np.int16), ours.tonic, ours.mode) == pytest.approx(
                ours.correlation)
        checked += 1
    assert checked == 40
    assert music21 is not None


def test_in_key_ratio_and_empty_melody() -> None:
    c_major = np.array([60, NO_EVENT, 62, 64, 65, 67, 61], dtype=np.int16)
    assert in_key_ratio(c_major, 0, "major") == pytest.approx(5 / 6)  # six notes, C# is out
    assert find_key(np.full(16, NO_EVENT, dtype=np.int16)) is None
