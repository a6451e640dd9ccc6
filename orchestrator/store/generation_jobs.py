"""Generation jobs (melodies, later): state, progress, parameters, result object keys, error."""

from __future__ import annotations

from orchestrator.store.mongo import MongoStore
from orchestrator.store.owned import OwnedCollection

JOB_STATES = ("queued", "running", "succeeded", "failed")


class GenerationJobRepository(OwnedCollection):
    def __init__(self, store: MongoStore) -> None:
        super().__init__(store, "generation_jobs", "generation job")
