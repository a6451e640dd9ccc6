"""Melody jobs for users: validate and resolve a request, create the job, queue it, describe it.

Nothing accepted is lost: the job document is written first, then queued; if the queue is down the
document is removed again and the caller gets 503 (nothing was accepted). A failed job can be
retried by its owner.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from music.accompaniment import DRUMS_FROM_AROUSAL
from music.instruments import PROGRAM_BY_NAME, spelled_like
from music.mood_targets import melody_targets
from music.piece import PARTS
from orchestrator.core.errors import DependencyUnavailableError, InvalidInputError, TooManyAttemptsError
from orchestrator.melodies.files import RESULT_FILES, result_kind
from orchestrator.melodies.jobs import GenerationJob, GenerationJobRepository, JobStage, JobState, new_job_document
from orchestrator.melodies.queue import JobQueue
from orchestrator.melodies.schemas import MelodyRequest
from orchestrator.moods.resolver import MoodResolver, ResolvedMood
from orchestrator.storage.objects import ObjectStore

RETRY_AFTER_BUSY_S = 5


def resolve_instrument(instrument: int | str) -> int:
    """A General MIDI program number from a number or an instrument name exactly as the schema lists it
    (music/instruments.py; 422 otherwise, naming the listed spelling when only case or spacing differ)."""
    if isinstance(instrument, int):
        if not 0 <= instrument <= 127:
            raise InvalidInputError(422, "instrument must be a General MIDI program from 0 to 127")
        return instrument
    program = PROGRAM_BY_NAME.get(instrument)
    if program is None:
        meant = spelled_like(instrument)
        hint = f"did you mean {meant!r}?" if meant else "e.g. 'Acoustic Grand Piano' (the API schema lists all 128)"
        raise InvalidInputError(422, f"unknown instrument {instrument!r}: use a General MIDI program number "
                                     f"(0–127) or its name exactly as listed; {hint}")
    return program


def resolve_parts(parts: Sequence[str], arousal: float) -> list[str]:
    """The parts a request gets, in track order: drums only for an aroused mood (422 when nothing is left)."""
    wanted = [part for part in PARTS if part in parts]
    made = [part for part in wanted if part != "drums" or arousal >= DRUMS_FROM_AROUSAL]
    if not made:
        raise InvalidInputError(422, f"drums play only for a mood with arousal ≥ {DRUMS_FROM_AROUSAL} (this one has "
                                     f"{arousal:.2f}); ask for another part too")
    return made


def resolve_parameters(request: MelodyRequest, mood: ResolvedMood) -> dict[str, Any]:
    """The full, stored recipe of a melody: everything needed to make the same one again."""
    label, valence, arousal = mood
    targets = melody_targets(valence, arousal)
    return {
        "mood": {"label": label, "valence": round(valence, 4), "arousal": round(arousal, 4)},
        "mode": targets.mode,
        "density": targets.density_quantile,
        "bars": request.bars,
        "tempo_bpm": request.tempo if request.tempo is not None else targets.tempo_bpm,
        "instrument": resolve_instrument(request.instrument),
        "parts": resolve_parts(request.parts, arousal),
        "velocity": targets.velocity,
        "transpose": targets.transpose,
        "temperature": request.temperature,
        # Drawn here, stored with the job: a retried job makes the same melody.
        "seed": request.seed if request.seed is not None else secrets.randbelow(2**53),
    }


class MelodyService:
    def __init__(self, jobs: GenerationJobRepository, queue: JobQueue, objects: ObjectStore,
                 moods: MoodResolver, max_active_per_user: int) -> None:
        self.jobs = jobs
        self.queue = queue
        self.objects = objects
        self.moods = moods
        self.max_active_per_user = max_active_per_user

    async def create(self, owner_id: str, request: MelodyRequest) -> GenerationJob:
        # One user cannot fill the queue: a few jobs in flight each, the next waits for one to finish.
        if await self.jobs.count_active(owner_id) >= self.max_active_per_user:
            raise TooManyAttemptsError(f"you already have {self.max_active_per_user} melodies queued or being made; "
                                       "wait for one to finish", RETRY_AFTER_BUSY_S)
        parameters = resolve_parameters(request, await self.moods.resolve(request.mood, owner_id))
        job = await self.jobs.insert(new_job_document(owner_id, parameters))
        try:
            await self.queue.enqueue_melody(job.id, f"{job.id}:0")
        except DependencyUnavailableError:
            await self.jobs.delete(owner_id, job.id)
            raise
        return job

    async def get(self, owner_id: str, job_id: str) -> GenerationJob:
        return await self.jobs.get(owner_id, job_id)

    async def page(self, owner_id: str, limit: int, cursor: str | None) -> tuple[list[GenerationJob], str | None]:
        return await self.jobs.page(owner_id, limit, cursor)

    async def retry(self, owner_id: str, job_id: str) -> GenerationJob:
        job = await self.jobs.get(owner_id, job_id)
        if job.state is not JobState.FAILED:
            raise InvalidInputError(409, f"only a failed job can be retried; this one is {job.state}")
        retries = job.retries + 1
        updated = await self.jobs.record(job_id, {"state": JobState.QUEUED.value, "stage": JobStage.QUEUED.value,
                                                  "progress": 0.0, "error": None, "retries": retries},
                                         only_if_state=(JobState.FAILED,))
        if updated is None:
            raise InvalidInputError(409, "the job changed state meanwhile; fetch it again")
        try:
            await self.queue.enqueue_melody(job_id, f"{job_id}:{retries}")
        except DependencyUnavailableError:
            await self.jobs.record(job_id, {"state": JobState.FAILED.value, "stage": JobStage.FAILED.value,
                                            "error": "the job queue was unavailable; retry later"})
            raise
        return updated

    async def download_links(self, job: GenerationJob) -> dict[str, str] | None:
        """Presigned links to a succeeded job's files, by kind (midi, wav, ogg); None before it succeeded."""
        if job.state is not JobState.SUCCEEDED or not job.result_keys:
            return None
        kinds = {key: result_kind(key) for key in job.result_keys}
        return {kind: await self.objects.presigned_get_url(key, RESULT_FILES[kind].file_name)
                for key, kind in kinds.items() if kind is not None}
