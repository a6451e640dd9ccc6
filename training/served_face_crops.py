"""FER2013 faces framed the way the served pipeline frames them: pasted into a photo, found by MTCNN and
aligned on their landmarks by the emotion handler itself.

    python -m training.served_face_crops [--split train] [--workers 2]

A classifier trained only on FER2013's own crops learns their exact framing and resampling; a served face
arrives through JPEG, MTCNN's landmarks and the similarity warp instead, and `benchmarks detector_crop`
measured that a model better on the crops need not be better on photos. Training on a mix of both closes
that train/serve skew (`train_face_expression --served-crops`), and validating on the served crops measures
it on all 3,589 validation faces.

Each face gets its own photo (face 64–256 px, margin 20–100 % of it, shifted, JPEG
quality 70–95; half on a flat background, half with the face mirrored outward the way a photo would
go on past the crop), seeded by its index so the result does not depend on the number of workers. The handler
runs with its archive config (config/models/emotion_v2.yaml) but without the looks after the
first pass (the second look costs a second per missed face); a face the first pass misses keeps its FER2013
crop and is marked not found. Cached outside the clone like the splits (derived data, never part of the project).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml
from tqdm import tqdm

from handlers.emotion_handler import EmotionHandler
from training.face_pasting import Pasting, paste_face
from training.fer2013 import CACHE_DIR, DEFAULT_DATASET, FaceSplit, load_split

REPO_ROOT = Path(__file__).resolve().parent.parent
ARCHIVE_CONFIG = REPO_ROOT / "config" / "models" / "emotion_v2.yaml"
# Any version-2 model folder will do: only the crop is used, never the classifier's answer.
MODEL_DIR = REPO_ROOT / "models" / "face-expression-vgg"
LATER_LOOKS = ("second_look", "cascade")  # setting-name prefixes of handlers/face_detection.py's later looks
RECIPE_VERSION = 1  # bump when the framing below changes, so old caches are not reused


@dataclass(frozen=True)
class ServedCrops:
    images: np.ndarray  # (N, 48, 48) uint8: the handler's aligned crop, or the FER2013 crop when not found
    found: np.ndarray  # (N,) bool


def random_pasting(index: int, seed: int) -> Pasting:
    rng = random.Random(seed * 1_000_003 + index)  # nosec B311  # seeded for reproducibility, not a secret
    face_px = rng.randint(64, 256)
    margin = int(face_px * rng.uniform(0.2, 1.0))
    shift = (rng.randint(-margin // 3, margin // 3), rng.randint(-margin // 3, margin // 3))
    fill = rng.choice(("flat", "reflect"))
    return Pasting(face_px, margin, shift, rng.randint(40, 210), rng.randint(70, 95), fill)


def archive_handler_settings() -> dict[str, Any]:
    """The `handler` section emotion version 2's archive packs (what TorchServe hands EmotionHandler)."""
    settings: dict[str, Any] = yaml.safe_load(ARCHIVE_CONFIG.read_text())["handler"]
    return settings


def first_pass_settings() -> dict[str, Any]:
    """The archive's handler settings without those of the looks after the first pass, which never run here
    (a face the first pass misses keeps its FER2013 crop), so changing them does not change the crops."""
    return {**{name: value for name, value in archive_handler_settings().items()
               if not name.startswith(LATER_LOOKS)}, "second_look": False, "cascade_look": False}


def first_pass_handler() -> EmotionHandler:
    handler = EmotionHandler()
    handler.config = first_pass_settings()
    handler.load(MODEL_DIR, torch.device("cpu"))
    return handler


