"""The generation-job queue: saq on Redis (append-only persistence keeps queued jobs across restarts).

A job is retried when its worker dies (no heartbeat for `heartbeat_s`: saq's sweep re-queues it) or
when a dependency it needs is down, up to `retries` attempts in all.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from saq import Queue
from saq.queue.redis import RedisQueue

from orchestrator.errors import DependencyUnavailableError

DEPENDENCY = "redis"
QUEUE_NAME = "museaika-generation"
MELODY_TASK = "generate_melody"


@asynccontextmanager
async def translate_redis_errors() -> AsyncIterator[None]:
    try:
        yield
    except (RedisError, OSError) as error:
        raise DependencyUnavailableError(DEPENDENCY, str(error) or error.__class__.__name__) from error


def redis_client(redis_url: str) -> aioredis.Redis:
    """A client that reconnects: after a Redis restart the pool's old connections fail once each, and a
    few quick retries turn that into a short delay instead of a 503. A Redis that stays down still fails
    within about two seconds."""
    return aioredis.from_url(
        redis_url,
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), 3),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
        socket_connect_timeout=2,
        socket_timeout=10,
        health_check_interval=15,
    )


def create_queue(redis_url: str) -> Queue:
    return RedisQueue(redis_client(redis_url), name=QUEUE_NAME)


class JobQueue:
    def __init__(self, redis_url: str, heartbeat_s: int, timeout_s: int, retries: int) -> None:
        self.queue = create_queue(redis_url)
        self.heartbeat_s = heartbeat_s
        self.timeout_s = timeout_s
        self.retries = retries

    async def enqueue_melody(self, job_id: str, attempt_key: str) -> None:
        """Queue a melody job; `attempt_key` is new for each user-requested retry (saq keeps keys of
        finished jobs for a while and would ignore a repeat)."""
        async with translate_redis_errors():
            await self.queue.enqueue(MELODY_TASK, key=attempt_key, generation_job_id=job_id, retries=self.retries,
                                     heartbeat=self.heartbeat_s, timeout=self.timeout_s, retry_delay=1.0)

    async def ping(self) -> None:
        async with translate_redis_errors():
            await self.queue.redis.ping()  # type: ignore[attr-defined]

    async def close(self) -> None:
        await self.queue.disconnect()
