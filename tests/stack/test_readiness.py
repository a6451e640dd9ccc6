"""/readyz's checks against the real dependencies (a Mongo-wire server, Redis, S3): a flood of concurrent probes
costs the dependencies one round of checks, the answer is reused for a second, a probe that gives up does not
cancel the round the others wait for, and a dependency going down shows within that second."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest

from launcher import services
from orchestrator.core.errors import DependencyUnavailableError
from orchestrator.core.settings import Settings
from orchestrator.health.readiness import ReadinessService
from orchestrator.inference.factory import create_backend
from orchestrator.melodies.queue import JobQueue
from orchestrator.storage.mongo import MongoStore
from orchestrator.storage.objects import ObjectStore

PROBES = 25
CACHE_S = 1.0
SLOW_PING_S = 0.3  # the probes below all arrive while the first round is still checking


@dataclass
class CountedPing:
    """MongoDB's real ping, counted, made slow enough for concurrent probes to overlap it, or failing on demand."""
    ping: Callable[[], Awaitable[None]]
    calls: int = 0
    down: bool = False

    async def __call__(self) -> None:
        self.calls += 1
        await asyncio.sleep(SLOW_PING_S)
        if self.down:
            raise DependencyUnavailableError("mongodb", "stopped by the test")
        await self.ping()


@dataclass
class Checked:
    service: ReadinessService
    mongo: CountedPing


@pytest.fixture
async def checked(mongo_url: str, mongo_database: str, redis_url: str,
                  s3_endpoint: services.S3Endpoint) -> AsyncIterator[Checked]:
    settings = Settings(mongo_url=mongo_url, mongo_database=mongo_database, redis_url=redis_url,
                        s3_endpoint=s3_endpoint.endpoint, s3_access_key=s3_endpoint.access_key,
                        s3_secret_key=s3_endpoint.secret_key, s3_bucket="museaika-readiness", models=[])
    store, queue, objects = MongoStore.from_settings(settings), JobQueue.from_settings(settings), ObjectStore(settings)
    await objects.ensure_bucket()
    mongo = CountedPing(store.ping)
    store.ping = mongo  # type: ignore[method-assign]
    # No models: the inference backend is never asked (nor started).
    service = ReadinessService(create_backend(settings, models=[]), store, [], queue, objects, timeout_s=5,
                               cache_s=CACHE_S)
    try:
        yield Checked(service, mongo)
    finally:
        await store.close()
        await queue.close()
        await objects.close()


async def test_concurrent_probes_share_one_round_of_checks(checked: Checked) -> None:
    answers = await asyncio.gather(*(checked.service.check() for _ in range(PROBES)))
    assert checked.mongo.calls == 1, f"{checked.mongo.calls} rounds of checks for {PROBES} concurrent probes"
    assert answers[0].ready, answers[0]
    assert all(answer is answers[0] for answer in answers)
    # Within the second: the same answer, no new round.
    assert await checked.service.check() is answers[0] and checked.mongo.calls == 1
    # A probe that gives up (its client timed out) does not cancel the round the others are waiting for.
    await asyncio.sleep(CACHE_S)
    impatient = asyncio.ensure_future(checked.service.check())
    await asyncio.sleep(SLOW_PING_S / 3)
    patient = asyncio.ensure_future(checked.service.check())
    impatient.cancel()
    answer = await patient
    assert answer.ready and answer is not answers[0] and checked.mongo.calls == 2


async def test_a_dependency_down_shows_once_the_second_is_over(checked: Checked) -> None:
    assert (await checked.service.check()).ready
    checked.mongo.down = True
    assert (await checked.service.check()).ready, "cached for a second"
    await asyncio.sleep(CACHE_S)
    down = await checked.service.check()
    assert not down.ready and down.dependencies["mongodb"].detail == "stopped by the test"
    assert down.dependencies["redis"].ready and checked.mongo.calls == 2
