"""One melody job, start to finish: generate (melody model) → render (MIDI, WAV, OGG) → upload (S3).

Every stage is mirrored in the job document and published as a progress event. The pipeline is
idempotent: a retried job that already succeeded does nothing, and objects are written under keys fixed
by the job id, so a retry after a half-finished upload overwrites rather than duplicates.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from music.rendering import encode_ogg, encode_wav, loudness_normalize, melody_to_midi, render_audio
from orchestrator.core.errors import DependencyUnavailableError, InvalidInputError
from orchestrator.inference.client import InferenceBackend
from orchestrator.melodies.jobs import GenerationJobRepository
from orchestrator.melodies.progress import ProgressEvents
from orchestrator.storage.objects import ObjectStore
from orchestrator.storage.owned import Document

logger = logging.getLogger(__name__)

MELODY_MODEL = "melody"
SAMPLE_RATE = 44100
TARGET_LUFS = -16.0
RESULT_FILES = {"midi": ("melody.mid", "audio/midi"), "wav": ("melody.wav", "audio/wav"),
                "ogg": ("melody.ogg", "audio/ogg")}
Heartbeat = Callable[[], Awaitable[Any]]


PITCH_CLASS_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")


def delivered_key(generated: dict[str, Any] | None, transpose: int) -> dict[str, Any] | None:
    """The model answers in C; the files are transposed by the mood's register shift."""
    if generated is None:
        return None
    tonic = (int(generated["tonic"]) + transpose) % 12
    return {"tonic": PITCH_CLASS_NAMES[tonic], "mode": generated["mode"], "correlation": generated["correlation"]}


def result_key(owner_id: str, job_id: str, kind: str) -> str:
    return f"users/{owner_id}/melodies/{job_id}/{RESULT_FILES[kind][0]}"


@dataclass(frozen=True)
class RenderedMelody:
    midi: bytes
    wav: bytes
    ogg: bytes
    seconds: float


def render(events: np.ndarray, parameters: dict[str, Any]) -> RenderedMelody:
    """CPU work, run in a thread: MIDI at the requested tempo/instrument, then loudness-normalised audio."""
    midi = melody_to_midi(events, parameters["tempo_bpm"], parameters["instrument"], parameters["velocity"],
                          parameters["transpose"])
    audio = loudness_normalize(render_audio(midi, SAMPLE_RATE), SAMPLE_RATE, TARGET_LUFS)
    return RenderedMelody(midi, encode_wav(audio, SAMPLE_RATE), encode_ogg(audio, SAMPLE_RATE),
                          len(audio) / SAMPLE_RATE)


class MelodyPipeline:
    def __init__(self, inference: InferenceBackend, jobs: GenerationJobRepository, objects: ObjectStore,
                 events: ProgressEvents) -> None:
        self.inference = inference
        self.jobs = jobs
        self.objects = objects
        self.events = events

    async def _report(self, job_id: str, stage: str, progress: float, heartbeat: Heartbeat | None,
                      **changes: Any) -> None:
        state = {"done": "succeeded", "failed": "failed"}.get(stage, "running")
        await self.jobs.record(job_id, {"stage": stage, "progress": progress, "state": state, **changes})
        event = {"job_id": job_id, "stage": stage, "state": state, "progress": progress,
                 **{k: v for k, v in changes.items() if k in ("error", "attempts")}}
        try:
            await self.events.publish(job_id, event)
        except DependencyUnavailableError:  # the document has it; a listener reconnecting will see it
            logger.warning("could not publish progress for job %s", job_id)
        if heartbeat is not None:
            await heartbeat()

    async def run(self, job: Document, attempt: int, heartbeat: Heartbeat | None = None) -> None:
        """Make the melody of `job` (its document, as `jobs.by_id` read it)."""
        if job["state"] == "succeeded":
            return
        job_id = str(job["_id"])
        parameters = job["parameters"]
        await self._report(job_id, "generating", 0.05, heartbeat, attempts=attempt, error=None)
        request = {key: parameters[key] for key in ("mode", "density", "bars", "temperature", "seed")}
        answer = await self.inference.predict(MELODY_MODEL, json.dumps(request).encode())
        events = np.array(answer["events"], dtype=np.int16)

        await self._report(job_id, "rendering", 0.45, heartbeat)
        rendered = await asyncio.to_thread(render, events, parameters)

        await self._report(job_id, "uploading", 0.75, heartbeat)
        owner = str(job["owner_id"])
        keys = []
        for kind, data in (("midi", rendered.midi), ("wav", rendered.wav), ("ogg", rendered.ogg)):
            key = result_key(owner, job_id, kind)
            await self.objects.put_bytes(key, data, RESULT_FILES[kind][1])
            keys.append(key)
            await self._report(job_id, "uploading", 0.75 + 0.08 * len(keys), heartbeat)
        result = {
            "key": delivered_key(answer.get("key"), int(parameters["transpose"])), "key_check": answer.get("key_check"),
            "notes_per_bar": answer.get("notes_per_bar"), "target_notes_per_bar": answer.get("target_notes_per_bar"),
            "seconds": round(rendered.seconds, 2), "model": answer.get("model"),
        }
        await self._report(job_id, "done", 1.0, heartbeat, result_keys=keys, result=result)

    async def fail(self, job_id: str, reason: str) -> None:
        """The job will not be retried automatically: say why (the user may retry it)."""
        await self._report(job_id, "failed", 0.0, None, error=reason)


def failure_reason(error: BaseException) -> str:
    if isinstance(error, DependencyUnavailableError):
        return f"{error.dependency} is unavailable: {error.reason}"
    if isinstance(error, InvalidInputError):
        return f"the melody model refused the request: {error.reason}"
    return f"internal error: {error.__class__.__name__}"
