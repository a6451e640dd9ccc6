"""Text endpoint with TorchServe dynamic batching vs an unbatched `transformers` pipeline, same model
and cores, at concurrency 1, 8 and 32.

    ./museaika bench text_batching [--requests 480]

The baseline runs in-process (no HTTP at all, one sentence per forward pass: the pipeline object is not
thread-safe, so callers queue for it), which flatters it; TorchServe is measured both directly and
behind the orchestrator (which also stores every result in MongoDB).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import torch

from launcher.stack import Stack, StackConfig
from training.text_data import DEFAULT_TEXT_DATASET, read_split

REPO_ROOT = Path(__file__).resolve().parent.parent
MODEL_DIR = REPO_ROOT / "models" / "text-emotion-ekman-minilm-l6"  # the served default's weights
LEVELS = (1, 8, 32)

Call = Callable[[str], Awaitable[None]]


async def drive(call: Call, texts: list[str], concurrency: int) -> tuple[float, list[float]]:
    semaphore = asyncio.Semaphore(concurrency)
    latencies: list[float] = []

    async def one(text: str) -> None:
        async with semaphore:
            started = time.perf_counter()
            await call(text)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(one(t) for t in texts))
    return time.perf_counter() - started, latencies


def summarize(name: str, concurrency: int, seconds: float, latencies: list[float]) -> float:
    rate = len(latencies) / seconds
    print(f"  {name:34} conc {concurrency:3d}: {rate:7.1f} req/s  p50 {statistics.median(latencies) * 1000:7.1f} ms"
          f"  p95 {np.percentile(latencies, 95) * 1000:7.1f} ms")
    return rate


def run_pipeline(texts: list[str], threads: int) -> dict[int, float]:
    from transformers import pipeline

    torch.set_num_threads(threads)
    classifier = pipeline("text-classification", model=str(MODEL_DIR), device=-1, top_k=None)
    lock = threading.Lock()
    executor = ThreadPoolExecutor(max_workers=32)

    def classify(text: str) -> None:
        with lock:
            classifier(text, truncation=True, max_length=128)

    async def call(text: str) -> None:
        await asyncio.get_running_loop().run_in_executor(executor, classify, text)

    classify(texts[0])
    rates = {c: summarize("transformers pipeline (unbatched)", c, *asyncio.run(drive(call, texts, c))) for c in LEVELS}
    executor.shutdown()
    return rates


async def _http_rates(url: str, texts: list[str], name: str, json_body: bool) -> dict[int, float]:
    rates = {}
    async with aiohttp.ClientSession() as session:
        async def call(text: str) -> None:
            kwargs: dict[str, Any] = {"json": {"text": text}} if json_body else {"data": text.encode()}
            async with session.post(url, **kwargs) as response:
                await response.read()
                if response.status != 200:
                    raise RuntimeError(f"{response.status} from {url}")

        await drive(call, texts[:32], 8)  # warm-up
        for concurrency in LEVELS:
            rates[concurrency] = summarize(name, concurrency, *await drive(call, texts, concurrency))
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=480)
    parser.add_argument("--data", type=Path, default=DEFAULT_TEXT_DATASET)
    parser.add_argument("--threads", type=int, default=2, help="torch threads for the baseline")
    args = parser.parse_args()
    texts = read_split(args.data / "validation.txt")[0][:args.requests]
    print(f"{len(texts)} validation sentences per run, {torch.get_num_threads()} cores")

    baseline = run_pipeline(texts, args.threads)
    with tempfile.TemporaryDirectory() as run_dir, \
            Stack(StackConfig(run_dir=Path(run_dir), backend="torchserve")) as stack:
        assert stack.torchserve is not None
        direct = asyncio.run(_http_rates(f"{stack.torchserve.inference}/predictions/sentiment", texts,
                                         "TorchServe, dynamic batching", json_body=False))
        via_api = asyncio.run(_http_rates(f"{stack.orchestrator_url}/v1/moods/text", texts,
                                          "orchestrator + TorchServe", json_body=True))
    print("\nratio to the unbatched pipeline:")
    for concurrency in LEVELS:
        print(f"  conc {concurrency:3d}: TorchServe {direct[concurrency] / baseline[concurrency]:5.2f}x   "
              f"orchestrator {via_api[concurrency] / baseline[concurrency]:5.2f}x")
    print("goal: >= 4x at concurrency 32")


if __name__ == "__main__":
    main()
