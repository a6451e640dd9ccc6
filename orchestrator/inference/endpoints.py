"""Several TorchServe hosts for one model: round-robin over the healthy ones.

A host that refuses a connection, times out or answers 5xx sits out for `cooldown_s`, and the request
moves on to the next host (inference has no side effects, so trying it elsewhere is safe). When every
host is cooling down they are all tried anyway, the longest-cooled first: a model server that is back
should not wait out a timer to be used again.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable


class EndpointPool:
    def __init__(self, urls: list[str], cooldown_s: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        if not urls:
            raise ValueError("an endpoint pool needs at least one URL")
        self.urls = [u.rstrip("/") for u in urls]
        self.cooldown_s = cooldown_s
        self.clock = clock
        self._down_until: dict[str, float] = {}
        self._turn = itertools.count()

    def order(self) -> list[str]:
        """Every URL once: healthy ones first, starting at the next in turn; then the cooling ones."""
        start = next(self._turn) % len(self.urls)
        rotated = self.urls[start:] + self.urls[:start]
        now = self.clock()
        healthy = [u for u in rotated if self._down_until.get(u, 0.0) <= now]
        cooling = sorted((u for u in rotated if u not in healthy), key=lambda u: self._down_until[u])
        return healthy + cooling

    def failed(self, url: str) -> None:
        self._down_until[url] = self.clock() + self.cooldown_s

    def succeeded(self, url: str) -> None:
        self._down_until.pop(url, None)

    def healthy(self) -> list[str]:
        now = self.clock()
        return [u for u in self.urls if self._down_until.get(u, 0.0) <= now]
