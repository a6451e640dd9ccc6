"""How much accuracy does the detector's crop cost? FER2013 validation faces pasted into larger images
(several face sizes and framings) go through the full emotion pipeline (MTCNN → crop → classifier);
the same faces' original crops go straight to the classifier.

    python -m benchmarks detector_crop [--per-class 50]
        [--archives model_store/emotion.mar ...]   (default: every emotion version in config/models.yaml)

Prints, per archive (version 1: fer's model and crop; version 2: ours, landmark-aligned, second and cascade
looks) and framing: face-found rate, pipeline accuracy on found faces, crop-only accuracy on the same faces, and
the gap. A face counts as found when a reported box frames it (benchmarks/boxes.same_face); the stricter
IoU >= 0.3 rate is printed beside it, since FER2013 crops framed far from MTCNN's box fail that one while
found. Goal (issue 11): found >= 98 %, pipeline within 3 points of crop-only. Finding more faces must not mean
inventing them: the same archives also see photos without a face (the coffee fixture, scikit-learn's
two sample photos, random crops of the three at random sizes and quarter turns, noise, a gradient) and
the benchmark prints how many came back with a "face".
"""

from __future__ import annotations

import argparse
import io
import random
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from sklearn.datasets import load_sample_images  # two photos in the wheel; requirements/dev.txt pins it

from archives.loader import LoadedArchive, load_archive
from archives.served import load_served_models
from benchmarks.boxes import iou, same_face
from benchmarks.face_models import as_input
from networks.mini_xception import EMOTION_LABELS
from training.face_pasting import Pasting, paste_face
from training.fer2013 import DEFAULT_DATASET, read_gray

REPO_ROOT = Path(__file__).resolve().parent.parent
COFFEE = REPO_ROOT / "tests" / "fixtures" / "coffee.jpg"
NO_FACE_CROPS = 150


@dataclass(frozen=True)
class Framing:
    name: str
    face_px: int  # side of the pasted face
    margin: float  # background around the face, as a fraction of its side


FRAMINGS = (Framing("small face, wide frame", 96, 1.5), Framing("medium face, loose", 160, 0.75),
            Framing("large face, tight", 240, 0.25), Framing("portrait 480 px", 300, 0.3))


def sample_faces(dataset: Path, per_class: int, seed: int) -> list[tuple[Path, int]]:
    rng = random.Random(seed)  # nosec B311  # seeded for reproducibility, not a secret
    chosen = []
    for index, label in enumerate(EMOTION_LABELS):
        paths = sorted((dataset / "validation" / label).glob("*.jpg"))
        chosen.extend((p, index) for p in rng.sample(paths, min(per_class, len(paths))))
    return chosen


