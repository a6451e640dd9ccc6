"""One melody job, start to finish: generate (melody model) → arrange and render (MIDI, mix, stems) → upload (S3).

Every stage is mirrored in the job document and published as a progress event. The pipeline is
idempotent: a retried job that already succeeded does nothing, and objects are written under keys fixed
by the job id, so a retry after a half-finished upload overwrites rather than duplicates.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import numpy as np

from music.harmony import PITCH_CLASS_NAMES
from orchestrator.core.errors import DependencyUnavailableError, InvalidInputError
from orchestrator.inference.client import InferenceBackend
from orchestrator.melodies.files import RESULT_FILES, result_key
from orchestrator.melodies.jobs import GenerationJob, GenerationJobRepository, JobStage, JobState
from orchestrator.melodies.progress import JobProgress, ProgressEvents
from orchestrator.melodies.rendering import PieceRenderer
from orchestrator.storage.objects import ObjectStore

logger = logging.getLogger(__name__)

MELODY_MODEL = "melody"
Heartbeat = Callable[[], Awaitable[Any]]
Result = TypeVar("Result")


def delivered_key(generated: dict[str, Any] | None, transpose: int) -> dict[str, Any] | None:
    """The model answers in C; the files are transposed by the mood's register shift."""
    if generated is None:
        return None
    tonic = (int(generated["tonic"]) + transpose) % 12
    return {"tonic": PITCH_CLASS_NAMES[tonic], "mode": generated["mode"], "correlation": generated["correlation"]}


class MelodyPipeline:
    def __init__(self, inference: InferenceBackend, jobs: GenerationJobRepository, objects: ObjectStore,
                 events: ProgressEvents, renderer: PieceRenderer) -> None:
        self.inference = inference
        self.renderer = renderer
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
        # Where a job's time goes, in the result: the wait since the request (this attempt's), then each stage.
        timings = {"queued": _milliseconds_since(job.created_at)}
        started = stage_started = time.perf_counter()
        request = {key: parameters[key] for key in ("mode", "density", "bars", "temperature", "seed")}
        answer = await _alongside(
            self._report(job_id, JobStage.GENERATING, 0.05, attempt, heartbeat, attempts=attempt, error=None),
            self.inference.predict(MELODY_MODEL, json.dumps(request).encode()), heartbeat)
        events = np.array(answer["events"], dtype=np.int16)
        timings["generate"], stage_started = _milliseconds(stage_started), time.perf_counter()

        rendered = await _alongside(self._report(job_id, JobStage.RENDERING, 0.45, attempt, heartbeat),
                                    asyncio.to_thread(self.renderer.render, events, parameters, answer.get("key")),
                                    heartbeat)
        timings["render"], stage_started = _milliseconds(stage_started), time.perf_counter()

        # The files go up side by side: each put waits on the object store, not on the CPU.
        keys = [result_key(job.owner_id, job_id, kind) for kind in rendered.files]
        await _alongside(self._report(job_id, JobStage.UPLOADING, 0.75, attempt, heartbeat), asyncio.gather(
            *(self.objects.put_bytes(key, data, RESULT_FILES[kind].media_type)
              for key, (kind, data) in zip(keys, rendered.files.items(), strict=True))), heartbeat)
        result = {
            "key": delivered_key(answer.get("key"), int(parameters["transpose"])), "key_check": answer.get("key_check"),
            "notes_per_bar": answer.get("notes_per_bar"), "target_notes_per_bar": answer.get("target_notes_per_bar"),
            "parts": rendered.parts, "chords": rendered.chords,
            "seconds": round(rendered.seconds, 2), "model": answer.get("model"),
            "timings_ms": timings | {"upload": _milliseconds(stage_started), "run": _milliseconds(started)},
        }
        await self._report(job_id, JobStage.DONE, 1.0, attempt, heartbeat, result_keys=keys, result=result)

    async def fail(self, job_id: str, reason: str, attempt: int) -> None:
        """The job will not be retried automatically: say why (the user may retry it)."""
        await self._report(job_id, JobStage.FAILED, 0.0, attempt, None, error=reason)


HEARTBEAT_INTERVAL_S = 0.5  # well inside the shortest job_heartbeat_s (1 s) after which a silent job is retried


async def _beat(heartbeat: Heartbeat) -> None:
    while True:
        await asyncio.sleep(HEARTBEAT_INTERVAL_S)
        with contextlib.suppress(Exception):  # a missed beat is retried next time; the stage goes on
            await heartbeat()


async def _alongside(report: Awaitable[None], work: Awaitable[Result], heartbeat: Heartbeat | None) -> Result:
    """The stage's work, with the report that it has begun written meanwhile (both wait on other processes), and
    the job's heartbeat kept while it works: a long render is not a dead worker. The report is finished before
    the next one starts, so a stage's events stay in order; where the work fails, its error is the one raised."""
    reporting = asyncio.ensure_future(report)
    beating = asyncio.ensure_future(_beat(heartbeat)) if heartbeat is not None else None
    try:
        result = await work
    except BaseException:
        with contextlib.suppress(Exception):
            await reporting
        raise
    finally:
        if beating is not None:
            beating.cancel()
    await reporting
    return result


def _milliseconds(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 1)


def _milliseconds_since(moment: datetime) -> float:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # BSON dates come back naive, in UTC
    return round((datetime.now(UTC) - aware).total_seconds() * 1000, 1)


def failure_reason(error: BaseException) -> str:
    if isinstance(error, DependencyUnavailableError):
        return f"{error.dependency} is unavailable: {error.reason}"
    if isinstance(error, InvalidInputError):
        return f"the melody model refused the request: {error.reason}"
    return f"internal error: {error.__class__.__name__}"
