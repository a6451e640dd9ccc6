"""Batch-size sweep per model on a CUDA host: throughput, p95 batch latency and peak GPU memory.

    python -m benchmarks gpu_sweep [--models emotion sentiment melody] [--batches 1 2 4 8 16 32] [--repeats 20]

Each archive is loaded as TorchServe loads it (its own handler picks the GPU) and fed batches of real
requests (a face photo, a sentence, an 8-bar melody request). Without a GPU it says so and exits 0;
`--cpu` runs the same sweep on the CPU (to check the script, or to compare).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from archives.loader import load_archive

REPO_ROOT = Path(__file__).resolve().parent.parent
PAYLOADS: dict[str, bytes] = {
    "emotion": (REPO_ROOT / "tests" / "fixtures" / "astronaut.jpg").read_bytes(),
    "sentiment": b"I finally got the job and I could not be happier about it!",
    "melody": json.dumps({"mode": "minor", "density": 0.5, "bars": 8, "temperature": 0.7, "seed": 1}).encode(),
}


def sweep(model: str, batches: list[int], repeats: int, work: Path) -> list[str]:
    archive = load_archive(REPO_ROOT / "model_store" / f"{model}.mar", work)
    archive.handle(None, archive.context)
    rows = []
    for batch in batches:
        payloads = [PAYLOADS[model]] * batch
        archive.run(payloads)  # warm-up (cuDNN autotuning, allocator)
        if torch.cuda.is_available():
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        timings = []
        for _ in range(repeats):
            started = time.perf_counter()
            _, statuses = archive.run(payloads)
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            timings.append(time.perf_counter() - started)
            if statuses:
                raise RuntimeError(f"{model} refused a request: {statuses}")
        memory = torch.cuda.max_memory_allocated() / 2**20 if torch.cuda.is_available() else float("nan")
        p95 = float(np.percentile(timings, 95)) * 1000
        rows.append(f"| {model} | {batch} | {batch * repeats / sum(timings):.1f} | {p95:.1f} | {memory:.0f} |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["emotion", "sentiment", "melody"])
    parser.add_argument("--batches", nargs="+", type=int, default=[1, 2, 4, 8, 16, 32])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--cpu", action="store_true", help="run on the CPU when no GPU is present")
    args = parser.parse_args()
    if not torch.cuda.is_available() and not args.cpu:
        print("no CUDA device here: nothing to measure (run on a GPU host, or pass --cpu)")
        sys.exit(0)
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "CPU"
    print(f"# Batch-size sweep on {device}, {args.repeats} batches each\n")
    print("| model | batch | requests/s | p95 batch ms | peak GPU MiB |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as work:
        for model in args.models:
            for row in sweep(model, args.batches, args.repeats, Path(work)):
                print(row, flush=True)


if __name__ == "__main__":
    main()