def served_crop(handler: EmotionHandler, face: np.ndarray, pasting: Pasting) -> np.ndarray | None:
    """The handler's crop of the pasted face as (48, 48) uint8, or None when it finds no face near it."""
    jpeg, (x, y, side, _) = paste_face(face, pasting)
    crops, owners = handler.face_crops([handler.preprocess_one(jpeg)])
    centre = np.array([x + side / 2, y + side / 2])
    near = [(crop, owner.score) for crop, owner in zip(crops, owners, strict=True)
            if np.linalg.norm([owner.box.x + owner.box.width / 2 - centre[0],
                               owner.box.y + owner.box.height / 2 - centre[1]]) < side / 3]
    if not near:
        return None
    return to_uint8(max(near, key=lambda pair: pair[1])[0])


def to_uint8(crop: np.ndarray) -> np.ndarray:
    """A classifier input in [-1, 1] back to FER2013's gray levels."""
    gray: np.ndarray = np.clip(np.rint((crop / 2.0 + 0.5) * 255.0), 0, 255).astype(np.uint8)
    return gray


_worker_handler: EmotionHandler | None = None


def _start_worker() -> None:
    global _worker_handler
    torch.set_num_threads(1)  # one process per core beats two threads per process on a shared CPU
    _worker_handler = first_pass_handler()


def _crop_chunk(job: tuple[np.ndarray, int, int]) -> list[np.ndarray | None]:
    faces, first_index, seed = job
    assert _worker_handler is not None  # set by _start_worker in every pool process
    return [served_crop(_worker_handler, face, random_pasting(first_index + offset, seed))
            for offset, face in enumerate(faces)]


def cache_path(split: FaceSplit, split_name: str, seed: int) -> Path:
    # The handler's settings are part of the key: other detector settings make other crops.
    settings = json.dumps(first_pass_settings(), sort_keys=True)
    key = hashlib.sha256("\n".join([*split.paths, settings]).encode()).hexdigest()[:16]
    return CACHE_DIR / f"fer2013-{split_name}-served-v{RECIPE_VERSION}-seed{seed}-{key}.npz"


def save_served_crops(crops: ServedCrops, split: FaceSplit, split_name: str, seed: int) -> Path:
    path = cache_path(split, split_name, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp.npz")
    np.savez(temporary, images=crops.images, found=crops.found)
    temporary.replace(path)
    return path


def load_served_crops(split: FaceSplit, split_name: str, seed: int) -> ServedCrops:
    """The cached served crops of a loaded split; build them first with this module's command."""
    path = cache_path(split, split_name, seed)
    if not path.exists():
        raise FileNotFoundError(f"no served crops for {split_name!r} (seed {seed}) at {path}: run "
                                f"python -m training.served_face_crops --split {split_name} --seed {seed}")
    with np.load(path) as stored:
        return ServedCrops(stored["images"], stored["found"])


def build_served_crops(split: FaceSplit, workers: int, seed: int, chunk: int = 64) -> ServedCrops:
    jobs = [(split.images[start:start + chunk], start, seed) for start in range(0, len(split.images), chunk)]
    results: list[np.ndarray | None] = []
    with get_context("spawn").Pool(workers, initializer=_start_worker) as pool:
        for part in tqdm(pool.imap(_crop_chunk, jobs), total=len(jobs), desc="served crops", unit="chunk"):
            results.extend(part)
    found = np.array([crop is not None for crop in results])
    images = np.stack([crop if crop is not None else face for crop, face in zip(results, split.images, strict=True)])
    return ServedCrops(images, found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--split", nargs="+", default=["train", "validation"])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--limit", type=int, default=0, help="only the first N faces, printed, not cached (a trial)")
    args = parser.parse_args()
    for split_name in args.split:
        split = load_split(args.dataset, split_name)
        if args.limit:
            split = FaceSplit(split.images[:args.limit], split.labels[:args.limit], split.paths[:args.limit])
        crops = build_served_crops(split, args.workers, args.seed)
        print(f"{split_name}: {crops.found.mean():.1%} of {len(crops.found):,} faces found by the first pass")
        if args.limit:
            continue
        path = save_served_crops(crops, split, split_name, args.seed)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
