from __future__ import annotations

import asyncio
import time

import pytest

from orchestrator.inference.batching import MicroBatcher


async def test_concurrent_requests_share_a_batch_up_to_the_size_limit() -> None:
    seen: list[list[int]] = []

    def run(batch: list[int]) -> list[int]:
        seen.append(batch)
        return [x * 10 for x in batch]

    batcher = MicroBatcher(run, batch_size=4, max_delay=0.2, name="t")
    batcher.start()
    try:
        results = await asyncio.gather(*(batcher.submit(i) for i in range(6)))
    finally:
        await batcher.close()
    assert results == [0, 10, 20, 30, 40, 50]
    assert [len(b) for b in seen] == [4, 2]


async def test_a_lone_request_waits_at_most_the_delay() -> None:
    batcher: MicroBatcher[int, int] = MicroBatcher(lambda b: b, batch_size=8, max_delay=0.05, name="t")
    batcher.start()
    started = time.perf_counter()
    try:
        assert await batcher.submit(7) == 7
    finally:
        await batcher.close()
    assert time.perf_counter() - started < 1.0


async def test_a_failing_batch_fails_every_caller() -> None:
    def boom(batch: list[int]) -> list[int]:
        raise RuntimeError("model crashed")

    batcher = MicroBatcher(boom, batch_size=2, max_delay=0.05, name="t")
    batcher.start()
    try:
        results = await asyncio.gather(batcher.submit(1), batcher.submit(2), return_exceptions=True)
    finally:
        await batcher.close()
    assert all(isinstance(r, RuntimeError) for r in results)


async def test_a_failing_batch_is_retried_one_request_at_a_time() -> None:
    seen: list[list[int]] = []

    def chokes_on_zero(batch: list[int]) -> list[int]:
        seen.append(batch)
        if 0 in batch:
            raise ZeroDivisionError("model crashed")
        return [10 // x for x in batch]

    batcher = MicroBatcher(chokes_on_zero, batch_size=3, max_delay=0.2, name="t")
    batcher.start()
    try:
        results = await asyncio.gather(*(batcher.submit(x) for x in (5, 0, 2)), return_exceptions=True)
    finally:
        await batcher.close()
    assert results[0] == 2 and results[2] == 5
    assert isinstance(results[1], ZeroDivisionError)
    assert seen == [[5, 0, 2], [5], [0], [2]]


async def test_batcher_keeps_serving_after_a_failure() -> None:
    calls = 0

    def flaky(batch: list[int]) -> list[int]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("first batch fails")
        return batch

    batcher = MicroBatcher(flaky, batch_size=1, max_delay=0.0, name="t")
    batcher.start()
    try:
        with pytest.raises(RuntimeError):
            await batcher.submit(1)
        assert await batcher.submit(2) == 2
    finally:
        await batcher.close()
