"""Melody → MIDI → audio: a Standard MIDI File, a General MIDI rendering, loudness and encodings.

`melody_to_midi` writes a melody (events on the 16th-note grid, see `music.events`) as a one-track SMF.
`render_audio` plays any SMF through TinySoundFont with the General MIDI SoundFont that ships inside
the pretty_midi package (`TimGM6mb.sf2`), giving float32 **mono** audio. `loudness_normalize` brings it
to a target integrated loudness (ITU-R BS.1770 via pyloudnorm) under a 0.99 peak ceiling, and
`encode_wav` / `encode_ogg` turn it into file bytes. Nothing here imports torch.
"""

from __future__ import annotations

import functools
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pretty_midi
import pyloudnorm
import soundfile
import tinysoundfont
from scipy.ndimage import minimum_filter1d, uniform_filter1d

from music.events import STEPS_PER_QUARTER, melody_notes
from music.piece import Part, PartNote, Piece

SOUNDFONT_PATH = Path(pretty_midi.__file__).resolve().parent / "TimGM6mb.sf2"
DEFAULT_SAMPLE_RATE = 44100
DEFAULT_TAIL_SECONDS = 1.0  # release tail rendered after the last note ends
PEAK_CEILING = 0.99
LOUDNESS_BLOCK_SECONDS = 0.4  # BS.1770 gating block: pyloudnorm needs at least this much audio
DRUM_CHANNEL = 9
_LIMITER_WINDOW_SECONDS = 0.005


def _check_tempo(tempo_bpm: float) -> None:
    if not (math.isfinite(tempo_bpm) and tempo_bpm > 0):
        raise ValueError(f"tempo_bpm must be a finite number > 0, got {tempo_bpm}")


def _instrument(part: Part, seconds_per_step: float, transpose: int) -> pretty_midi.Instrument:
    if not 0 <= part.program <= 127:
        raise ValueError(f"program must be a General MIDI program 0–127, got {part.program}")
    program = int(part.program)  # numpy integers in, plain ints into the file
    instrument = pretty_midi.Instrument(program=program, is_drum=part.is_drum, name=part.name if part.is_drum
                                        else pretty_midi.program_to_instrument_name(program))
    shift = 0 if part.is_drum else int(transpose)  # percussion keys name instruments, not pitches
    for note in part.notes:
        pitch = note.pitch + shift
        if not 0 <= pitch <= 127:
            raise ValueError(f"pitch {note.pitch} transposed by {transpose} leaves the MIDI range 0–127")
        if not 1 <= note.velocity <= 127:
            raise ValueError(f"velocity must be 1–127, got {note.velocity}")
        instrument.notes.append(pretty_midi.Note(velocity=int(note.velocity), pitch=pitch,
                                                 start=note.start_step * seconds_per_step,
                                                 end=note.end_step * seconds_per_step))
    return instrument


def piece_midi(piece: Piece, tempo_bpm: float, transpose: int = 0) -> pretty_midi.PrettyMIDI:
    """The piece as a PrettyMIDI: one track per part (in `PARTS` order), 4/4, each step a 16th note at
    `tempo_bpm`; pitched parts shifted by `transpose` semitones."""
    _check_tempo(tempo_bpm)
    seconds_per_step = 60.0 / tempo_bpm / STEPS_PER_QUARTER
    midi = pretty_midi.PrettyMIDI(initial_tempo=float(tempo_bpm))
    midi.time_signature_changes.append(pretty_midi.TimeSignature(4, 4, 0.0))
    midi.instruments = [_instrument(part, seconds_per_step, transpose) for part in piece.parts.values()]
    return midi


def midi_bytes(midi: pretty_midi.PrettyMIDI) -> bytes:
    buffer = io.BytesIO()
    midi.write(buffer)
    return buffer.getvalue()


def melody_to_midi(events: np.ndarray, tempo_bpm: float, program: int, velocity: int, transpose: int = 0) -> bytes:
    """A Standard MIDI File (bytes) playing the melody on one General MIDI `program` (0–127).

    Each event step is a 16th note at `tempo_bpm` (4/4 time signature); notes are `melody_notes(events)`
    shifted by `transpose` semitones, all at `velocity` (1–127).
    """
    if not 1 <= velocity <= 127:
        raise ValueError(f"velocity must be 1–127, got {velocity}")
    events = np.asarray(events)
    melody = Part("melody", program, notes=[PartNote(n.pitch, n.start_step, n.end_step, int(velocity))
                                            for n in melody_notes(events)])
    return midi_bytes(piece_midi(Piece({"melody": melody}, [], len(events)), tempo_bpm, transpose))


@functools.cache
def _soundfont_bytes() -> bytes:
    return SOUNDFONT_PATH.read_bytes()


