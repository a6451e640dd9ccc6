"""Generation jobs (melodies): state, stage, progress, parameters, result object keys, error.

The API creates a job for its owner; the worker, which has no user, updates it by id alone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo import ReturnDocument

from orchestrator.core.errors import NotFoundError
from orchestrator.storage.ids import object_id_or_404
from orchestrator.storage.mongo import MongoStore, translate_errors
from orchestrator.storage.owned import Document, OwnedCollection

JOB_STATES = ("queued", "running", "succeeded", "failed")
JOB_STAGES = ("queued", "generating", "rendering", "uploading", "done", "failed")


class GenerationJobRepository(OwnedCollection):
    def __init__(self, store: MongoStore) -> None:
        super().__init__(store, "generation_jobs", "generation job")

    async def count_active(self, owner_id: str) -> int:
        async with translate_errors():
            return await self.collection.count_documents({"owner_id": owner_id,
                                                          "state": {"$in": ["queued", "running"]}})

    async def by_id(self, job_id: str) -> Document:
        async with translate_errors():
            document = await self.collection.find_one({"_id": object_id_or_404(job_id, self.what)})
        if document is None:
            raise NotFoundError(f"{self.what} {job_id!r}")
        return document

    async def record(self, job_id: str, changes: dict[str, Any], increment: dict[str, int] | None = None,
                     only_if_state: tuple[str, ...] | None = None) -> Document | None:
        """Apply a worker's update; None when `only_if_state` no longer holds (e.g. already succeeded)."""
        query: dict[str, Any] = {"_id": object_id_or_404(job_id, self.what)}
        if only_if_state:
            query["state"] = {"$in": list(only_if_state)}
        update: dict[str, Any] = {"$set": {**changes, "updated_at": datetime.now(UTC)}}
        if increment:
            update["$inc"] = increment
        async with translate_errors():
            return await self.collection.find_one_and_update(query, update, return_document=ReturnDocument.AFTER)
