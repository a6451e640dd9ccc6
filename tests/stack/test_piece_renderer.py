"""The worker's renderer: tracks played in player processes, files encoded in threads, and a pool that survives
a player being killed."""

from __future__ import annotations

import io
import os
import signal
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import soundfile

from music.events import STEPS_PER_BAR
from music.rendering import render_stems
from orchestrator.melodies.rendering import SAMPLE_RATE, TARGET_LUFS, PieceRenderer

PARAMETERS: dict[str, Any] = {"mode": "major", "mood": {"arousal": 0.7}, "instrument": 0, "velocity": 90,
                              "parts": ["melody", "chords", "bass", "drums"], "tempo_bpm": 150, "transpose": 2}


@pytest.fixture(scope="module")
def renderer() -> Iterator[PieceRenderer]:
    renderer = PieceRenderer(processes=2, threads=2)
    renderer.warm()
    yield renderer
    renderer.close()


def melody(bars: int = 4) -> np.ndarray:
    events = np.full(bars * STEPS_PER_BAR, -2, dtype=np.int16)
    events[::4] = np.resize(np.array([60, 64, 67, 72, 71, 67, 65, 62], dtype=np.int16), len(events[::4]))
    return events


def decoded(data: bytes) -> np.ndarray:
    audio, rate = soundfile.read(io.BytesIO(data), dtype="float32")
    assert rate == SAMPLE_RATE
    return np.asarray(audio)


def test_the_files_are_the_ones_one_process_would_make(renderer: PieceRenderer) -> None:
    rendered = renderer.render(melody(), PARAMETERS, {"tonic": 0, "mode": "major"})
    assert set(rendered.files) == {"midi", "wav", "ogg", "stem_melody", "stem_chords", "stem_bass", "stem_drums"}
    assert rendered.parts == ["melody", "chords", "bass", "drums"] and len(rendered.chords) == 4
    assert rendered.chords[0] == "D"  # the tonic chord, transposed up a tone

    import pretty_midi

    midi = pretty_midi.PrettyMIDI(io.BytesIO(rendered.files["midi"]))
    mix, stems = render_stems(midi, rendered.parts, SAMPLE_RATE, TARGET_LUFS)
    wav = decoded(rendered.files["wav"])
    assert len(wav) == len(mix) and np.abs(wav - mix).max() < 2e-4  # 16-bit rounding only
    for name, stem in stems.items():  # lossy, so compared by energy
        heard = decoded(rendered.files[f"stem_{name}"])[: len(stem)]
        assert np.sqrt(np.mean((heard - stem) ** 2)) < 0.1 * np.sqrt(np.mean(stem**2)) + 1e-4


def test_a_melody_alone_has_no_stems(renderer: PieceRenderer) -> None:
    rendered = renderer.render(melody(), PARAMETERS | {"parts": ["melody"]}, None)
    assert set(rendered.files) == {"midi", "wav", "ogg"} and rendered.chords == []


def test_a_killed_player_costs_no_job(renderer: PieceRenderer) -> None:
    """A player process killed (for memory, say) breaks a ProcessPoolExecutor for good: the renderer starts a new
    pool and the job that met the dead one still gets its files."""
    first = renderer.render(melody(2), PARAMETERS, None)
    for pid in list(renderer._players._processes):  # the test kills what the pool started
        os.kill(pid, signal.SIGKILL)
    again = renderer.render(melody(2), PARAMETERS, None)
    assert again.files["midi"] == first.files["midi"] and set(again.files) == set(first.files)
