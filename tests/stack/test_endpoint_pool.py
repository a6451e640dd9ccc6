"""Several TorchServe hosts per model: the pool's order, and a real TorchServe beside a dead host."""

from __future__ import annotations

import asyncio

from launcher.process import free_port
from launcher.stack import Stack
from orchestrator.inference.endpoints import EndpointPool
from orchestrator.inference.torchserve import TorchServeBackend
from tests.support import images


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_round_robin_over_healthy_hosts_and_cooling_ones_last() -> None:
    clock = Clock()
    pool = EndpointPool(["http://a", "http://b/", "http://c"], cooldown_s=5, clock=clock)
    assert [pool.order()[0] for _ in range(3)] == ["http://a", "http://b", "http://c"]
    pool.failed("http://b")
    for _ in range(4):
        assert pool.order()[-1] == "http://b"
    assert pool.healthy() == ["http://a", "http://c"]
    clock.now += 5.1
    assert pool.healthy() == ["http://a", "http://b", "http://c"]
    pool.failed("http://a")
    clock.now += 1
    pool.failed("http://c")
    clock.now += 1
    pool.failed("http://b")
    assert pool.order() == ["http://a", "http://c", "http://b"]  # all cooling: the longest-cooled first
    pool.succeeded("http://b")
    assert pool.healthy() == ["http://b"]


def test_a_dead_host_is_skipped_and_the_live_one_serves(torchserve_stack: Stack) -> None:
    assert torchserve_stack.torchserve is not None
    dead = f"http://127.0.0.1:{free_port()}"
    live = torchserve_stack.torchserve.inference

    async def run() -> tuple[list[dict[str, object]], list[str]]:
        backend = TorchServeBackend(live, torchserve_stack.torchserve.management, 30,  # type: ignore[union-attr]
                                    connect_timeout_s=2.0, cooldown_s=60, endpoints={"emotion": [dead, live]})
        await backend.start()
        try:
            answers = [await backend.predict("emotion", images.astronaut_bytes()) for _ in range(4)]
            return answers, backend.pools["emotion"].healthy()
        finally:
            await backend.close()

    answers, healthy = asyncio.run(run())
    assert all(a["faces"] for a in answers)  # every request served, none failed
    assert healthy == [live.rstrip("/")]
