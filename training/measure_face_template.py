"""Where MTCNN's five landmarks fall inside FER2013's 48×48 framing: the target of the handler's crop alignment.

    python -m training.measure_face_template [--count 1500] [--split train]

FER2013 faces are pasted (upscaled, on a plain background) into larger images, MTCNN runs with the
handler's detector, and each found face's landmarks are mapped back into the 48×48 crop's coordinates.
The per-landmark median is the template `handlers/face_alignment.py` warps detected faces onto, so the
classifier sees faces framed as in training. Also prints how many faces MTCNN finds per score cut-off.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import cv2
import numpy as np
import torch
from facenet_pytorch import MTCNN

from training.fer2013 import DEFAULT_DATASET, FER_SIDE, load_split

LANDMARKS = ("left eye", "right eye", "nose", "mouth left", "mouth right")


def paste(face: np.ndarray, face_px: int, margin: float, rng: random.Random) -> tuple[np.ndarray, int, int]:
    """A 48×48 gray face upscaled to face_px on a flat background; returns RGB image and the face's corner."""
    big = cv2.resize(face, (face_px, face_px), interpolation=cv2.INTER_CUBIC)
    pad = int(face_px * margin)
    side = face_px + 2 * pad
    canvas = np.full((side, side), rng.randint(80, 180), dtype=np.uint8)
    canvas[pad:pad + face_px, pad:pad + face_px] = big
    return cv2.cvtColor(canvas, cv2.COLOR_GRAY2RGB), pad, pad


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--split", default="train")
    parser.add_argument("--count", type=int, default=1500)
    parser.add_argument("--face-px", type=int, default=160)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    split = load_split(args.dataset, args.split)
    rng = random.Random(args.seed)  # nosec B311  # seeded for reproducibility, not a secret
    chosen = rng.sample(range(len(split.labels)), min(args.count, len(split.labels)))
    # Low stage thresholds so the score cut-off below decides; the handler applies its own.
    detector = MTCNN(keep_all=True, min_face_size=20, thresholds=[0.5, 0.6, 0.6])
    points, scores = [], []
    missed = 0
    for index in chosen:
        rgb, x0, y0 = paste(split.images[index], args.face_px, 0.5, rng)
        with torch.inference_mode():
            boxes, probs, marks = detector.detect(rgb, landmarks=True)
        if boxes is None:
            missed += 1
            continue
        boxes, marks = np.asarray(boxes, dtype=np.float64), np.asarray(marks, dtype=np.float64)
        centre = np.array([x0 + args.face_px / 2, y0 + args.face_px / 2])
        box_centres = (boxes[:, :2] + boxes[:, 2:]) / 2
        best = int(np.argmin(np.linalg.norm(box_centres - centre, axis=1)))
        if np.linalg.norm(box_centres[best] - centre) > args.face_px / 3:
            missed += 1
            continue
        # Pixel centres on integer coordinates: the upscale maps 48-grid x to (x + 0.5) * face_px / 48 - 0.5.
        points.append((marks[best] - [x0, y0] + 0.5) * FER_SIDE / args.face_px - 0.5)
        scores.append(float(probs[best]))
    found = np.array(points)
    template = np.median(found, axis=0)
    print(f"{len(chosen)} {args.split} faces pasted at {args.face_px} px; no face near the truth: {missed}")
    for cutoff in (0.6, 0.7, 0.8, 0.9, 0.95):
        print(f"  found with score >= {cutoff}: {np.mean(np.array(scores) >= cutoff) * len(scores) / len(chosen):.1%}")
    print("median landmark positions in the 48×48 frame (x, y), with the interquartile range:")
    for name, median, low, high in zip(LANDMARKS, template, np.percentile(found, 25, axis=0),
                                       np.percentile(found, 75, axis=0), strict=True):
        print(f"  {name:12} ({median[0]:5.2f}, {median[1]:5.2f})   x {low[0]:5.2f}–{high[0]:5.2f}  "
              f"y {low[1]:5.2f}–{high[1]:5.2f}")
    print("template = (" + ", ".join(f"({m[0]:.2f}, {m[1]:.2f})" for m in template) + ")")


if __name__ == "__main__":
    main()
