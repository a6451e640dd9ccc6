"""A melody → a piece: chords, a bass line and (when the mood is aroused) drums under it, one part each.

Harmony is `music.harmony` (one chord per bar, textbook rules, not learned: it must be right on every bar, it
is explainable, and it costs microseconds). The mood sets the texture, following the same cues as
`music.mood_targets` (Gabrielsson & Lindström 2010): valence chose the key's mode, hence major or minor
harmony; arousal sets rhythm and density, and calm pieces get softer, sustained voicings:

| part   | arousal < -0.2         | -0.2 … 0.4                   | > 0.4                              |
|--------|------------------------|------------------------------|------------------------------------|
| chords | a held chord per bar   | half notes on beats 1 and 3  | a chord on every beat, detached    |
| bass   | the root, held         | root on 1, fifth on 3        | eighths on the root and the fifth  |

Drums join at arousal 0.3 (kick on 1 and 3, snare on 2 and 4, eighth-note hats; sixteenths and an extra kick
above 0.7). The bass plays the chord's root on every downbeat; chord voicings stay in close position below middle C's
octave above, so they sit under the melody. Deterministic: the same melody and mood give the same piece.
"""

from __future__ import annotations

import numpy as np

from music.events import STEPS_PER_BAR, STEPS_PER_QUARTER, melody_notes
from music.harmony import Chord, harmonize
from music.piece import PARTS, Part, PartNote, Piece

DRUMS_FROM_AROUSAL = 0.3
CHORD_LOW, BASS_LOW = 52, 36  # lowest chord tone (E3) and lowest bass note (C2)
KICK, SNARE, CLOSED_HAT = 36, 38, 42  # General MIDI percussion keys
# General MIDI programs: warm pads and a round bass when calm, piano and a picked bass otherwise.
CALM_PROGRAMS = {"chords": 89, "bass": 32}  # Pad 2 (warm), Acoustic Bass
ACTIVE_PROGRAMS = {"chords": 4, "bass": 33}  # Electric Piano 1, Electric Bass (finger)


def _clamp_velocity(value: float) -> int:
    return int(max(1, min(127, round(value))))


def _voicing(chord: Chord) -> list[int]:
    """Close position from the lowest chord tone at or above CHORD_LOW: three notes within an octave."""
    lowest = min(CHORD_LOW + (tone - CHORD_LOW) % 12 for tone in chord.tones)
    return sorted(lowest + (tone - lowest) % 12 for tone in chord.tones)


def _bass_pitch(pitch_class: int) -> int:
    return BASS_LOW + (pitch_class - BASS_LOW) % 12


def _chord_onsets(arousal: float) -> tuple[list[int], int]:
    """Onsets within a bar and each chord's length, in steps."""
    if arousal < -0.2:
        return [0], STEPS_PER_BAR
    if arousal <= 0.4:
        return [0, 8], 8
    return [0, 4, 8, 12], 3


def _bass_line(chord: Chord, arousal: float) -> list[tuple[int, int, int]]:
    """(pitch, start, end) within a bar: the root on the downbeat always."""
    root, fifth = _bass_pitch(chord.root), _bass_pitch(chord.tones[2])
    if arousal < -0.2:
        return [(root, 0, STEPS_PER_BAR)]
    if arousal <= 0.4:
        return [(root, 0, 8), (fifth, 8, 16)]
    eighths = [root, root, root, fifth, root, root, fifth, root]
    return [(pitch, 2 * i, 2 * i + 2) for i, pitch in enumerate(eighths)]


def _drum_bar(arousal: float, velocity: int) -> list[tuple[int, int, int]]:
    """(key, step, velocity) for one bar of a rock backbeat: kick on 1 and 3, snare on 2 and 4, hats between."""
    hats = range(0, STEPS_PER_BAR, 1 if arousal > 0.7 else 2)
    hits = [(CLOSED_HAT, step, _clamp_velocity(velocity * (0.55 if step % 4 else 0.7))) for step in hats]
    hits += [(KICK, 0, velocity), (KICK, 8, velocity), (SNARE, 4, velocity), (SNARE, 12, velocity)]
    if arousal > 0.7:
        hits.append((KICK, 10, _clamp_velocity(velocity * 0.8)))
    return hits


def arrange(events: np.ndarray, tonic: int, mode: str, arousal: float, melody_program: int, velocity: int,
            parts: tuple[str, ...] = PARTS) -> Piece:
    """The piece for a melody (events in its own key, `tonic` and `mode`) at a mood's arousal.

    `parts` names the parts wanted; drums are left out below DRUMS_FROM_AROUSAL whatever is asked.
    """
    unknown = set(parts) - set(PARTS)
    if unknown or not parts:
        raise ValueError(f"parts must be a non-empty subset of {PARTS}, got {parts}")
    events = np.asarray(events)
    total_steps = len(events)
    chords = harmonize(events, tonic, mode)
    programs = CALM_PROGRAMS if arousal < -0.2 else ACTIVE_PROGRAMS
    # Accompaniment sits under the melody: softer, and softer still when calm.
    backing = _clamp_velocity(velocity * (0.55 if arousal < -0.2 else 0.7))
    made: dict[str, Part] = {}
    for name in PARTS:
        if name not in parts or (name == "drums" and arousal < DRUMS_FROM_AROUSAL):
            continue
        part = Part(name, melody_program if name == "melody" else programs.get(name, 0), is_drum=name == "drums")
        if name == "melody":
            part.notes = [PartNote(n.pitch, n.start_step, n.end_step, velocity) for n in melody_notes(events)]
        for bar, chord in enumerate(chords):
            offset = bar * STEPS_PER_BAR
            if name == "chords":
                onsets, length = _chord_onsets(arousal)
                part.notes += [PartNote(pitch, offset + onset, offset + onset + length, backing)
                               for onset in onsets for pitch in _voicing(chord)]
            elif name == "bass":
                part.notes += [PartNote(pitch, offset + start, offset + end, _clamp_velocity(backing * 1.1))
                               for pitch, start, end in _bass_line(chord, arousal)]
            elif name == "drums":
                part.notes += [PartNote(key, offset + step, offset + step + STEPS_PER_QUARTER // 2, hit)
                               for key, step, hit in _drum_bar(arousal, backing)]
        part.notes = [n for n in part.notes if n.start_step < total_steps]
        part.notes = [PartNote(n.pitch, n.start_step, min(n.end_step, total_steps), n.velocity) for n in part.notes]
        made[name] = part
    return Piece(made, chords, total_steps)
