"""Job progress events over Redis pub/sub: the worker publishes, WebSocket routes subscribe and forward.

One shape from the worker to the socket: `JobProgress`. Pub/sub is fire-and-forget; the job document in
MongoDB is the record. A subscriber therefore subscribes *before* reading the document, so it misses nothing
between the snapshot and the stream.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from typing import Any

import redis.asyncio as aioredis

from orchestrator.melodies.jobs import GenerationJob, JobStage, JobState
from orchestrator.storage.redis import RedisTimeouts, redis_client, translate_redis_errors


@dataclass(frozen=True)
class JobProgress:
    """Where a job is: what the worker publishes and what a WebSocket listener receives."""

    job_id: str
    state: JobState
    stage: JobStage
    progress: float
    attempts: int
    error: str | None = None

    @property
    def order(self) -> tuple[int, int, float]:
        """Later attempts come after earlier ones; within one, stages and progress only move forward."""
        return self.attempts, self.stage.rank, self.progress

    @classmethod
    def of(cls, job: GenerationJob) -> JobProgress:
        return cls(job.id, job.state, job.stage, job.progress, job.attempts, job.error)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobProgress:
        return cls(str(data["job_id"]), JobState(data["state"]), JobStage(data["stage"]), float(data["progress"]),
                   int(data.get("attempts", 0)), data.get("error"))

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "state": self.state.value, "stage": self.stage.value}


class Subscribed:
    """The first item `subscribe` yields, once the subscription is live."""


SUBSCRIBED = Subscribed()


def channel_for(job_id: str) -> str:
    return f"museaika:job-events:{job_id}"


class ProgressEvents:
    def __init__(self, redis_url: str, timeouts: RedisTimeouts) -> None:
        # The reply timeout bounds publishing; a subscription's wait for the next message is not a reply
        # and has no timeout (redis-py blocks on pub/sub reads), so a quiet job keeps its stream.
        self.redis: aioredis.Redis = redis_client(redis_url, timeouts)

    async def publish(self, event: JobProgress) -> None:
        async with translate_redis_errors():
            await self.redis.publish(channel_for(event.job_id), json.dumps(event.as_dict()))

    async def subscribe(self, job_id: str) -> AsyncIterator[JobProgress | Subscribed]:
        """`SUBSCRIBED` first, once the subscription is live; then every event as it is published."""
        async with translate_redis_errors():
            pubsub = self.redis.pubsub()
            await pubsub.subscribe(channel_for(job_id))
        try:
            yield SUBSCRIBED
            async for message in pubsub.listen():
                if message.get("type") != "message":
                    continue
                yield JobProgress.from_dict(json.loads(message["data"]))
        finally:
            await pubsub.unsubscribe()
            await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def close(self) -> None:
        await self.redis.aclose()
