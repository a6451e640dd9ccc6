"""One melody job, start to finish: generate (melody model) → arrange and render (MIDI, mix, stems) → upload (S3).

Every stage is mirrored in the job document and published as a progress event. The pipeline is
idempotent: a retried job that already succeeded does nothing, and objects are written under keys fixed
by the job id, so a retry after a half-finished upload overwrites rather than duplicates.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from music.accompaniment import arrange
from music.harmony import PITCH_CLASS_NAMES, Chord
from music.rendering import encode_ogg, encode_wav, midi_bytes, piece_midi, render_stems
from orchestrator.core.errors import DependencyUnavailableError, InvalidInputError
from orchestrator.inference.client import InferenceBackend
from orchestrator.melodies.files import RESULT_FILES, result_key
from orchestrator.melodies.jobs import GenerationJob, GenerationJobRepository, JobStage, JobState
from orchestrator.melodies.progress import JobProgress, ProgressEvents
from orchestrator.storage.objects import ObjectStore

logger = logging.getLogger(__name__)

MELODY_MODEL = "melody"
SAMPLE_RATE = 44100
TARGET_LUFS = -16.0
ENCODE_THREADS = 2
Heartbeat = Callable[[], Awaitable[Any]]


def delivered_key(generated: dict[str, Any] | None, transpose: int) -> dict[str, Any] | None:
    """The model answers in C; the files are transposed by the mood's register shift."""
    if generated is None:
        return None
    tonic = (int(generated["tonic"]) + transpose) % 12
    return {"tonic": PITCH_CLASS_NAMES[tonic], "mode": generated["mode"], "correlation": generated["correlation"]}


@dataclass(frozen=True)
class RenderedPiece:
    files: dict[str, bytes]  # by kind (orchestrator.melodies.files.RESULT_FILES)
    seconds: float
    chords: list[str]  # one per bar, in the delivered key
    parts: list[str]


def render(events: np.ndarray, parameters: dict[str, Any], key: dict[str, Any] | None) -> RenderedPiece:
    """CPU work, run in a thread: arrange the parts under the melody (in the key the model found, C when none),
    write one MIDI track per part at the requested tempo and instrument, render the mix and each part's stem."""
    tonic, mode = (int(key["tonic"]), str(key["mode"])) if key else (0, str(parameters["mode"]))
    parts = tuple(parameters.get("parts", ["melody"]))  # jobs stored before parts existed made a melody alone
    piece = arrange(events, tonic, mode, float(parameters["mood"]["arousal"]), parameters["instrument"],
                    parameters["velocity"], parts)
    midi = piece_midi(piece, parameters["tempo_bpm"], parameters["transpose"])
    mix, stems = render_stems(midi, list(piece.parts), SAMPLE_RATE, TARGET_LUFS)
    signals = {"wav": (encode_wav, mix), "ogg": (encode_ogg, mix)}
    if len(stems) > 1:
        signals |= {f"stem_{name}": (encode_ogg, stem) for name, stem in stems.items()}
    # libsndfile encodes without the GIL: the files of one job are encoded side by side.
    with ThreadPoolExecutor(max_workers=ENCODE_THREADS) as pool:
        encoded = {kind: pool.submit(encode, signal, SAMPLE_RATE) for kind, (encode, signal) in signals.items()}
        files = {"midi": midi_bytes(midi)} | {kind: future.result() for kind, future in encoded.items()}
    transpose = int(parameters["transpose"])
    chords = [Chord(c.numeral, (c.root + transpose) % 12, c.tones, c.quality).name for c in piece.chords]
    return RenderedPiece(files, len(mix) / SAMPLE_RATE, chords if len(piece.parts) > 1 else [], list(piece.parts))


class MelodyPipeline:
    def __init__(self, inference: InferenceBackend, jobs: GenerationJobRepository, objects: ObjectStore,
                 events: ProgressEvents) -> None:
        self.inference = inference
        self.jobs = jobs
        self.objects = objects
        self.events = events

    async def _report(self, job_id: str, stage: JobStage, progress: float, attempt: int,
                      heartbeat: Heartbeat | None, **changes: Any) -> None:
        state = JobState.RUNNING if stage.state is JobState.QUEUED else stage.state
        await self.jobs.record(job_id, {"stage": stage.value, "progress": progress, "state": state.value, **changes})
        try:
            await self.events.publish(JobProgress(job_id, state, stage, progress, attempt, changes.get("error")))
        except DependencyUnavailableError:  # the document has it; a listener reconnecting will see it
            logger.warning("could not publish progress for job %s", job_id)
        if heartbeat is not None:
            await heartbeat()

    async def run(self, job: GenerationJob, attempt: int, heartbeat: Heartbeat | None = None) -> None:
        """Make the melody of `job` (as `jobs.by_id` read it)."""
        if job.state is JobState.SUCCEEDED:
            return
        job_id, parameters = job.id, job.parameters
        await self._report(job_id, JobStage.GENERATING, 0.05, attempt, heartbeat, attempts=attempt, error=None)
        request = {key: parameters[key] for key in ("mode", "density", "bars", "temperature", "seed")}
        answer = await self.inference.predict(MELODY_MODEL, json.dumps(request).encode())
        events = np.array(answer["events"], dtype=np.int16)

        await self._report(job_id, JobStage.RENDERING, 0.45, attempt, heartbeat)
        rendered = await asyncio.to_thread(render, events, parameters, answer.get("key"))

        await self._report(job_id, JobStage.UPLOADING, 0.75, attempt, heartbeat)
        keys = []
        for kind, data in rendered.files.items():
            key = result_key(job.owner_id, job_id, kind)
            await self.objects.put_bytes(key, data, RESULT_FILES[kind].media_type)
            keys.append(key)
            await self._report(job_id, JobStage.UPLOADING, 0.75 + 0.24 * len(keys) / len(rendered.files), attempt,
                               heartbeat)
        result = {
            "key": delivered_key(answer.get("key"), int(parameters["transpose"])), "key_check": answer.get("key_check"),
            "notes_per_bar": answer.get("notes_per_bar"), "target_notes_per_bar": answer.get("target_notes_per_bar"),
            "parts": rendered.parts, "chords": rendered.chords,
            "seconds": round(rendered.seconds, 2), "model": answer.get("model"),
        }
        await self._report(job_id, JobStage.DONE, 1.0, attempt, heartbeat, result_keys=keys, result=result)

    async def fail(self, job_id: str, reason: str, attempt: int) -> None:
        """The job will not be retried automatically: say why (the user may retry it)."""
        await self._report(job_id, JobStage.FAILED, 0.0, attempt, None, error=reason)


def failure_reason(error: BaseException) -> str:
    if isinstance(error, DependencyUnavailableError):
        return f"{error.dependency} is unavailable: {error.reason}"
    if isinstance(error, InvalidInputError):
        return f"the melody model refused the request: {error.reason}"
    return f"internal error: {error.__class__.__name__}"
