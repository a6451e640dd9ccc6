"""Slow down password guessing: failed logins counted per email and per client address, each in a
moving window (the per-client rule is looser: many people can share one address)."""

from __future__ import annotations

import time

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter


class LoginThrottle:
    def __init__(self, per_email: str, per_client: str) -> None:
        self.rules: dict[str, RateLimitItem] = {"email": parse(per_email), "client": parse(per_client)}
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    def _items(self, email: str, client: str) -> list[tuple[RateLimitItem, str]]:
        return [(self.rules["email"], f"email:{email}"), (self.rules["client"], f"client:{client}")]

    def retry_after(self, email: str, client: str) -> int | None:
        """Seconds to wait when either counter is used up, else None."""
        waits = []
        for rule, key in self._items(email, client):
            if not self.limiter.test(rule, key):
                reset, _ = self.limiter.get_window_stats(rule, key)
                waits.append(max(1, int(reset - time.time()) + 1))
        return max(waits) if waits else None

    def record_failure(self, email: str, client: str) -> None:
        for rule, key in self._items(email, client):
            self.limiter.hit(rule, key)

    def forget_email(self, email: str) -> None:
        self.limiter.clear(self.rules["email"], f"email:{email}")