def render_audio(
    midi: bytes | pretty_midi.PrettyMIDI,
    sample_rate: int = DEFAULT_SAMPLE_RATE,
    tail_seconds: float = DEFAULT_TAIL_SECONDS,
) -> np.ndarray:
    """float32 mono audio, shape [samples], of an SMF (bytes) or a PrettyMIDI, through TimGM6mb.sf2.

    Notes, programs and drum tracks are played; pitch bends and control changes are not. The audio
    lasts until the last note ends plus `tail_seconds` of release. Every call builds its own synthesizer
    (the SoundFont file is read once and shared as immutable bytes), so calls from several threads are safe.
    """
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be > 0, got {sample_rate}")
    score = midi if isinstance(midi, pretty_midi.PrettyMIDI) else pretty_midi.PrettyMIDI(io.BytesIO(midi))
    synth = tinysoundfont.Synth(samplerate=sample_rate)
    soundfont = synth.sfload(_soundfont_bytes())
    # (sample, 0 = off before 1 = on, channel, pitch, velocity)
    schedule: list[tuple[int, int, int, int, int]] = []
    melodic_channels = iter(channel for channel in range(16) if channel != DRUM_CHANNEL)
    for instrument in score.instruments:
        channel = DRUM_CHANNEL if instrument.is_drum else next(melodic_channels, None)
        if channel is None:
            raise ValueError("more than 15 melodic instruments: General MIDI has 15 melodic channels")
        synth.program_select(channel, soundfont, 0, instrument.program, is_drums=instrument.is_drum)
        for note in instrument.notes:
            start, end = round(note.start * sample_rate), round(note.end * sample_rate)
            if end > start:
                schedule.append((start, 1, channel, note.pitch, note.velocity))
                schedule.append((end, 0, channel, note.pitch, 0))
    schedule.sort()
    last_end = max((note.end for instrument in score.instruments for note in instrument.notes), default=0.0)
    total = max(round((last_end + tail_seconds) * sample_rate), schedule[-1][0] if schedule else 0)
    chunks: list[np.ndarray] = []
    position = 0
    for sample, is_on, channel, pitch, velocity in schedule:
        if sample > position:
            chunks.append(np.frombuffer(synth.generate(sample - position), dtype=np.float32))
            position = sample
        if is_on:
            synth.noteon(channel, pitch, velocity)
        else:
            synth.noteoff(channel, pitch)
    if total > position:
        chunks.append(np.frombuffer(synth.generate(total - position), dtype=np.float32))
    stereo = np.concatenate(chunks).reshape(-1, 2) if chunks else np.zeros((0, 2), dtype=np.float32)
    # Summing the two columns beats ndarray.mean(axis=1), whose reduction over a length-2 axis is slow.
    mono: np.ndarray = (stereo[:, 0] + stereo[:, 1]) * np.float32(0.5)
    return mono


def integrated_loudness(audio: np.ndarray, sample_rate: int) -> float:
    """BS.1770 integrated loudness (LUFS) of mono [n] or multichannel [n, channels] audio; -inf for silence.

    Audio shorter than one 0.4 s gating block is measured as if looped to that length.
    """
    samples = np.asarray(audio, dtype=np.float64)
    block = math.ceil(LOUDNESS_BLOCK_SECONDS * sample_rate) + 1
    if len(samples) == 0 or not np.any(samples):
        return -math.inf
    if len(samples) < block:
        repeats = math.ceil(block / len(samples))
        samples = np.tile(samples, (repeats,) + (1,) * (samples.ndim - 1))
    with np.errstate(divide="ignore"):
        return float(pyloudnorm.Meter(sample_rate).integrated_loudness(samples))


def peak_limit(audio: np.ndarray, sample_rate: int, ceiling: float = PEAK_CEILING) -> np.ndarray:
    """Look-ahead brickwall limiter: |output| ≤ ceiling, with the gain reduction smoothed over ~5 ms.

    The gain at each sample is the moving average (window 2k + 1) of a moving minimum (same window) of
    the gain each sample needs, so it is never above what the sample itself needs; float64 audio that is
    already under the ceiling comes back as the same array.
    """
    samples = np.asarray(audio, dtype=np.float64)
    magnitude = np.abs(samples) if samples.ndim == 1 else np.abs(samples).max(axis=1)
    if len(magnitude) == 0 or magnitude.max() <= ceiling:
        return samples
    needed = np.minimum(1.0, ceiling / np.maximum(magnitude, 1e-12))
    window = 2 * max(1, round(_LIMITER_WINDOW_SECONDS * sample_rate)) + 1
    gain = uniform_filter1d(minimum_filter1d(needed, size=window, mode="nearest"), size=window, mode="nearest")
    gain = np.minimum(gain, needed)  # guards against rounding in the moving average
    limited: np.ndarray = np.clip(samples * (gain if samples.ndim == 1 else gain[:, None]), -ceiling, ceiling)
    return limited


