"""The generation-job queue: saq on Redis (append-only persistence keeps queued jobs across restarts).

A job is retried when its worker dies (no heartbeat for `heartbeat_s`: saq's sweep re-queues it) or
when a dependency it needs is down, up to `retries` attempts in all.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from saq import Queue
from saq.queue.redis import RedisQueue

from orchestrator.errors import DependencyUnavailableError
from orchestrator.settings import Settings

DEPENDENCY = "redis"
QUEUE_NAME = "museaika-generation"
MELODY_TASK = "generate_melody"


@asynccontextmanager
async def translate_redis_errors() -> AsyncIterator[None]:
    try:
        yield
    except (RedisError, OSError) as error:
        raise DependencyUnavailableError(DEPENDENCY, str(error) or error.__class__.__name__) from error


@dataclass(frozen=True)
class RedisTimeouts:
    connect_s: float = 2.0
    reply_s: float = 5.0  # one command's reply; a blocking command must block for less (see dequeue_timeout_s)

    @classmethod
    def from_settings(cls, settings: Settings) -> RedisTimeouts:
        return cls(settings.redis_connect_timeout_s, settings.redis_socket_timeout_s)

    @property
    def dequeue_timeout_s(self) -> float:
        """How long the worker's BLMOVE blocks: well under the reply timeout, so an idle queue is not an error."""
        return max(0.1, min(2.0, self.reply_s / 2))


def redis_client(redis_url: str, timeouts: RedisTimeouts) -> aioredis.Redis:
    """A client that reconnects: after a Redis restart the pool's old connections fail once each, and a
    few quick retries turn that into a short delay instead of a 503. A Redis that stays down fails within
    about a second. A timeout is not retried: a Redis that accepts connections but does not answer (hung,
    frozen) fails a call after `timeouts.reply_s`, not several times that."""
    return aioredis.from_url(
        redis_url,
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), 3, supported_errors=(RedisConnectionError,)),
        socket_connect_timeout=timeouts.connect_s,
        socket_timeout=timeouts.reply_s,
        health_check_interval=15,
    )


def create_queue(redis_url: str, timeouts: RedisTimeouts) -> Queue:
    return RedisQueue(redis_client(redis_url, timeouts), name=QUEUE_NAME)


class JobQueue:
    def __init__(self, redis_url: str, heartbeat_s: int, timeout_s: int, retries: int,
                 timeouts: RedisTimeouts | None = None, retry_delay_s: float = 1.0,
                 retry_max_delay_s: float = 30.0) -> None:
        self.queue = create_queue(redis_url, timeouts or RedisTimeouts())
        self.heartbeat_s = heartbeat_s
        self.timeout_s = timeout_s
        self.retries = retries
        self.retry_delay_s = retry_delay_s
        self.retry_max_delay_s = retry_max_delay_s

    async def enqueue_melody(self, job_id: str, attempt_key: str) -> None:
        """Queue a melody job; `attempt_key` is new for each user-requested retry (saq keeps keys of
        finished jobs for a while and would ignore a repeat)."""
        async with translate_redis_errors():
            await self.queue.enqueue(MELODY_TASK, key=attempt_key, generation_job_id=job_id, retries=self.retries,
                                     heartbeat=self.heartbeat_s, timeout=self.timeout_s,
                                     retry_delay=self.retry_delay_s, retry_backoff=self.retry_max_delay_s)

    async def ping(self) -> None:
        async with translate_redis_errors():
            await self.queue.redis.ping()  # type: ignore[attr-defined]

    async def close(self) -> None:
        await self.queue.disconnect()
