"""Per-dependency readiness for GET /readyz."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from orchestrator.errors import DependencyUnavailableError
from orchestrator.inference.client import InferenceBackend, ModelStatus
from orchestrator.jobs.queue import JobQueue
from orchestrator.store.mongo import MongoStore
from orchestrator.store.objects import ObjectStore


@dataclass(frozen=True)
class Readiness:
    ready: bool
    dependencies: dict[str, ModelStatus]


class ReadinessService:
    def __init__(self, inference: InferenceBackend, store: MongoStore, models: list[str], queue: JobQueue,
                 objects: ObjectStore) -> None:
        self.inference = inference
        self.store = store
        self.models = models
        self.queue = queue
        self.objects = objects

    @staticmethod
    async def _ping(ping: Callable[[], Awaitable[None]]) -> ModelStatus:
        try:
            await ping()
        except DependencyUnavailableError as error:
            return ModelStatus(False, error.reason)
        return ModelStatus(True, "ping ok")

    async def check(self) -> Readiness:
        names = ["mongodb", "redis", "object storage", *(f"model:{m}" for m in self.models)]
        results = await asyncio.gather(self._ping(self.store.ping), self._ping(self.queue.ping),
                                       self._ping(self.objects.ping), *(self.inference.status(m) for m in self.models))
        dependencies = dict(zip(names, results, strict=True))
        return Readiness(all(s.ready for s in results), dependencies)
