"""Per-dependency readiness for GET /readyz."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from orchestrator.errors import DependencyUnavailableError
from orchestrator.inference.client import InferenceBackend, ModelStatus
from orchestrator.store.mongo import MongoStore


@dataclass(frozen=True)
class Readiness:
    ready: bool
    dependencies: dict[str, ModelStatus]


class ReadinessService:
    def __init__(self, inference: InferenceBackend, store: MongoStore, models: list[str]) -> None:
        self.inference = inference
        self.store = store
        self.models = models

    async def _mongo(self) -> ModelStatus:
        try:
            await self.store.ping()
        except DependencyUnavailableError as error:
            return ModelStatus(False, error.reason)
        return ModelStatus(True, "ping ok")

    async def check(self) -> Readiness:
        names = ["mongodb", *(f"model:{m}" for m in self.models)]
        results = await asyncio.gather(self._mongo(), *(self.inference.status(m) for m in self.models))
        dependencies = dict(zip(names, results, strict=True))
        return Readiness(all(s.ready for s in results), dependencies)
