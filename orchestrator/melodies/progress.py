"""Job progress events over Redis pub/sub: the worker publishes, WebSocket routes subscribe.

Pub/sub is fire-and-forget; the job document in MongoDB is the record. A subscriber therefore
subscribes *before* reading the document, so it misses nothing between the snapshot and the stream.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import redis.asyncio as aioredis

from orchestrator.storage.redis import RedisTimeouts, redis_client, translate_redis_errors

TERMINAL_STAGES = frozenset({"done", "failed"})
SUBSCRIBED = {"stage": "subscribed"}  # the first item `subscribe` yields, once the subscription is live


def channel_for(job_id: str) -> str:
    return f"museaika:job-events:{job_id}"


class ProgressEvents:
    def __init__(self, redis_url: str, timeouts: RedisTimeouts) -> None:
        # The reply timeout bounds publishing; a subscription's wait for the next message is not a reply
        # and has no timeout (redis-py blocks on pub/sub reads), so a quiet job keeps its stream.
        self.redis: aioredis.Redis = redis_client(redis_url, timeouts)

    async def publish(self, job_id: str, event: dict[str, Any]) -> None:
        async with translate_redis_errors():
            await self.redis.publish(channel_for(job_id), json.dumps(event, default=str))

    async def subscribe(self, job_id: str) -> AsyncIterator[dict[str, Any]]:
        """`SUBSCRIBED` first, once the subscription is live; then every event as it is published."""
        async with translate_redis_errors():
            pubsub = self.redis.pubsub()
            await pubsub.subscribe(channel_for(job_id))
        try:
            yield SUBSCRIBED
            async for message in pubsub.listen():
                if message.get("type") != "message":
                    continue
                yield json.loads(message["data"])
        finally:
            await pubsub.unsubscribe()
            await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def close(self) -> None:
        await self.redis.aclose()
