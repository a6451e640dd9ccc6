"""Melody → MIDI → audio: MIDI round trip, rendering length and level, loudness, WAV/OGG round trips."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pretty_midi
import pytest
import soundfile

from music.events import NO_EVENT, NOTE_OFF, STEPS_PER_BAR, melody_notes
from music.rendering import (
    DEFAULT_TAIL_SECONDS,
    SOUNDFONT_PATH,
    encode_ogg,
    encode_wav,
    integrated_loudness,
    loudness_normalize,
    melody_to_midi,
    peak_limit,
    render_audio,
)

SAMPLE_RATE = 44100


def scale_melody(bars: int = 8) -> np.ndarray:
    """Quarter and eighth notes up and down a C major scale, a rest at the end of every second bar."""
    events = np.full(bars * STEPS_PER_BAR, NO_EVENT, dtype=np.int16)
    scale = [60, 62, 64, 65, 67, 69, 71, 72, 71, 69, 67, 65, 64, 62]
    step, index = 0, 0
    while step < len(events):
        events[step] = scale[index % len(scale)]
        step += 4 if index % 3 else 2
        index += 1
    for bar in range(1, bars, 2):
        events[bar * STEPS_PER_BAR + 14] = NOTE_OFF
    return events


@pytest.fixture(scope="module")
def melody() -> np.ndarray:
    return scale_melody()


@pytest.fixture(scope="module")
def audio(melody: np.ndarray) -> np.ndarray:
    return render_audio(melody_to_midi(melody, tempo_bpm=120, program=0, velocity=100))


def test_soundfont_ships_with_pretty_midi() -> None:
    assert SOUNDFONT_PATH.is_file() and SOUNDFONT_PATH.stat().st_size > 1_000_000


def test_midi_round_trip(melody: np.ndarray) -> None:
    midi = pretty_midi.PrettyMIDI(io.BytesIO(melody_to_midi(melody, 96.0, program=40, velocity=90, transpose=-3)))
    _, tempi = midi.get_tempo_changes()
    assert tempi == pytest.approx([96.0], abs=1e-3)
    (instrument,) = midi.instruments
    assert instrument.program == 40 and not instrument.is_drum
    step = 60.0 / 96.0 / 4
    parsed = [(n.pitch, round(n.start / step), round(n.end / step), n.velocity) for n in instrument.notes]
    assert parsed == [(n.pitch - 3, n.start_step, n.end_step, 90) for n in melody_notes(melody)]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"program": 128}, "program"),
        ({"program": -1}, "program"),
        ({"velocity": 0}, "velocity"),
        ({"velocity": 128}, "velocity"),
        ({"tempo_bpm": 0.0}, "tempo"),
        ({"tempo_bpm": float("nan")}, "tempo"),
        ({"transpose": 100}, "MIDI range"),
    ],
)
def test_midi_rejects_bad_arguments(melody: np.ndarray, arguments: dict[str, float], message: str) -> None:
    settings: dict[str, float] = {"tempo_bpm": 120.0, "program": 0, "velocity": 100, **arguments}
    with pytest.raises(ValueError, match=message):
        melody_to_midi(
            melody,
            tempo_bpm=settings["tempo_bpm"],
            program=int(settings["program"]),
            velocity=int(settings["velocity"]),
            transpose=int(arguments.get("transpose", 0)),
        )


def test_render_length_and_level(melody: np.ndarray, audio: np.ndarray) -> None:
    last_end_seconds = melody_notes(melody)[-1].end_step * 60.0 / 120 / 4  # 8 bars at 120 bpm: 16 s
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert len(audio) == round((last_end_seconds + DEFAULT_TAIL_SECONDS) * SAMPLE_RATE)
    for second in range(int(last_end_seconds)):  # something sounds in every second of the melody
        chunk = audio[second * SAMPLE_RATE : (second + 1) * SAMPLE_RATE]
        assert np.sqrt(np.mean(chunk**2)) > 1e-3, second
    assert np.isfinite(audio).all() and np.abs(audio).max() < 1.0


def test_render_accepts_pretty_midi_and_other_rates(melody: np.ndarray) -> None:
    midi = pretty_midi.PrettyMIDI(io.BytesIO(melody_to_midi(melody[:32], 120, program=73, velocity=80)))
    audio = render_audio(midi, sample_rate=22050, tail_seconds=0.5)
    assert len(audio) == round((3.75 + 0.5) * 22050)  # the last note ends at step 30 and np.abs(audio).max() > 0.01


def test_render_silent_melody() -> None:
    silent = np.full(32, NO_EVENT, dtype=np.int16)
    audio = render_audio(melody_to_midi(silent, 120, 0, 100), tail_seconds=0.25)
    assert len(audio) == round(0.25 * SAMPLE_RATE) and not audio.any()


def test_render_from_threads_matches_sequential(melody: np.ndarray, audio: np.ndarray) -> None:
    midi = melody_to_midi(melody, 120, 0, 100)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(render_audio, [midi] * 4))
    for result in results:
        np.testing.assert_array_equal(result, audio)


def test_loudness_normalize_hits_target_without_clipping(audio: np.ndarray) -> None:
    for target in (-16.0, -23.0, -12.0):
        normalized = loudness_normalize(audio, SAMPLE_RATE, target_lufs=target)
        assert normalized.dtype == np.float32 and normalized.shape == audio.shape
        assert abs(integrated_loudness(normalized, SAMPLE_RATE) - target) < 0.5
        assert np.abs(normalized).max() <= 0.99


def test_loudness_normalize_limits_peaks() -> None:
    rng = np.random.default_rng(0)
    quiet = 0.01 * rng.standard_normal(SAMPLE_RATE)
    quiet[SAMPLE_RATE // 2] = 0.5  # a spike 34 dB above the rest
    normalized = loudness_normalize(quiet, SAMPLE_RATE, target_lufs=-16.0)
    assert np.abs(normalized).max() <= 0.99
    assert abs(integrated_loudness(normalized, SAMPLE_RATE) + 16.0) < 0.5


def test_loudness_normalize_degenerate_inputs() -> None:
    silence = loudness_normalize(np.zeros(SAMPLE_RATE), SAMPLE_RATE)
    assert silence.shape == (SAMPLE_RATE,) and not silence.any()
    assert loudness_normalize(np.zeros(0), SAMPLE_RATE).shape == (0,)
    short = 0.05 * np.sin(2 * np.pi * 440 * np.arange(SAMPLE_RATE // 10) / SAMPLE_RATE)  # 0.1 s < 0.4 s block
    normalized = loudness_normalize(short, SAMPLE_RATE)
    assert abs(integrated_loudness(normalized, SAMPLE_RATE) + 16.0) < 0.5 and np.abs(normalized).max() <= 0.99


def test_peak_limit_leaves_quiet_audio_alone() -> None:
    quiet = np.linspace(-0.5, 0.5, 1000)
    np.testing.assert_array_equal(peak_limit(quiet, SAMPLE_RATE), quiet)
    stereo = np.stack([quiet * 3, quiet], axis=1)
    assert np.abs(peak_limit(stereo, SAMPLE_RATE)).max() <= 0.99


@pytest.mark.parametrize("encode", [encode_wav, encode_ogg])
def test_encodings_decode_back(audio: np.ndarray, encode: object) -> None:
    assert callable(encode)
    normalized = loudness_normalize(audio, SAMPLE_RATE)
    data = encode(normalized, SAMPLE_RATE)
    decoded, rate = soundfile.read(io.BytesIO(data), dtype="float32")
    assert rate == SAMPLE_RATE and decoded.shape == normalized.shape
    if encode is encode_wav:
        assert data[:4] == b"RIFF" and np.abs(decoded - normalized).max() < 1e-4
    else:
        assert data[:4] == b"OggS" and len(data) < len(encode_wav(normalized, SAMPLE_RATE)) / 5
        assert np.corrcoef(decoded, normalized)[0, 1] > 0.95


def test_long_audio_encodes_to_ogg() -> None:
    """64 bars at a slow tempo is over two minutes: one big libsndfile Vorbis write segfaulted there."""
    long_audio = (0.3 * np.sin(np.arange(SAMPLE_RATE * 150) * 0.05)).astype(np.float32)
    decoded, rate = soundfile.read(io.BytesIO(encode_ogg(long_audio, SAMPLE_RATE)), dtype="float32")
    assert rate == SAMPLE_RATE and len(decoded) == len(long_audio)