def frame(path: Path, framing: Framing, rng: random.Random) -> tuple[bytes, tuple[int, int, int, int]]:
    margin = int(framing.face_px * framing.margin)
    background = rng.randint(80, 180)
    shift = (rng.randint(-margin // 3, margin // 3), rng.randint(-margin // 3, margin // 3))
    face = np.asarray(Image.open(path).convert("L"))
    return paste_face(face, Pasting(framing.face_px, margin, shift, background, jpeg_quality=92))


def no_face_photos(count: int, seed: int) -> list[bytes]:
    """`count` JPEGs without a face: random square crops (80 px to the whole height) of three photos, resized
    to 200–480 px and turned by a random quarter, plus the three photos whole, uniform noise and a gradient."""
    sources = [np.asarray(Image.open(COFFEE).convert("RGB")), *load_sample_images().images]
    rng = np.random.default_rng(seed)
    photos = [Image.fromarray(source) for source in sources]
    for index in range(count):
        source = sources[index % len(sources)]
        height, width = source.shape[:2]
        side = int(rng.integers(80, min(height, width)))
        y, x = int(rng.integers(0, height - side + 1)), int(rng.integers(0, width - side + 1))
        size = int(rng.integers(200, 480))
        crop = Image.fromarray(source[y:y + side, x:x + side]).resize((size, size), Image.Resampling.BICUBIC)
        photos.append(crop.rotate(90 * int(rng.integers(0, 4)), expand=True))
    photos.append(Image.fromarray(rng.integers(0, 256, (400, 400, 3), dtype=np.uint8)))
    photos.append(Image.fromarray(np.tile(np.linspace(0, 255, 400, dtype=np.uint8), (400, 1))).convert("RGB"))
    out = []
    for photo in photos:
        buffer = io.BytesIO()
        photo.save(buffer, "JPEG", quality=92)
        out.append(buffer.getvalue())
    return out


def count_false_faces(archive: LoadedArchive, photos: list[bytes]) -> int:
    with_face = 0
    for start in range(0, len(photos), 8):
        answers, _ = archive.run(photos[start:start + 8])
        with_face += sum(1 for answer in answers if answer["faces"])
    return with_face


def run_archive(archive: LoadedArchive, faces: list[tuple[Path, int]], seed: int) -> None:
    service = archive.module._service
    labels = np.array([label for _, label in faces])
    crops = np.stack([read_gray(p) for p, _ in faces])
    crop_predictions = service.classify(as_input(crops, service.classifier.input_size)).argmax(1)
    print(f"\n== {archive.name} {archive.version} ({type(service.classifier).__name__}): crop-only accuracy "
          f"{np.mean(crop_predictions == labels):.3f} on all {len(faces)} faces ==")
    print(f"{'framing':26} {'found':>7} {'IoU>=.3':>8} {'pipeline':>9} {'crop-only':>10} {'gap':>7}")
    rng = random.Random(seed)  # nosec B311  # seeded for reproducibility, not a secret
    totals = [0, 0, 0, 0, 0]  # faces, found, found at IoU >= 0.3, pipeline right, crop right
    for framing in FRAMINGS:
        found, overlapping, pipeline_right, crop_right = 0, 0, 0, 0
        for start in range(0, len(faces), 8):
            chunk = faces[start:start + 8]
            framed = [frame(p, framing, rng) for p, _ in chunk]
            answers, _ = archive.run([jpeg for jpeg, _ in framed])
            for offset, ((_, truth), (_, box), answer) in enumerate(zip(chunk, framed, answers, strict=True)):
                boxes = [(f["box"]["x"], f["box"]["y"], f["box"]["width"], f["box"]["height"]) for f in answer["faces"]]
                matches = [f for f, b in zip(answer["faces"], boxes, strict=True) if same_face(box, b)]
                if not matches:
                    continue
                found += 1
                overlapping += any(iou(box, b) >= 0.3 for b in boxes)
                best = max(matches, key=lambda f: f["detection_score"])
                pipeline_right += EMOTION_LABELS.index(best["top_emotion"]) == truth
                crop_right += crop_predictions[start + offset] == truth
        for i, value in enumerate((len(faces), found, overlapping, pipeline_right, crop_right)):
            totals[i] += value
        report_row(framing.name, len(faces), found, overlapping, pipeline_right, crop_right)
    report_row("all framings", *totals)
    photos = no_face_photos(NO_FACE_CROPS, seed)
    print(f"no-face photos with a face reported: {count_false_faces(archive, photos)} of {len(photos)}")


def report_row(name: str, faces: int, found: int, overlapping: int, pipeline_right: int, crop_right: int) -> None:
    pipeline_acc = pipeline_right / found if found else 0.0
    crop_acc = crop_right / found if found else 0.0
    gap = (pipeline_acc - crop_acc) * 100
    print(f"{name:26} {found / faces:7.1%} {overlapping / faces:8.1%} {pipeline_acc:9.3f} {crop_acc:10.3f} {gap:+6.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--archives", type=Path, nargs="+",
                        default=[REPO_ROOT / "model_store" / served.archive
                                 for served in load_served_models()["emotion"].versions])
    parser.add_argument("--per-class", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    faces = sample_faces(args.dataset, args.per_class, args.seed)
    print(f"{len(faces)} FER2013 validation faces ({args.per_class} per class), pasted at {len(FRAMINGS)} framings")
    with tempfile.TemporaryDirectory() as work:
        for path in args.archives:
            archive = load_archive(path, Path(work))
            archive.handle(None, archive.context)
            run_archive(archive, faces, args.seed)
    print("\ngoal: found >= 98 %, pipeline accuracy within 3 points of crop-only (on the same found faces);"
          " no face reported on the no-face photos")


if __name__ == "__main__":
    main()
