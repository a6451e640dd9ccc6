"""Redis connections shared by the job queue, progress events and the Spotify login state: one client
factory, timeouts from settings, and Redis failures as `DependencyUnavailableError`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from orchestrator.core.errors import DependencyUnavailableError
from orchestrator.core.settings import Settings

DEPENDENCY = "redis"


@asynccontextmanager
async def translate_redis_errors() -> AsyncIterator[None]:
    try:
        yield
    except (RedisError, OSError) as error:
        raise DependencyUnavailableError(DEPENDENCY, str(error) or error.__class__.__name__) from error


@dataclass(frozen=True)
class RedisTimeouts:
    """No defaults here: the values are settings (REDIS_CONNECT_TIMEOUT_S, REDIS_SOCKET_TIMEOUT_S)."""

    connect_s: float
    reply_s: float  # one command's reply; a blocking command must block for less (see dequeue_timeout_s)

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
