"""The accompaniment's harmony rules, textures by arousal, parts, determinism, and multi-track rendering."""

from __future__ import annotations

from typing import get_args

import numpy as np
import pytest

from music.accompaniment import DRUMS_FROM_AROUSAL, arrange
from music.events import NO_EVENT, STEPS_PER_BAR, melody_notes
from music.harmony import diatonic_chords, harmonize
from music.piece import PARTS
from music.rendering import piece_midi, render_stems
from orchestrator.melodies.schemas import Part
from orchestrator.melodies.service import resolve_parts

C_MAJOR_SCALE = [60, 62, 64, 65, 67, 69, 71, 72]


def melody(pitches: list[int], step: int = 4) -> np.ndarray:
    events = np.full(len(pitches) * step, NO_EVENT, dtype=np.int16)
    events[::step] = pitches
    return events


def random_melody(seed: int, bars: int = 8) -> np.ndarray:
    rng = np.random.default_rng(seed)
    events = np.full(bars * STEPS_PER_BAR, NO_EVENT, dtype=np.int16)
    onsets = np.flatnonzero(rng.random(len(events)) < 0.4)
    events[onsets] = rng.choice(C_MAJOR_SCALE, size=len(onsets))
    return events


def test_the_diatonic_triads_are_the_textbook_ones() -> None:
    major = {c.numeral: c.name for c in diatonic_chords(0, "major")}
    assert major == {"I": "C", "ii": "Dm", "iii": "Em", "IV": "F", "V": "G", "vi": "Am"}
    minor = {c.numeral: c.name for c in diatonic_chords(9, "minor")}  # A minor: harmonic minor's dominant
    assert minor == {"i": "Am", "ii°": "Bdim", "III": "C", "iv": "Dm", "V": "E", "VI": "F", "VII": "G"}
    assert diatonic_chords(9, "minor")[4].tones == (4, 8, 11)  # E G# B


