"""The generation-job queue: saq on Redis (append-only persistence keeps queued jobs across restarts).

A job is retried when its worker dies (no heartbeat for `heartbeat_s`: saq's sweep re-queues it) or
when a dependency it needs is down, up to `retries` attempts in all.
"""

from __future__ import annotations

from dataclasses import dataclass

from saq import Queue
from saq.queue.redis import RedisQueue

from orchestrator.core.settings import Settings
from orchestrator.storage.redis import RedisTimeouts, redis_client, translate_redis_errors

QUEUE_NAME = "museaika-generation"
MELODY_TASK = "generate_melody"


def create_queue(redis_url: str, timeouts: RedisTimeouts) -> Queue:
    return RedisQueue(redis_client(redis_url, timeouts), name=QUEUE_NAME)


@dataclass(frozen=True)
class JobPolicy:
    """How each melody job is run and retried (the JOB_* settings; no defaults here, so none can drift)."""

    heartbeat_s: int
    timeout_s: int
    retries: int  # attempts in all, the first included
    retry_delay_s: float
    retry_max_delay_s: float

    @classmethod
    def from_settings(cls, settings: Settings) -> JobPolicy:
        return cls(settings.job_heartbeat_s, settings.job_timeout_s, settings.job_retries,
                   settings.job_retry_delay_s, settings.job_retry_max_delay_s)


class JobQueue:
    def __init__(self, redis_url: str, timeouts: RedisTimeouts, policy: JobPolicy) -> None:
        self.queue = create_queue(redis_url, timeouts)
        self.policy = policy

    @classmethod
    def from_settings(cls, settings: Settings) -> JobQueue:
        return cls(settings.redis_url, RedisTimeouts.from_settings(settings), JobPolicy.from_settings(settings))

    async def enqueue_melody(self, job_id: str, attempt_key: str) -> None:
        """Queue a melody job; `attempt_key` is new for each user-requested retry (saq keeps keys of
        finished jobs for a while and would ignore a repeat)."""
        policy = self.policy
        async with translate_redis_errors():
            await self.queue.enqueue(MELODY_TASK, key=attempt_key, generation_job_id=job_id, retries=policy.retries,
                                     heartbeat=policy.heartbeat_s, timeout=policy.timeout_s,
                                     retry_delay=policy.retry_delay_s, retry_backoff=policy.retry_max_delay_s)

    async def ping(self) -> None:
        async with translate_redis_errors():
            await self.queue.redis.ping()  # type: ignore[attr-defined]

    async def close(self) -> None:
        await self.queue.disconnect()
