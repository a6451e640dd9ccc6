"""A piece: named parts of notes on the 16th-note grid, each its own MIDI track and audio stem."""

from __future__ import annotations

from dataclasses import dataclass, field

from music.harmony import Chord

PARTS = ("melody", "chords", "bass", "drums")  # also the order of tracks and stems


@dataclass(frozen=True)
class PartNote:
    pitch: int  # MIDI pitch; on a drum part, the General MIDI percussion key
    start_step: int
    end_step: int
    velocity: int


@dataclass
class Part:
    name: str
    program: int  # General MIDI program (ignored for drums)
    is_drum: bool = False
    notes: list[PartNote] = field(default_factory=list)


@dataclass(frozen=True)
class Piece:
    parts: dict[str, Part]  # in PARTS order, only those made
    chords: list[Chord]  # one per bar (empty for a bare melody)
    total_steps: int
