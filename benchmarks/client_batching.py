"""Does the HTTP client let TorchServe batch? aiohttp vs httpx (keep-alive pool) at the same concurrency.

    ./museaika bench client_batching [--requests 96] [--concurrency 16]

Prints requests/s and the mean TorchServe batch each request rode in (from the handler's answer).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import httpx

from archives.loader import read_batching
from launcher.stack import Stack, StackConfig

PHOTO = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "astronaut.jpg"

Post = Callable[[str, bytes], Awaitable[dict[str, Any]]]


async def _drive(post: Post, url: str, payload: bytes, requests: int, concurrency: int) -> tuple[float, list[int]]:
    semaphore = asyncio.Semaphore(concurrency)

    async def one() -> int:
        async with semaphore:
            return int((await post(url, payload))["batch"]["size"])

    started = time.perf_counter()
    sizes = await asyncio.gather(*(one() for _ in range(requests)))
    return time.perf_counter() - started, list(sizes)


async def with_aiohttp(url: str, payload: bytes, requests: int, concurrency: int) -> tuple[float, list[int]]:
    async with aiohttp.ClientSession() as session:
        async def post(target: str, body: bytes) -> dict[str, Any]:
            async with session.post(target, data=body) as response:
                answer: dict[str, Any] = await response.json(content_type=None)
                return answer

        return await _drive(post, url, payload, requests, concurrency)


async def with_httpx(url: str, payload: bytes, requests: int, concurrency: int) -> tuple[float, list[int]]:
    async with httpx.AsyncClient(timeout=120) as client:
        async def post(target: str, body: bytes) -> dict[str, Any]:
            answer: dict[str, Any] = (await client.post(target, content=body)).json()
            return answer

        return await _drive(post, url, payload, requests, concurrency)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=96)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--torch-threads", type=int, default=None)
    args = parser.parse_args()
    payload = PHOTO.read_bytes()
    with tempfile.TemporaryDirectory() as run_dir, \
            Stack(StackConfig(run_dir=Path(run_dir), backend="torchserve", torch_threads=args.torch_threads)) as stack:
        assert stack.torchserve is not None
        url = f"{stack.torchserve.inference}/predictions/emotion"
        asyncio.run(with_aiohttp(url, payload, 16, args.concurrency))  # warm-up
        results = {
            "aiohttp": asyncio.run(with_aiohttp(url, payload, args.requests, args.concurrency)),
            "httpx": asyncio.run(with_httpx(url, payload, args.requests, args.concurrency)),
        }
    batch_size, delay = read_batching(stack.config.torchserve_template, "emotion")
    print(f"{args.requests} requests at concurrency {args.concurrency} straight to TorchServe "
          f"(batchSize {batch_size}, maxBatchDelay {delay * 1000:.0f} ms):")
    for name, (seconds, sizes) in results.items():
        print(f"  {name:8} {args.requests / seconds:7.2f} req/s   mean batch {statistics.mean(sizes):.2f}   "
              f"max batch {max(sizes)}")
    ratio = results["httpx"][0] / results["aiohttp"][0]
    print(f"aiohttp throughput = {ratio:.2f}x httpx")


if __name__ == "__main__":
    main()