@pytest.mark.parametrize("seed", range(12))
def test_the_downbeat_note_is_a_chord_tone(seed: int) -> None:
    events = random_melody(seed)
    chords = harmonize(events, 0, "major")
    assert len(chords) == 8
    for note in melody_notes(events):
        if note.start_step % STEPS_PER_BAR == 0:
            assert note.pitch % 12 in chords[note.start_step // STEPS_PER_BAR].tones, (seed, note)


def test_a_tune_that_can_cadence_ends_dominant_then_tonic_from_the_tonic() -> None:
    # C E G E | F A C A | D F A F | G B D B | E G C G | F A C A | G B D G | C . . .
    pitches = [60, 64, 67, 64, 65, 69, 72, 69, 62, 65, 69, 65, 67, 71, 74, 71, 64, 67, 72, 67, 65, 69, 72, 69,
               67, 71, 74, 67, 72, 72, 72, 72]
    chords = [c.numeral for c in harmonize(melody(pitches), 0, "major")]
    assert chords[0] == "I" and chords[-2:] == ["V", "I"]
    assert chords == ["I", "IV", "ii", "V", "I", "IV", "V", "I"]  # every step a normal progression


def test_minor_keys_get_minor_harmony() -> None:
    pitches = [69, 72, 76, 72, 74, 77, 81, 77, 76, 80, 83, 80, 69, 69, 69, 69]  # A minor, with G# over E
    chords = harmonize(melody(pitches), 9, "minor")
    assert [c.name for c in chords] == ["Am", "Dm", "E", "Am"]


@pytest.mark.parametrize("arousal", [-0.8, 0.0, 0.5, 0.9])
def test_the_bass_plays_the_root_on_every_downbeat_and_chords_are_the_triad(arousal: float) -> None:
    piece = arrange(random_melody(3), 0, "major", arousal, 0, 90)
    bass = piece.parts["bass"].notes
    for bar, chord in enumerate(piece.chords):
        downbeat = [n for n in bass if n.start_step == bar * STEPS_PER_BAR]
        assert len(downbeat) == 1 and downbeat[0].pitch % 12 == chord.root
        struck = {n.pitch for n in piece.parts["chords"].notes if n.start_step == bar * STEPS_PER_BAR}
        assert {p % 12 for p in struck} == set(chord.tones) and max(struck) - min(struck) < 12
    assert max(n.pitch for n in bass) < min(n.pitch for n in piece.parts["chords"].notes)


def test_texture_follows_arousal() -> None:
    events = random_melody(5)
    calm, middle, aroused = (arrange(events, 0, "major", a, 0, 90) for a in (-0.7, 0.1, 0.8))
    assert len(calm.parts["chords"].notes) < len(middle.parts["chords"].notes) < len(aroused.parts["chords"].notes)
    assert len(calm.parts["bass"].notes) < len(middle.parts["bass"].notes) < len(aroused.parts["bass"].notes)
    assert "drums" not in calm.parts and "drums" not in middle.parts and aroused.parts["drums"].is_drum
    # Calm voicings are softer, sustained, and on a pad.
    assert calm.parts["chords"].notes[0].velocity < aroused.parts["chords"].notes[0].velocity
    assert calm.parts["chords"].notes[0].end_step - calm.parts["chords"].notes[0].start_step == STEPS_PER_BAR
    assert calm.parts["chords"].program != aroused.parts["chords"].program
    # The melody is the one given, untouched.
    assert [(n.pitch, n.start_step) for n in calm.parts["melody"].notes] == [
        (n.pitch, n.start_step) for n in melody_notes(events)]


def test_drums_join_at_the_threshold_and_parts_pick_what_is_made() -> None:
    events = random_melody(7)
    assert "drums" in arrange(events, 0, "major", DRUMS_FROM_AROUSAL, 0, 90).parts
    assert "drums" not in arrange(events, 0, "major", DRUMS_FROM_AROUSAL - 0.01, 0, 90).parts
    assert list(arrange(events, 0, "major", 0.9, 0, 90, ("melody",)).parts) == ["melody"]
    assert list(arrange(events, 0, "major", 0.9, 0, 90, ("drums", "melody")).parts) == ["melody", "drums"]
    with pytest.raises(ValueError, match="subset"):
        arrange(events, 0, "major", 0.9, 0, 90, ("piano",))


def test_the_request_resolves_parts_in_track_order_and_refuses_nothing_to_play() -> None:
    assert resolve_parts(["drums", "melody", "melody"], 0.5) == ["melody", "drums"]
    assert resolve_parts(list(PARTS), 0.0) == ["melody", "chords", "bass"]
    with pytest.raises(Exception, match="arousal"):
        resolve_parts(["drums"], 0.0)
    assert get_args(Part) == PARTS  # the API's schema names the same parts


def test_the_same_melody_and_mood_make_the_same_piece() -> None:
    first, second = (arrange(random_melody(11), 7, "minor", 0.6, 40, 100) for _ in range(2))
    assert first == second


def test_the_midi_has_a_track_per_part_and_drums_are_not_transposed() -> None:
    piece = arrange(random_melody(2, bars=2), 0, "major", 0.9, 73, 100)
    midi = piece_midi(piece, 120.0, transpose=3)
    assert [i.is_drum for i in midi.instruments] == [False, False, False, True]
    assert midi.instruments[0].program == 73
    assert midi.instruments[0].notes[0].pitch == piece.parts["melody"].notes[0].pitch + 3
    assert {n.pitch for n in midi.instruments[3].notes} <= {36, 38, 42}


def test_the_stems_add_up_to_the_mix() -> None:
    piece = arrange(random_melody(4, bars=2), 0, "major", 0.5, 0, 90)
    mix, stems = render_stems(piece_midi(piece, 120.0), list(piece.parts), 22050)
    assert list(stems) == ["melody", "chords", "bass", "drums"]
    assert all(len(stem) == len(mix) for stem in stems.values())
    summed = np.sum(list(stems.values()), axis=0)
    assert np.corrcoef(summed, mix)[0, 1] > 0.999
    assert np.abs(mix).max() <= 0.99 and all(np.abs(stem).max() > 0.01 for stem in stems.values())
