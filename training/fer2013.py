"""FER2013 faces as arrays: the 48×48 gray crops of `../shared/datasets/fer2013/<split>/<label>/*.jpg`.

Decoding 32k JPEGs takes a while on two cores, so each split is cached as one .npz outside the clone
(keyed by the split's file list); the cache is derived data, never part of the project.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from networks.mini_xception import EMOTION_LABELS

DEFAULT_DATASET = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets" / "fer2013"
CACHE_DIR = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "museaika"
FER_SIDE = 48


@dataclass(frozen=True)
class FaceSplit:
    images: np.ndarray  # (N, 48, 48) uint8
    labels: np.ndarray  # (N,) int64 indices into EMOTION_LABELS
    paths: tuple[str, ...]


def _listing(folder: Path) -> list[tuple[Path, int]]:
    listed = [(path, index) for index, label in enumerate(EMOTION_LABELS)
              for path in sorted((folder / label).glob("*.jpg"))]
    if not listed:
        raise FileNotFoundError(f"no labelled faces under {folder}")
    return listed


def read_gray(path: Path) -> np.ndarray:
    gray = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if gray is None:
        raise ValueError(f"unreadable image {path}")
    if gray.shape != (FER_SIDE, FER_SIDE):
        gray = cv2.resize(gray, (FER_SIDE, FER_SIDE), interpolation=cv2.INTER_AREA)
    return gray


def load_split(dataset: Path, split: str) -> FaceSplit:
    listed = _listing(dataset / split)
    names = "\n".join(f"{p.relative_to(dataset)}:{label}" for p, label in listed)
    key = hashlib.sha256(names.encode()).hexdigest()[:16]
    cache = CACHE_DIR / f"fer2013-{split}-{key}.npz"
    if cache.exists():
        with np.load(cache) as stored:
            return FaceSplit(stored["images"], stored["labels"], tuple(str(p) for p, _ in listed))
    images = np.stack([read_gray(path) for path, _ in listed])
    labels = np.array([label for _, label in listed], dtype=np.int64)
    cache.parent.mkdir(parents=True, exist_ok=True)
    temporary = cache.with_suffix(".tmp.npz")
    np.savez(temporary, images=images, labels=labels)
    temporary.replace(cache)
    return FaceSplit(images, labels, tuple(str(p) for p, _ in listed))