def loudness_normalize(
    audio: np.ndarray, sample_rate: int, target_lufs: float = -16.0, ceiling: float = PEAK_CEILING,
    loudness: float | None = None,
) -> np.ndarray:
    """float32 audio at `target_lufs` integrated loudness (BS.1770) with every |sample| ≤ `ceiling`.

    The gain is applied, peaks are limited by `peak_limit`, and, where the limiter took something away, the gain
    is corrected for it (up to three more rounds, stopping within 0.05 LU). `loudness` is the audio's own, where
    the caller has measured it. Silence comes back as silence; audio shorter than 0.4 s is measured as if looped
    (see `integrated_loudness`).
    """
    samples = np.asarray(audio, dtype=np.float64)
    if loudness is None:
        loudness = integrated_loudness(samples, sample_rate)
    if not math.isfinite(loudness):
        return peak_limit(samples, sample_rate, ceiling).astype(np.float32)
    gain_db = target_lufs - loudness
    gained = samples * 10 ** (gain_db / 20)
    result = peak_limit(gained, sample_rate, ceiling)
    for _ in range(3):
        if result is gained:  # nothing was limited: the gain alone hit the target
            break
        error = target_lufs - integrated_loudness(result, sample_rate)
        if not math.isfinite(error) or abs(error) < 0.05:
            break
        gain_db += error
        gained = samples * 10 ** (gain_db / 20)
        result = peak_limit(gained, sample_rate, ceiling)
    return result.astype(np.float32)


def render_track(instrument: pretty_midi.Instrument, sample_rate: int = DEFAULT_SAMPLE_RATE) -> np.ndarray:
    """One track played alone, float32 mono (its notes carry their times in seconds: no tempo is needed)."""
    single = pretty_midi.PrettyMIDI()
    single.instruments = [instrument]
    return render_audio(single, sample_rate)


@dataclass(frozen=True)
class Mix:
    """Tracks of equal length, their sum, and the one gain that brings the sum to the target loudness."""

    tracks: dict[str, np.ndarray]  # float64, by part name
    audio: np.ndarray  # float64 sum of the tracks, before any gain
    loudness: float  # of `audio`, LUFS (-inf for silence)
    gain: float

    @classmethod
    def of(cls, tracks: dict[str, np.ndarray], sample_rate: int, target_lufs: float) -> Mix:
        length = max((len(track) for track in tracks.values()), default=0)
        padded = {name: np.pad(np.asarray(track, dtype=np.float64), (0, length - len(track)))
                  for name, track in tracks.items()}
        audio = np.sum(list(padded.values()), axis=0) if padded else np.zeros(0)
        loudness = integrated_loudness(audio, sample_rate)
        gain = 10 ** ((target_lufs - loudness) / 20) if math.isfinite(loudness) else 1.0
        return cls(padded, audio, loudness, gain)

    def stem(self, name: str, sample_rate: int) -> np.ndarray:
        """One part at the mix's gain (muting a part leaves the others as loud as in the mix), peaks limited."""
        return peak_limit(self.tracks[name] * self.gain, sample_rate).astype(np.float32)

    def normalized(self, sample_rate: int, target_lufs: float) -> np.ndarray:
        return loudness_normalize(self.audio, sample_rate, target_lufs, loudness=self.loudness)


def render_stems(midi: pretty_midi.PrettyMIDI, names: list[str], sample_rate: int = DEFAULT_SAMPLE_RATE,
                 target_lufs: float = -16.0) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The mix and one stem per track (named by `names`, in track order), float32 mono of equal length.

    Each track is rendered alone and the mix is their sum, so the stems add up to the mix; one gain brings the
    mix to `target_lufs` and is applied to every stem too; peaks over the ceiling are limited in each signal.
    """
    if len(names) != len(midi.instruments):
        raise ValueError(f"{len(midi.instruments)} tracks but {len(names)} stem names")
    mix = Mix.of({name: render_track(instrument, sample_rate) for name, instrument in
                  zip(names, midi.instruments, strict=True)}, sample_rate, target_lufs)
    return mix.normalized(sample_rate, target_lufs), {name: mix.stem(name, sample_rate) for name in names}


# libsndfile's Vorbis encoder segfaults on one large write (here: ≥ ~60 s of 44.1 kHz audio in one
# call, cf. bastibe/python-soundfile#396); writing in blocks of this many frames avoids it.
WRITE_BLOCK_FRAMES = 1 << 16


def _encode(audio: np.ndarray, sample_rate: int, file_format: str, subtype: str) -> bytes:
    buffer = io.BytesIO()
    samples = np.clip(np.asarray(audio, dtype=np.float32), -1.0, 1.0)
    channels = 1 if samples.ndim == 1 else samples.shape[1]
    with soundfile.SoundFile(buffer, "w", sample_rate, channels, subtype=subtype, format=file_format) as output:
        for start in range(0, len(samples), WRITE_BLOCK_FRAMES):
            output.write(samples[start:start + WRITE_BLOCK_FRAMES])
    return buffer.getvalue()


def encode_wav(audio: np.ndarray, sample_rate: int) -> bytes:
    """16-bit PCM WAV bytes of mono [n] or multichannel [n, channels] float audio (clipped to ±1)."""
    return _encode(audio, sample_rate, "WAV", "PCM_16")


def encode_ogg(audio: np.ndarray, sample_rate: int) -> bytes:
    """Ogg Vorbis bytes (libsndfile's default quality) of mono or multichannel float audio (clipped to ±1)."""
    return _encode(audio, sample_rate, "OGG", "VORBIS")
