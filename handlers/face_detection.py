"""MTCNN face detection with landmarks, and an optional second look for photos where it finds nothing.

MTCNN misses faces that are tilted, turned or cut tight (about 9 % of FER2013 faces pasted into larger
photos at its default thresholds; `python -m benchmarks detector_crop`). When the first pass finds no
face, the second look runs MTCNN again with looser proposal stages on the photo and on copies rotated
±30°, and keeps the single best face if the last (O-Net) stage still scores it highly: photos without a
face (coffee cups, noise, gradients) yield no candidate at all, while most missed faces are recovered.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import torch
from facenet_pytorch import MTCNN


@dataclass
class RawDetection:
    """One face in detection-image pixels: box corners (x1, y1, x2, y2), MTCNN score, (5, 2) landmarks."""

    corners: np.ndarray
    score: float
    landmarks: np.ndarray


def _rotation(shape: tuple[int, ...], degrees: float) -> np.ndarray:
    height, width = shape[:2]
    matrix: np.ndarray = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    return matrix


def _apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    out: np.ndarray = points @ matrix[:, :2].T + matrix[:, 2]
    return out


class FaceDetector:
    def __init__(self, settings: dict[str, Any], device: torch.device) -> None:
        min_face = int(settings["min_face_size"])
        # MTCNN's P/R/O-Net weights ship inside the facenet-pytorch wheel; nothing is downloaded.
        self.mtcnn = MTCNN(keep_all=True, min_face_size=min_face,
                           thresholds=[float(t) for t in settings["detection_thresholds"]], device=device)
        self.min_score = float(settings["min_detection_score"])
        self.second_look: MTCNN | None = None
        if settings.get("second_look"):
            self.second_look = MTCNN(keep_all=True, min_face_size=min_face,
                                     thresholds=[float(t) for t in settings["second_look_thresholds"]], device=device)
            self.second_look_min_score = float(settings["second_look_min_score"])
            self.second_look_rotations = [float(r) for r in settings["second_look_rotations"]]

    @staticmethod
    def _unpack(boxes: Any, scores: Any, points: Any) -> list[RawDetection]:
        if boxes is None:
            return []
        # facenet-pytorch hands back object arrays; make them plain floats.
        return [RawDetection(np.asarray(b, dtype=np.float64), float(s), np.asarray(p, dtype=np.float64))
                for b, s, p in zip(boxes, scores, points, strict=True)]

    def detect(self, images: list[np.ndarray]) -> list[list[RawDetection]]:
        """RGB uint8 images → faces per image scoring at least `min_detection_score`. MTCNN batches only
        equal-size images, so there is one call per distinct size."""
        by_shape: dict[tuple[int, ...], list[int]] = defaultdict(list)
        for index, image in enumerate(images):
            by_shape[image.shape].append(index)
        found: list[list[RawDetection]] = [[] for _ in images]
        for indices in by_shape.values():
            with torch.inference_mode():
                batch = self.mtcnn.detect(np.stack([images[i] for i in indices]), landmarks=True)
            for index, boxes, scores, points in zip(indices, *batch, strict=True):
                found[index] = [d for d in self._unpack(boxes, scores, points) if d.score >= self.min_score]
        if self.second_look is not None:
            for index, faces in enumerate(found):
                if not faces:
                    found[index] = self._look_again(images[index])
        return found

    def _look_again(self, image: np.ndarray) -> list[RawDetection]:
        assert self.second_look is not None  # nosec B101  # invariant for mypy, not an input check
        rotations = [_rotation(image.shape, degrees) for degrees in self.second_look_rotations]
        views = [image] + [cv2.warpAffine(image, m, (image.shape[1], image.shape[0]),
                                          borderMode=cv2.BORDER_REPLICATE) for m in rotations]
        with torch.inference_mode():
            batch = self.second_look.detect(np.stack(views), landmarks=True)
        candidates: list[RawDetection] = []
        for view, (boxes, scores, points) in enumerate(zip(*batch, strict=True)):
            for detection in self._unpack(boxes, scores, points):
                if view > 0:  # back to the photo's pixels: landmarks exactly, the box as its bounding box
                    back = cv2.invertAffineTransform(rotations[view - 1])
                    x1, y1, x2, y2 = detection.corners
                    corners = _apply(back, np.array([(x1, y1), (x2, y1), (x1, y2), (x2, y2)]))
                    detection = RawDetection(np.concatenate([corners.min(axis=0), corners.max(axis=0)]),
                                             detection.score, _apply(back, detection.landmarks))
                candidates.append(detection)
        best = max(candidates, key=lambda d: d.score, default=None)
        return [best] if best is not None and best.score >= self.second_look_min_score else []
