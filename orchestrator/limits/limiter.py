"""Per-user and per-address request limits (the `limits` library), counted in Redis so that every
orchestrator instance shares one count.

Rules, from settings (RATE_LIMIT_*):
- `auth`: sign-up, login and refresh, per client address;
- `costly`: inference, melody jobs and Spotify writes, per user or, without a token, per address;
- `costly_ip`: the same routes per client address, whoever calls: new accounts (one sign-up per two seconds
  passes `auth`) do not multiply an address's costly budget (RATE_LIMIT_COSTLY_PER_IP, a few users' worth);
- `user`: every request with a valid access token, per user, wherever it comes from;
- `ip`: every request, per client address: a ceiling on one machine however many accounts it uses.

Each request reads every rule's window first, all at once, and only when all of them have room counts itself
in each (again all at once): a request refused by one rule spends nothing of the others (a throttled caller
hammering on does not use up its address's or its user's budget). Each of the two steps is one call per rule,
sent concurrently (the library has no pipelining), so a request waits about two Redis round trips however many
rules apply, all within `redis_timeout_s`; the answer's X-RateLimit-* come from the reads. Between the read
and the count another request may take the last place under a rule: the count then fails there and the
request is refused (the other rules' counts of it stand: rare, and never more than one per such race).

Strategy: moving window. It counts exactly the requests of the last period: no 2x burst at the edge of a
fixed window (which matters for the costly rule: two minutes' worth of inference within a second), a
refused request is not counted (a throttled client hammering on does not push its own release further
out), and the reset time is exact: it is when the oldest counted request leaves the window, so a client
that waits Retry-After seconds gets through (the sliding-window counter only approximates both). Its cost,
one Redis list of at most <count> timestamps per key, expiring with the period, is small at these counts.
Timestamps come from each instance's clock: instances sharing a Redis need synchronised clocks (NTP).

Redis away: a limiter must never be the reason a face or text mood request fails. When a Redis call errs or
the whole decision takes longer than `redis_timeout_s`, the request is counted in this process's memory instead
(each process then enforces the limits on its own, so N instances let up to N times the limit through); that is
logged once, not per request. Redis is tried again `redis_retry_s` later (one request pays at most the timeout),
and once it answers, counting goes back there and that is logged too. Counts made in memory during the
outage stay in memory; Redis keeps what it had (its counters expire by themselves)."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass
from typing import Any, Literal

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.asyncio import ConnectionPool
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from orchestrator.core.settings import Settings

logger = logging.getLogger(__name__)

Category = Literal["default", "costly", "auth"]
KEY_PREFIX = "museaika:ratelimit"


@dataclass(frozen=True)
class RateLimitRules:
    per_ip: RateLimitItem
    per_user: RateLimitItem
    costly: RateLimitItem
    costly_per_ip: RateLimitItem
    auth_per_ip: RateLimitItem

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimitRules:
        values = {"per_ip": settings.rate_limit_per_ip, "per_user": settings.rate_limit_per_user,
                  "costly": settings.rate_limit_costly, "costly_per_ip": settings.rate_limit_costly_per_ip,
                  "auth_per_ip": settings.rate_limit_auth_per_ip}
        parsed = {}
        for name, text in values.items():
            try:
                parsed[name] = parse(text)
            except ValueError as error:  # a typo must stop the start, not switch limits off
                raise ValueError(f"MUSEAIKA_RATE_LIMIT_{name.upper()}={text!r} is not a limit like "
                                 f"'600/minute': {error}") from error
        return cls(**parsed)


@dataclass(frozen=True)
class Caller:
    address: str  # the client address (an IPv6 one as its /64)
    user_id: str | None  # the subject of a verified access token


@dataclass(frozen=True)
class Check:
    rule: str
    item: RateLimitItem
    key: tuple[str, ...]  # the identifiers of the counter in storage


@dataclass(frozen=True)
class Decision:
    allowed: bool
    rule: str  # "ip", "user", "costly", "costly_ip" or "auth": the refusing rule, or the one closest to refusing
    limit: RateLimitItem
    remaining: int
    reset_at: float  # epoch seconds when the next request under `rule` is certain to pass

    @property
    def retry_after_s(self) -> int:
        return max(1, math.ceil(self.reset_at - time.time()))


def _redis_storage(redis_url: str, timeout_s: float) -> tuple[RedisStorage, ConnectionPool]:
    # Our own pool: redis-py's default retries (3, with backoff up to seconds) would hold every request while
    # Redis is away; one failed call is enough to fall back.
    pool = ConnectionPool.from_url(redis_url, retry=Retry(NoBackoff(), 0), socket_timeout=timeout_s,
                                   socket_connect_timeout=timeout_s)
    options: dict[str, Any] = {"connection_pool": pool}
    storage = RedisStorage("async+redis://", implementation="redispy", key_prefix=KEY_PREFIX,
                           wrap_exceptions=True, **options)
    return storage, pool


class RequestRateLimiter:
    def __init__(self, rules: RateLimitRules, redis_url: str, redis_timeout_s: float, redis_retry_s: float) -> None:
        self.rules = rules
        self.redis_timeout_s = redis_timeout_s
        self.redis_retry_s = redis_retry_s
        storage, self._pool = _redis_storage(redis_url, redis_timeout_s)
        self._redis = MovingWindowRateLimiter(storage)
        self._memory = MovingWindowRateLimiter(MemoryStorage())
        self._on_redis = True
        self._redis_retry_at = 0.0  # time.monotonic() before which Redis is not tried again

    @classmethod
    def from_settings(cls, settings: Settings) -> RequestRateLimiter:
        return cls(RateLimitRules.from_settings(settings), settings.redis_url, settings.rate_limit_redis_timeout_s,
                   settings.rate_limit_redis_retry_s)

    @property
    def on_redis(self) -> bool:
        """False while counting in memory because Redis is away."""
        return self._on_redis

    def _checks(self, caller: Caller, category: Category) -> list[Check]:
        """The rules over this request, most specific first (which one the headers name on a tie)."""
        who = ("user", caller.user_id) if caller.user_id else ("ip", caller.address)
        checks: list[Check] = []
        if category == "auth":
            checks.append(Check("auth", self.rules.auth_per_ip, ("auth", "ip", caller.address)))
        if category == "costly":
            checks.append(Check("costly", self.rules.costly, ("costly", *who)))
            checks.append(Check("costly_ip", self.rules.costly_per_ip, ("costly", "all", caller.address)))
        if caller.user_id:
            checks.append(Check("user", self.rules.per_user, ("user", caller.user_id)))
        checks.append(Check("ip", self.rules.per_ip, ("ip", caller.address)))
        return checks

    @staticmethod
    async def _decide(limiter: MovingWindowRateLimiter, checks: list[Check]) -> Decision:
        # The window of each rule (`test` would read the same and keep only whether it has room).
        windows = await asyncio.gather(*(limiter.get_window_stats(c.item, *c.key) for c in checks))
        full = [(check, window) for check, window in zip(checks, windows, strict=True) if window.remaining < 1]
        if full:
            # Waiting until the last of them frees a place is enough for all.
            check, window = max(full, key=lambda refusing: refusing[1].reset_time)
            return Decision(False, check.rule, check.item, 0, window.reset_time)
        counted = await asyncio.gather(*(limiter.hit(c.item, *c.key) for c in checks))
        for check, window, passed in zip(checks, windows, counted, strict=True):
            if not passed:  # taken by a concurrent request since the read
                return Decision(False, check.rule, check.item, 0, window.reset_time)
        # This request took one place under each rule; a window that was empty now starts with it.
        check, window = min(zip(checks, windows, strict=True), key=lambda pair: pair[1].remaining)
        return Decision(True, check.rule, check.item, window.remaining - 1, window.reset_time)

    async def check(self, caller: Caller, category: Category) -> Decision:
        """Count one request of `caller` and say whether it may pass."""
        checks = self._checks(caller, category)
        if time.monotonic() >= self._redis_retry_at:
            try:
                async with asyncio.timeout(self.redis_timeout_s):
                    decision = await self._decide(self._redis, checks)
            # Whatever goes wrong on the way to Redis (refused, reset, timeout, a closed pool), the request is
            # still served: counted in memory below. A fault in the counting itself still surfaces there.
            except Exception as error:
                self._redis_failed(error)
            else:
                self._redis_answered()
                return decision
        return await self._decide(self._memory, checks)

    def _redis_failed(self, error: Exception) -> None:
        self._redis_retry_at = time.monotonic() + self.redis_retry_s
        if self._on_redis:
            self._on_redis = False
            logger.warning("rate limiter: Redis unavailable (%s: %s); counting in this process until it is back",
                           type(error).__name__, error)

    def _redis_answered(self) -> None:
        if not self._on_redis:
            self._on_redis = True
            logger.info("rate limiter: Redis is back; counting there again")

    async def close(self) -> None:
        await self._pool.aclose()
