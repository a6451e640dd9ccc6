"""Per-dependency readiness for GET /readyz.

Every dependency is checked at once, each within `timeout_s`: a dependency that hangs is reported as not
answering, and /readyz itself answers within about `timeout_s` (a probe that hangs is a probe that fails)."""

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
                 objects: ObjectStore, timeout_s: float = 3.0) -> None:
        self.inference = inference
        self.timeout_s = timeout_s
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

    async def _within_timeout(self, check: Awaitable[ModelStatus]) -> ModelStatus:
        try:
            return await asyncio.wait_for(check, self.timeout_s)
        except TimeoutError:
            return ModelStatus(False, f"no answer within {self.timeout_s:g} s")

    async def check(self) -> Readiness:
        names = ["mongodb", "redis", "object storage", *(f"model:{m}" for m in self.models)]
        checks = [self._ping(self.store.ping), self._ping(self.queue.ping), self._ping(self.objects.ping),
                  *(self.inference.status(m) for m in self.models)]
        results = await asyncio.gather(*(self._within_timeout(c) for c in checks))
        dependencies = dict(zip(names, results, strict=True))
        return Readiness(all(s.ready for s in results), dependencies)
