"""Face → emotions: our endpoint (TorchServe behind the orchestrator) vs the `fer` library.

    ./museaika bench face_vs_fer [--photos 240] [--concurrency 8] [--torch-threads 1]

Prints images/s for each, the throughput ratio, top-1 agreement on the faces both find (matched by box
IoU ≥ 0.5), and the orchestrator's overhead over calling TorchServe directly (p50, p95). Our side serves
emotion's default version in config/models.yaml unless --emotion-version says otherwise; with 1.0.0 (fer's
model, ported) agreement measures parity.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import cv2
import facenet_pytorch  # noqa: F401  (torch and facenet_pytorch before TensorFlow/fer: the reverse segfaults)
import numpy as np
import torch
from PIL import Image

from archives.served import served_default_versions
from benchmarks.boxes import Box, iou
from benchmarks.photos import DEFAULT_DATASET, Photo, build_photos
from launcher.stack import MODEL_VERSIONS_ENV, Stack, StackConfig

# Which emotion archive our stacks serve: MUSEAIKA_MODEL_VERSIONS, set from --emotion-version in main.
SERVED: dict[str, str] = {}


@dataclass
class RunResult:
    name: str
    seconds: float
    faces: list[list[tuple[Box, str]]]  # per photo: (x, y, w, h), top emotion

    def images_per_second(self) -> float:
        return len(self.faces) / self.seconds


async def _post_all(url: str, photos: list[Photo], concurrency: int, multipart: bool) -> tuple[float, list[Any]]:
    semaphore = asyncio.Semaphore(concurrency)
    latencies: list[float] = [0.0] * len(photos)
    answers: list[Any] = [None] * len(photos)

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300)) as session:
        async def one(index: int, photo: Photo) -> None:
            async with semaphore:
                if multipart:
                    form = aiohttp.FormData()
                    form.add_field("image", photo.jpeg, filename=f"{photo.name}.jpg", content_type="image/jpeg")
                    body: Any = form
                else:
                    body = photo.jpeg
                started = time.perf_counter()
                async with session.post(url, data=body) as response:
                    answer = await response.json(content_type=None)
                    if response.status != 200:
                        raise RuntimeError(f"{photo.name}: {response.status} {answer}")
                latencies[index] = time.perf_counter() - started
                answers[index] = answer

        started = time.perf_counter()
        await asyncio.gather(*(one(i, p) for i, p in enumerate(photos)))
        elapsed = time.perf_counter() - started
    return elapsed, [(latency, answer) for latency, answer in zip(latencies, answers, strict=True)]


def _our_faces(answer: dict[str, Any]) -> list[tuple[Box, str]]:
    return [((f["box"]["x"], f["box"]["y"], f["box"]["width"], f["box"]["height"]), f["top_emotion"])
            for f in answer["faces"]]


def run_ours(photos: list[Photo], concurrency: int, torch_threads: int | None,
             overhead_sample: int) -> tuple[RunResult, list[float], list[float], float]:
    with tempfile.TemporaryDirectory() as run_dir, \
            Stack(StackConfig(run_dir=Path(run_dir), backend="torchserve", torch_threads=torch_threads,
                              extra_env=dict(SERVED))) as stack:
        assert stack.torchserve is not None
        endpoint = f"{stack.orchestrator_url}/v1/moods/face"
        direct = f"{stack.torchserve.inference}/predictions/emotion"
        asyncio.run(_post_all(endpoint, photos[:16], concurrency, multipart=True))  # warm-up
        seconds, results = asyncio.run(_post_all(endpoint, photos, concurrency, multipart=True))
        ours = RunResult("MuseAIka (TorchServe)", seconds, [_our_faces(answer) for _, answer in results])
        # Overhead: one request at a time, so batching does not blur the comparison; alternate the
        # two paths photo by photo so both see the same machine state.
        via_api, via_ts = [], []
        for photo in photos[:overhead_sample]:
            via_ts.append(asyncio.run(_post_all(direct, [photo], 1, multipart=False))[1][0][0])
            via_api.append(asyncio.run(_post_all(endpoint, [photo], 1, multipart=True))[1][0][0])
        embedded_seconds = _embedded_throughput(photos, concurrency, torch_threads)
    return ours, via_api, via_ts, embedded_seconds


def run_ours_downscaled(photos: list[Photo], concurrency: int, max_side: int) -> RunResult:
    """The speed/agreement trade-off: MTCNN on photos downscaled to `max_side` (handler override)."""
    env = {"MUSEAIKA_EMOTION_DETECT_MAX_SIDE": str(max_side), **SERVED}
    with tempfile.TemporaryDirectory() as run_dir, \
            Stack(StackConfig(run_dir=Path(run_dir), backend="torchserve", extra_env=env)) as stack:
        endpoint = f"{stack.orchestrator_url}/v1/moods/face"
        asyncio.run(_post_all(endpoint, photos[:16], concurrency, multipart=True))
        seconds, results = asyncio.run(_post_all(endpoint, photos, concurrency, multipart=True))
    return RunResult(f"MuseAIka (TorchServe, detect <= {max_side} px)", seconds,
                     [_our_faces(answer) for _, answer in results])


def _embedded_throughput(photos: list[Photo], concurrency: int, torch_threads: int | None) -> float:
    with tempfile.TemporaryDirectory() as run_dir, \
            Stack(StackConfig(run_dir=Path(run_dir), backend="embedded", torch_threads=torch_threads,
                              extra_env=dict(SERVED))) as stack:
        endpoint = f"{stack.orchestrator_url}/v1/moods/face"
        asyncio.run(_post_all(endpoint, photos[:16], concurrency, multipart=True))
        seconds, _ = asyncio.run(_post_all(endpoint, photos, concurrency, multipart=True))
    return seconds


def run_fer(photos: list[Photo], mtcnn: bool, use_tflite: bool = True) -> RunResult:
    from fer.fer import FER  # type: ignore[import-not-found]

    detector = FER(mtcnn=mtcnn, use_tflite=use_tflite)
    decoded = [cv2.imdecode(np.frombuffer(p.jpeg, np.uint8), cv2.IMREAD_COLOR) for p in photos]
    detector.detect_emotions(decoded[0])  # warm-up
    faces = []
    started = time.perf_counter()
    for image in decoded:
        found = detector.detect_emotions(image)
        faces.append([(_box(f["box"]), max(f["emotions"], key=f["emotions"].get)) for f in found])
    seconds = time.perf_counter() - started
    name = f"fer FER({'mtcnn=True' if mtcnn else 'Haar'}{'' if use_tflite else ', use_tflite=False'})"
    return RunResult(name, seconds, faces)


def _box(values: Any) -> Box:
    x, y, w, h = (int(v) for v in values)
    return x, y, w, h


def agreement(ours: RunResult, peer: RunResult) -> tuple[int, int, int, int]:
    """(faces matched, of which same top-1, faces we found, faces the peer found)."""
    matched = same = 0
    for our_faces, peer_faces in zip(ours.faces, peer.faces, strict=True):
        for box, label in our_faces:
            best = max(peer_faces, key=lambda f: iou(box, f[0]), default=None)
            if best is not None and iou(box, best[0]) >= 0.5:
                matched += 1
                same += label == best[1]
    return matched, same, sum(map(len, ours.faces)), sum(map(len, peer.faces))


def label_accuracy(run: RunResult, photos: list[Photo]) -> float:
    """Top-1 against FER2013's labels, for photos where exactly the expected number of faces was found."""
    correct = total = 0
    for faces, photo in zip(run.faces, photos, strict=True):
        if len(faces) == len(photo.labels):
            ordered = sorted(faces, key=lambda f: f[0][0])
            total += len(ordered)
            correct += sum(label == truth for (_, label), truth in zip(ordered, photo.labels, strict=True))
    return correct / total if total else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--photos", type=int, default=240)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--torch-threads", type=int, default=None)
    parser.add_argument("--overhead-sample", type=int, default=100)
    parser.add_argument("--emotion-version", default=served_default_versions()["emotion"],
                        help="default: the served one (config/models.yaml); 1.0.0: fer's model (parity)")
    parser.add_argument("--downscaled-side", type=int, default=256,
                        help="also run with detection on photos downscaled to this side (0: skip)")
    args = parser.parse_args()
    SERVED[MODEL_VERSIONS_ENV] = json.dumps({"emotion": args.emotion_version})

    photos = build_photos(args.dataset, args.photos)
    n_faces = sum(len(p.labels) for p in photos)
    sides = [side for p in photos for side in Image.open(io.BytesIO(p.jpeg)).size]
    print(f"{len(photos)} photos ({n_faces} faces, {min(sides)}–{max(sides)} px) from {args.dataset}/validation; "
          f"{torch.get_num_threads()} cores visible to torch")

    ours, via_api, via_ts, embedded_seconds = run_ours(photos, args.concurrency, args.torch_threads,
                                                       args.overhead_sample)
    variants = [run_ours_downscaled(photos, args.concurrency, args.downscaled_side)] if args.downscaled_side else []
    peers = [run_fer(photos, mtcnn=True), run_fer(photos, mtcnn=False), run_fer(photos, mtcnn=True, use_tflite=False)]

    print(f"\n{'system':44} {'images/s':>9} {'ratio':>7} {'faces':>6} {'FER2013 top-1':>14}")
    rows = [ours, RunResult("MuseAIka (embedded backend)", embedded_seconds, ours.faces), *variants, *peers]
    for run in rows:
        ratio = run.images_per_second() / peers[0].images_per_second()
        print(f"{run.name:44} {run.images_per_second():9.2f} {ratio:6.2f}x {sum(map(len, run.faces)):6d} "
              f"{label_accuracy(run, photos):14.3f}")
    print(f"(ratio is against {peers[0].name}; concurrency {args.concurrency} for MuseAIka; fer is sequential)")
    print("(embedded row: throughput only; its faces are TorchServe's, the same handler)")

    print("\ntop-1 agreement on faces both find (box IoU >= 0.5):")
    for mine in (ours, *variants):
        for peer in peers:
            matched, same, found, theirs = agreement(mine, peer)
            share = same / matched if matched else 0.0
            print(f"  {mine.name:40} vs {peer.name:38} {same}/{matched} = {share:.2%}  "
                  f"(we found {found}, fer found {theirs})")

    overhead = [(a - t) * 1000 for a, t in zip(via_api, via_ts, strict=True)]
    print(f"\norchestrator overhead over direct TorchServe, {len(overhead)} sequential requests (ms): "
          f"p50 {statistics.median(overhead):.2f}, p95 {np.percentile(overhead, 95):.2f}; "
          f"direct p50 {statistics.median(via_ts) * 1000:.1f}, via orchestrator p50 "
          f"{statistics.median(via_api) * 1000:.1f}")
    print("goals: >= 3x fer's throughput, >= 99% top-1 agreement, overhead <= 5 ms p50")


if __name__ == "__main__":
    main()
