"""Benchmark photos built at run time from the shared FER2013 faces (never copied into the repo):
each is ≥ 256 px with one or two upscaled faces on a plain background, JPEG-encoded."""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

DEFAULT_DATASET = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets" / "fer2013"


@dataclass(frozen=True)
class Photo:
    name: str
    jpeg: bytes
    labels: tuple[str, ...]  # FER2013 label of each face, left to right


def _face(path: Path, size: int) -> Image.Image:
    return Image.open(path).convert("RGB").resize((size, size), Image.Resampling.BICUBIC)


def build_photos(dataset: Path, count: int, split: str = "validation", seed: int = 0) -> list[Photo]:
    rng = random.Random(seed)  # nosec B311  # seeded for reproducibility, not a secret
    faces = sorted((split_dir.name, path) for split_dir in (dataset / split).iterdir() if split_dir.is_dir()
                   for path in split_dir.glob("*.jpg"))
    if not faces:
        raise FileNotFoundError(f"no FER2013 faces under {dataset / split}")
    rng.shuffle(faces)
    photos = []
    cursor = 0
    for index in range(count):
        n_faces = 2 if index % 4 == 3 else 1
        chosen = faces[cursor:cursor + n_faces]
        cursor += n_faces
        face_size = rng.choice((160, 192, 224))
        margin = face_size // 3
        gray = rng.randint(90, 170)
        canvas = Image.new("RGB", (n_faces * (face_size + margin) + margin, face_size + 2 * margin), (gray,) * 3)
        for slot, (_, path) in enumerate(chosen):
            canvas.paste(_face(path, face_size), (margin + slot * (face_size + margin), margin))
        buffer = io.BytesIO()
        canvas.save(buffer, "JPEG", quality=92)
        photos.append(Photo(f"photo{index:04d}", buffer.getvalue(), tuple(label for label, _ in chosen)))
    return photos
