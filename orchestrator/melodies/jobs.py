"""Generation jobs (melodies): their state machine and the repository that stores them.

A job's `state` is what a client waits on (queued → running → succeeded or failed); its `stage` says
where a running job is. The API creates a job for its owner; the worker, which has no user, updates it by
id alone. Documents become `GenerationJob` records here, so nothing above this module reads a raw document.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pymongo import ReturnDocument

from orchestrator.core.errors import NotFoundError
from orchestrator.storage.ids import object_id_or_404
from orchestrator.storage.mongo import MongoStore, translate_errors
from orchestrator.storage.owned import Document, OwnedCollection

MELODY_KIND = "melody"


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class JobStage(StrEnum):
    QUEUED = "queued"
    GENERATING = "generating"
    RENDERING = "rendering"
    UPLOADING = "uploading"
    DONE = "done"
    FAILED = "failed"

    @property
    def state(self) -> JobState:
        """The state a job is in while at this stage."""
        return _STATE_AT_STAGE.get(self, JobState.RUNNING)

    @property
    def rank(self) -> int:
        """Position in a job's progression: a listener never goes back to a lower rank in one attempt."""
        return list(JobStage).index(self)


_STATE_AT_STAGE = {JobStage.QUEUED: JobState.QUEUED, JobStage.DONE: JobState.SUCCEEDED,
                   JobStage.FAILED: JobState.FAILED}
ACTIVE_STATES = frozenset({JobState.QUEUED, JobState.RUNNING})  # these count against a user's quota
TERMINAL_STAGES = frozenset({JobStage.DONE, JobStage.FAILED})


@dataclass(frozen=True)
class GenerationJob:
    """One stored job. `parameters` is the full recipe (mood, mode, tempo, seed …): the same recipe makes the
    same melody, so a retry repeats it exactly."""

    id: str
    owner_id: str
    kind: str
    state: JobState
    stage: JobStage
    progress: float
    parameters: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    attempts: int = 0  # times a worker has started it
    retries: int = 0  # times its owner asked for it again
    result_keys: list[str] = field(default_factory=list)
    result: dict[str, Any] | None = None
    error: str | None = None

    @property
    def finished(self) -> bool:
        return self.stage in TERMINAL_STAGES

    @classmethod
    def from_document(cls, document: Document) -> GenerationJob:
        # Documents written before a field existed still read (stage, attempts, retries came later).
        return cls(id=str(document["_id"]), owner_id=str(document["owner_id"]),
                   kind=str(document.get("kind", MELODY_KIND)), state=JobState(document["state"]),
                   stage=JobStage(document.get("stage", JobStage.QUEUED)),
                   progress=float(document.get("progress", 0.0)), parameters=dict(document.get("parameters") or {}),
                   created_at=document["created_at"], updated_at=document.get("updated_at") or document["created_at"],
                   attempts=int(document.get("attempts", 0)), retries=int(document.get("retries", 0)),
                   result_keys=list(document.get("result_keys") or []), result=document.get("result"),
                   error=document.get("error"))


def new_job_document(owner_id: str, parameters: dict[str, Any]) -> Document:
    """A queued melody job as the API first stores it."""
    now = datetime.now(UTC)
    return {"owner_id": owner_id, "kind": MELODY_KIND, "state": JobState.QUEUED.value,
            "stage": JobStage.QUEUED.value, "progress": 0.0, "attempts": 0, "retries": 0,
            "parameters": parameters, "result_keys": [], "result": None, "error": None,
            "created_at": now, "updated_at": now}


class GenerationJobRepository(OwnedCollection[GenerationJob]):
    def __init__(self, store: MongoStore) -> None:
        super().__init__(store, "generation_jobs", "generation job", GenerationJob.from_document)

    async def count_active(self, owner_id: str) -> int:
        async with translate_errors():
            return await self.collection.count_documents({"owner_id": owner_id,
                                                          "state": {"$in": [s.value for s in ACTIVE_STATES]}})

    async def by_id(self, job_id: str) -> GenerationJob:
        async with translate_errors():
            document = await self.collection.find_one({"_id": object_id_or_404(job_id, self.what)})
        if document is None:
            raise NotFoundError(f"{self.what} {job_id!r}")
        return GenerationJob.from_document(document)

    async def record(self, job_id: str, changes: dict[str, Any], increment: dict[str, int] | None = None,
                     only_if_state: tuple[JobState, ...] | None = None) -> GenerationJob | None:
        """Apply a worker's update; None when `only_if_state` no longer holds (e.g. already succeeded)."""
        query: dict[str, Any] = {"_id": object_id_or_404(job_id, self.what)}
        if only_if_state:
            query["state"] = {"$in": [s.value for s in only_if_state]}
        update: dict[str, Any] = {"$set": {**changes, "updated_at": datetime.now(UTC)}}
        if increment:
            update["$inc"] = increment
        async with translate_errors():
            document = await self.collection.find_one_and_update(query, update,
                                                                 return_document=ReturnDocument.AFTER)
        return None if document is None else GenerationJob.from_document(document)
