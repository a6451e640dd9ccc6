"""Per-dependency readiness for GET /readyz.

Every dependency is checked at once, each within `timeout_s`: a dependency that hangs is reported as not
answering, and /readyz itself answers within about `timeout_s` (a probe that hangs is a probe that fails).

/readyz is not rate limited (orchestration probes it, from anywhere), so its cost must not grow with how often it
is called: one round of checks runs at a time, and callers arriving meanwhile wait for that round instead of
starting their own; its answer is then reused for `cache_s` (a second by default: fresh enough for any probe
period, and a flood of probes costs the dependencies one round per second)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from orchestrator.core.errors import DependencyUnavailableError
from orchestrator.inference.client import InferenceBackend, ModelStatus
from orchestrator.melodies.queue import JobQueue
from orchestrator.storage.mongo import MongoStore
from orchestrator.storage.objects import ObjectStore

CACHE_S = 1.0


@dataclass(frozen=True)
class Readiness:
    ready: bool
    dependencies: dict[str, ModelStatus]


class ReadinessService:
    def __init__(self, inference: InferenceBackend, store: MongoStore, models: list[str], queue: JobQueue,
                 objects: ObjectStore, timeout_s: float = 3.0, cache_s: float = CACHE_S) -> None:
        self.inference = inference
        self.timeout_s = timeout_s
        self.cache_s = cache_s
        self.store = store
        self.models = models
        self.queue = queue
        self.objects = objects
        self._last: tuple[float, Readiness] | None = None  # (time.monotonic() when it was known, the answer)
        self._round: asyncio.Task[Readiness] | None = None  # the round of checks in flight

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

    async def _check_all(self) -> Readiness:
        names = ["mongodb", "redis", "object storage", *(f"model:{m}" for m in self.models)]
        checks = [self._ping(self.store.ping), self._ping(self.queue.ping), self._ping(self.objects.ping),
                  *(self.inference.status(m) for m in self.models)]
        results = await asyncio.gather(*(self._within_timeout(c) for c in checks))
        dependencies = dict(zip(names, results, strict=True))
        return Readiness(all(s.ready for s in results), dependencies)

    def _round_done(self, finished: asyncio.Task[Readiness]) -> None:
        self._round = None
        if not finished.cancelled() and finished.exception() is None:
            self._last = (time.monotonic(), finished.result())

    async def check(self) -> Readiness:
        if self._last is not None and time.monotonic() - self._last[0] < self.cache_s:
            return self._last[1]
        if self._round is None:
            self._round = asyncio.create_task(self._check_all())
            self._round.add_done_callback(self._round_done)
        # Shielded: a caller that goes away (a probe timing out) does not cancel the round the others wait for.
        return await asyncio.shield(self._round)
