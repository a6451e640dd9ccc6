"""A generated melody → the job's files: arrange the parts under it, play each part, mix, encode.

TinySoundFont holds the GIL while it plays, so the parts' tracks are played in a pool of processes, a track per
task; libsndfile releases it while it encodes, so the files are encoded in threads. The stems need only the mix's
gain, so they are encoding while the mix itself is being normalised (in the process pool too).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from music.accompaniment import arrange
from music.harmony import Chord
from music.rendering import Mix, encode_ogg, encode_wav, loudness_normalize, midi_bytes, piece_midi, render_track

logger = logging.getLogger(__name__)

SAMPLE_RATE = 44100
TARGET_LUFS = -16.0
Result = TypeVar("Result")


@dataclass(frozen=True)
class RenderedPiece:
    files: dict[str, bytes]  # by kind (orchestrator.melodies.files.RESULT_FILES)
    seconds: float
    chords: list[str]  # one per bar, in the delivered key
    parts: list[str]


def _normalized_mix(audio: np.ndarray, loudness: float) -> np.ndarray:
    return loudness_normalize(audio, SAMPLE_RATE, TARGET_LUFS, loudness=loudness)


def _encoded_stem(mix: Mix, name: str) -> bytes:
    return encode_ogg(mix.stem(name, SAMPLE_RATE), SAMPLE_RATE)


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class PieceRenderer:
    """Renders pieces for every job of one worker process; its pools are shared by the jobs running at once."""

    def __init__(self, processes: int | None = None, threads: int | None = None) -> None:
        self.processes = processes or _cores()
        self._encoders = ThreadPoolExecutor(threads or _cores(), thread_name_prefix="encode")
        self._lock = threading.Lock()
        self._players = self._new_players()

    def _new_players(self) -> ProcessPoolExecutor:
        # Spawned, not forked: the worker has threads and an event loop that a fork would copy half-way.
        return ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("spawn"))

    def warm(self) -> None:
        """Start every player process now, so that the first job does not pay for their imports."""
        from pretty_midi import Instrument

        futures = [self._players.submit(render_track, Instrument(0), SAMPLE_RATE) for _ in range(self.processes)]
        for future in futures:
            future.result()

    def _in_players(self, run: Callable[[Executor], Result]) -> Result:
        """`run` with the process pool; once more with a new pool where a player process died (killed for memory,
        say), which leaves the old pool refusing every task."""
        players = self._players
        try:
            return run(players)
        except BrokenProcessPool:
            with self._lock:
                if self._players is players:
                    logger.warning("a track player process died; starting a new pool")
                    self._players = self._new_players()
                    players.shutdown(wait=False, cancel_futures=True)
            return run(self._players)

    def render(self, events: np.ndarray, parameters: dict[str, Any], key: dict[str, Any] | None) -> RenderedPiece:
        """Blocking (run it in a thread): arrange the parts under the melody (in the key the model found, C when
        none), write one MIDI track per part at the requested tempo and instrument, render the mix and, where
        there are several parts, each part's stem."""
        tonic, mode = (int(key["tonic"]), str(key["mode"])) if key else (0, str(parameters["mode"]))
        parts = tuple(parameters.get("parts", ["melody"]))  # jobs stored before parts existed made a melody alone
        piece = arrange(events, tonic, mode, float(parameters["mood"]["arousal"]), parameters["instrument"],
                        parameters["velocity"], parts)
        midi = piece_midi(piece, parameters["tempo_bpm"], parameters["transpose"])
        names = list(piece.parts)

        def play(players: Executor) -> list[np.ndarray]:
            return list(players.map(render_track, midi.instruments, [SAMPLE_RATE] * len(names)))

        mix = Mix.of(dict(zip(names, self._in_players(play), strict=True)), SAMPLE_RATE, TARGET_LUFS)
        stems: dict[str, Future[bytes]] = {}
        if len(names) > 1:
            stems = {f"stem_{name}": self._encoders.submit(_encoded_stem, mix, name) for name in names}
        normalized = self._in_players(lambda players: players.submit(_normalized_mix, mix.audio, mix.loudness).result())
        mixed = {"ogg": self._encoders.submit(encode_ogg, normalized, SAMPLE_RATE),
                 "wav": self._encoders.submit(encode_wav, normalized, SAMPLE_RATE)}
        files = {"midi": midi_bytes(midi)} | {kind: future.result() for kind, future in (mixed | stems).items()}
        transpose = int(parameters["transpose"])
        chords = [Chord(c.numeral, (c.root + transpose) % 12, c.tones, c.quality).name for c in piece.chords]
        return RenderedPiece(files, len(normalized) / SAMPLE_RATE, chords if len(names) > 1 else [], names)

    def close(self) -> None:
        self._players.shutdown(wait=True, cancel_futures=True)
        self._encoders.shutdown(wait=True, cancel_futures=True)
