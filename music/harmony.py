"""One chord per bar under a melody, by textbook functional harmony.

The chords are the diatonic triads of the melody's key (major: I ii iii IV V vi; minor: i ii° III iv V VI VII,
the dominant from harmonic minor, as Kostka & Payne, *Tonal Harmony*, ch. 5 and 13, use them). The progression
is the best path (Viterbi) under three kinds of score:

- **Chord tones on strong beats**, a rule: the note sounding on a bar's downbeat is a tone of that bar's chord
  whenever some candidate triad contains it; the note on beat 3 and the bar's other notes, by duration, make a
  chord likelier (a chord-tone melody is the first rule of harmonisation, Kostka & Payne ch. 9).
- **Progression**, from Kostka & Payne's chart of normal progressions (major: iii → vi → ii/IV → V → I, I to
  anywhere; the same functions in minor): a normal step costs nothing, a retrogression a little, staying on one
  chord a little less.
- **Cadences**: the piece starts on the tonic and ends V → I (an authentic cadence); the end of each 4-bar phrase
  inside it prefers V (a half cadence) or I.

Deterministic: the same melody and key give the same chords. Torch-free, like the rest of `music/`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from music.events import STEPS_PER_BAR, melody_notes

PHRASE_BARS = 4
NORMAL_STEP, STAY, RETROGRESSION = 0.0, -0.6, -1.5
TONIC_START, CADENCE, PHRASE_END = 2.0, 3.0, 1.0
DOWNBEAT_WEIGHT, BEAT_THREE_WEIGHT, OTHER_WEIGHT = 1.0, 0.5, 0.15


@dataclass(frozen=True)
class Chord:
    numeral: str  # Roman numeral in its key ("V", "ii°", "VI")
    root: int  # pitch class, 0 = C
    tones: tuple[int, int, int]  # pitch classes: root, third, fifth
    quality: str  # major, minor or diminished

    @property
    def name(self) -> str:
        suffix = {"major": "", "minor": "m", "diminished": "dim"}[self.quality]
        return f"{PITCH_CLASS_NAMES[self.root]}{suffix}"


PITCH_CLASS_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_QUALITY_INTERVALS = {"major": (4, 7), "minor": (3, 7), "diminished": (3, 6)}
# (numeral, semitones above the tonic, quality)
_DIATONIC = {
    "major": (("I", 0, "major"), ("ii", 2, "minor"), ("iii", 4, "minor"), ("IV", 5, "major"), ("V", 7, "major"),
              ("vi", 9, "minor")),
    "minor": (("i", 0, "minor"), ("ii°", 2, "diminished"), ("III", 3, "major"), ("iv", 5, "minor"),
              ("V", 7, "major"), ("VI", 8, "major"), ("VII", 10, "major")),
}
# Kostka & Payne's normal progressions, by numeral (the tonic may go anywhere).
_NORMAL_NEXT = {
    "major": {"I": {"ii", "iii", "IV", "V", "vi"}, "ii": {"V"}, "iii": {"vi", "IV"}, "IV": {"V", "ii", "I"},
              "V": {"I", "vi"}, "vi": {"ii", "IV", "V"}},
    "minor": {"i": {"ii°", "III", "iv", "V", "VI", "VII"}, "ii°": {"V"}, "III": {"VI", "iv"}, "iv": {"V", "ii°", "i"},
              "V": {"i", "VI"}, "VI": {"ii°", "iv", "V"}, "VII": {"III"}},
}


def diatonic_chords(tonic: int, mode: str) -> list[Chord]:
    """The candidate triads of a key, the tonic first and the dominant among them."""
    if mode not in _DIATONIC:
        raise ValueError(f"mode must be major or minor, got {mode!r}")
    chords = []
    for numeral, offset, quality in _DIATONIC[mode]:
        root = (tonic + offset) % 12
        third, fifth = _QUALITY_INTERVALS[quality]
        chords.append(Chord(numeral, root, (root, (root + third) % 12, (root + fifth) % 12), quality))
    return chords


def _bar_weights(events: np.ndarray, bars: int) -> tuple[np.ndarray, list[int | None]]:
    """[bars, 12] weight of each pitch class in each bar (downbeat > beat 3 > the rest, by duration), and the
    pitch class sounding at each downbeat (None over a rest)."""
    weights = np.zeros((bars, 12))
    downbeats: list[int | None] = [None] * bars
    for note in melody_notes(events):
        for step in range(note.start_step, min(note.end_step, bars * STEPS_PER_BAR)):
            bar, position = divmod(step, STEPS_PER_BAR)
            weight = DOWNBEAT_WEIGHT if position == 0 else BEAT_THREE_WEIGHT if position == 8 else OTHER_WEIGHT
            weights[bar, note.pitch % 12] += weight
            if position == 0:
                downbeats[bar] = note.pitch % 12
    return weights, downbeats


def _transition(mode: str, previous: Chord, chord: Chord) -> float:
    if previous.numeral == chord.numeral:
        return STAY
    return NORMAL_STEP if chord.numeral in _NORMAL_NEXT[mode][previous.numeral] else RETROGRESSION


def _position_bonus(bar: int, bars: int, index: int) -> float:
    """Cadence preferences by the bar's place; `index` 0 is the tonic, 4 the dominant (in both modes)."""
    tonic, dominant = index == 0, index == 4
    if bar == bars - 1:
        return CADENCE * tonic
    if bar == bars - 2 and bars >= 2:
        return CADENCE / 2 * dominant
    if bar == 0:
        return TONIC_START * tonic
    if bar % PHRASE_BARS == PHRASE_BARS - 1:
        return PHRASE_END * (dominant or tonic)
    return 0.0


def harmonize(events: np.ndarray, tonic: int, mode: str) -> list[Chord]:
    """One chord per bar (the last, partial bar included) for a melody in the key (`tonic`, `mode`)."""
    bars = max(1, -(-len(events) // STEPS_PER_BAR))
    chords = diatonic_chords(tonic, mode)
    weights, downbeats = _bar_weights(np.asarray(events), bars)
    total = weights.sum(axis=1, keepdims=True)
    emission = np.zeros((bars, len(chords)))
    for index, chord in enumerate(chords):
        in_chord = weights[:, list(chord.tones)].sum(axis=1)
        emission[:, index] = 3.0 * np.divide(in_chord, total[:, 0], out=np.zeros(bars), where=total[:, 0] > 0)
        for bar in range(bars):
            emission[bar, index] += _position_bonus(bar, bars, index)
    for bar, pitch_class in enumerate(downbeats):
        holders = [i for i, chord in enumerate(chords) if pitch_class in chord.tones]
        if pitch_class is not None and holders:  # the rule: a chord tone on the downbeat when one can be
            emission[bar, [i for i in range(len(chords)) if i not in holders]] = -np.inf
    score = emission[0].copy()
    back = np.zeros((bars, len(chords)), dtype=int)
    for bar in range(1, bars):
        step = np.array([[score[p] + _transition(mode, chords[p], chords[c]) for p in range(len(chords))]
                         for c in range(len(chords))])
        back[bar] = step.argmax(axis=1)
        score = step.max(axis=1) + emission[bar]
    path = [int(score.argmax())]
    for bar in range(bars - 1, 0, -1):
        path.append(int(back[bar, path[-1]]))
    return [chords[i] for i in reversed(path)]
