"""MTCNN face detection with landmarks, and an optional second look for photos where it finds nothing.

MTCNN misses faces that are tilted, turned or cut tight (`python -m benchmarks detector_crop` counts how
many; the figures are in docs/benchmarks.md). When the first pass finds no
face, the second look runs MTCNN again with looser proposal stages on rotated and mirrored copies of the
photo and keeps the best face that at least `second_look_min_views` views agree on (same place, O-Net
score ≥ `second_look_min_score`). One view alone finds "faces" in textures; a real face is seen from
several views, a texture rarely (`python -m benchmarks detector_crop` measures both sides).

When the second look finds nothing either, an optional cascade look asks a detector that fails differently:
OpenCV's Haar frontal-face cascade (its XML ships inside opencv-python) proposes boxes, and MTCNN's O-Net
scores each one and places the landmarks the aligned crop needs. The cascade was built on tight frontal
crops, the framing MTCNN's proposal stages miss most; O-Net's verdict keeps its textures out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from facenet_pytorch import MTCNN
from torch import nn

# MTCNN's landmark order is left eye, right eye, nose, left mouth corner, right mouth corner (as seen in the
# image); in a mirrored view left and right trade places.
MIRRORED_LANDMARK_ORDER = [1, 0, 2, 4, 3]


@dataclass
class RawDetection:
    """One face in detection-image pixels: box corners (x1, y1, x2, y2), MTCNN score, (5, 2) landmarks."""

    corners: np.ndarray
    score: float
    landmarks: np.ndarray


@dataclass(frozen=True)
class View:
    """A copy of the photo MTCNN looks at: mirrored or not, then turned `degrees` about its centre,
    at `scale` times the photo's size."""

    degrees: float
    mirrored: bool
    scale: float

    def matrix(self, width: int, height: int) -> np.ndarray:
        """2×3 affine map from photo pixels to view pixels."""
        mirror = np.array([[-1.0, 0.0, width - 1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]) if self.mirrored else np.eye(3)
        center = ((width - 1) * self.scale / 2, (height - 1) * self.scale / 2)
        turn = np.vstack([cv2.getRotationMatrix2D(center, self.degrees, 1.0), [0.0, 0.0, 1.0]])
        scale = np.diag([self.scale, self.scale, 1.0])
        out: np.ndarray = (turn @ scale @ mirror)[:2]
        return out

    def render(self, image: np.ndarray) -> np.ndarray:
        height, width = image.shape[:2]
        size = (round(width * self.scale), round(height * self.scale))
        rendered: np.ndarray = cv2.warpAffine(image, self.matrix(width, height), size, flags=cv2.INTER_AREA
                                              if self.scale < 1 else cv2.INTER_LINEAR,
                                              borderMode=cv2.BORDER_REPLICATE)
        return rendered

    def to_photo(self, detection: RawDetection, width: int, height: int) -> RawDetection:
        """A detection in this view's pixels → the photo's: landmarks exactly (back in MTCNN's order), the box
        as the bounding box of its turned corners."""
        back = cv2.invertAffineTransform(self.matrix(width, height))
        x1, y1, x2, y2 = detection.corners
        corners = _apply(back, np.array([(x1, y1), (x2, y1), (x1, y2), (x2, y2)]))
        landmarks = _apply(back, detection.landmarks)
        if self.mirrored:
            landmarks = landmarks[MIRRORED_LANDMARK_ORDER]
        return RawDetection(np.concatenate([corners.min(axis=0), corners.max(axis=0)]), detection.score, landmarks)


def _apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    out: np.ndarray = points @ matrix[:, :2].T + matrix[:, 2]
    return out


def _same_face(a: RawDetection, b: RawDetection) -> bool:
    """Landmark centres closer than a quarter of the eye-to-mouth span: one face seen from two views."""
    span = max(float(np.linalg.norm(a.landmarks[:2].mean(axis=0) - a.landmarks[3:].mean(axis=0))), 1.0)
    return float(np.linalg.norm(a.landmarks.mean(axis=0) - b.landmarks.mean(axis=0))) < span / 4


def _unpack(boxes: Any, scores: Any, points: Any) -> list[RawDetection]:
    if boxes is None:
        return []
    # facenet-pytorch hands back object arrays; make them plain floats.
    return [RawDetection(np.asarray(b, dtype=np.float64), float(s), np.asarray(p, dtype=np.float64))
            for b, s, p in zip(boxes, scores, points, strict=True)]


class CascadeLook:
    """Haar-cascade proposals verified by MTCNN's O-Net: at most one face, the best that scores
    `min_score`. A cascade box is tighter than an MTCNN box, so each is scored at a few sizes about its
    centre (`growths`) and O-Net's box regression gives the final box."""

    def __init__(self, onet: nn.Module, settings: dict[str, Any], device: torch.device) -> None:
        cascade_file = Path(cv2.data.haarcascades) / str(settings["cascade_file"])  # type: ignore[attr-defined]
        self.cascade = cv2.CascadeClassifier(str(cascade_file))
        if self.cascade.empty():
            raise FileNotFoundError(f"no Haar cascade at {cascade_file}")
        self.onet, self.device = onet, device
        self.min_neighbors = int(settings["cascade_min_neighbors"])
        self.min_size = int(settings["min_face_size"])
        self.min_score = float(settings["cascade_min_score"])
        self.max_side = int(settings["cascade_max_side"])
        self.growths = [float(g) for g in settings["cascade_growths"]]

    def proposals(self, image: np.ndarray) -> np.ndarray:
        """(K, 4) square boxes (x1, y1, x2, y2) in photo pixels: each cascade box at every growth."""
        height, width = image.shape[:2]
        scale = min(1.0, self.max_side / max(height, width))
        gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        if scale < 1.0:
            gray = cv2.resize(gray, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
        found = self.cascade.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=self.min_neighbors,
                                              minSize=(self.min_size, self.min_size))
        squares = []
        for x, y, w, h in np.asarray(found, dtype=np.float64).reshape(-1, 4) / scale:
            cx, cy, side = x + w / 2, y + h / 2, max(w, h)
            squares += [(cx - side * g / 2, cy - side * g / 2, cx + side * g / 2, cy + side * g / 2)
                        for g in self.growths]
        return np.array(squares, dtype=np.float64).reshape(-1, 4)

    def look(self, image: np.ndarray) -> list[RawDetection]:
        boxes = self.proposals(image)
        if not len(boxes):
            return []
        with torch.inference_mode():
            outputs = self.onet(_onet_input(image, boxes).to(self.device))
        regression, points, probabilities = (output.cpu().numpy() for output in outputs)
        best = int(np.argmax(probabilities[:, 1]))
        score = float(probabilities[best, 1])
        if score < self.min_score:
            return []
        # MTCNN's own decoding (facenet_pytorch.models.utils.detect_face): landmarks as fractions of the box,
        # the box moved by its regression; both with MTCNN's inclusive pixel sizes.
        box, shift, landmarks = boxes[best], regression[best], points[best]
        side = box[2:] - box[:2] + 1
        landmarks_xy = np.stack([landmarks[:5], landmarks[5:]], axis=1) * side + box[:2] - 1
        return [RawDetection(np.concatenate([box[:2] + shift[:2] * side, box[2:] + shift[2:] * side]), score,
                             landmarks_xy)]


def _onet_input(image: np.ndarray, boxes: np.ndarray) -> torch.Tensor:
    """Each box's pixels at O-Net's 48×48 (zero outside the photo, as the original MTCNN pads), scaled as O-Net
    was trained."""
    height, width = image.shape[:2]
    crops = []
    for x1, y1, x2, y2 in np.rint(boxes).astype(int):
        side_x, side_y = x2 - x1 + 1, y2 - y1 + 1
        canvas = np.zeros((side_y, side_x, 3), dtype=np.uint8)
        sx1, sy1, sx2, sy2 = max(x1, 0), max(y1, 0), min(x2 + 1, width), min(y2 + 1, height)
        if sx2 > sx1 and sy2 > sy1:
            canvas[sy1 - y1:sy2 - y1, sx1 - x1:sx2 - x1] = image[sy1:sy2, sx1:sx2]
        crops.append(cv2.resize(canvas, (48, 48), interpolation=cv2.INTER_AREA))
    batch = torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2).float()
    return (batch - 127.5) * 0.0078125


class FaceDetector:
    def __init__(self, settings: dict[str, Any], device: torch.device) -> None:
        min_face = int(settings["min_face_size"])
        self.min_face = min_face
        # MTCNN's P/R/O-Net weights ship inside the facenet-pytorch wheel; nothing is downloaded.
        self.mtcnn = MTCNN(keep_all=True, min_face_size=min_face,
                           thresholds=[float(t) for t in settings["detection_thresholds"]], device=device)
        self.min_score = float(settings["min_detection_score"])
        self.second_look: MTCNN | None = None
        if settings.get("second_look"):
            self.second_look = MTCNN(keep_all=True, min_face_size=min_face,
                                     thresholds=[float(t) for t in settings["second_look_thresholds"]], device=device)
            self.second_look_min_score = float(settings["second_look_min_score"])
            self.second_look_min_views = int(settings["second_look_min_views"])
            self.second_look_max_side = int(settings["second_look_max_side"])
            mirrors = (False, True) if settings["second_look_mirror"] else (False,)
            self.second_look_views = [(float(degrees), mirrored) for degrees in [0, *settings["second_look_rotations"]]
                                      for mirrored in mirrors if degrees or mirrored]
        self.cascade_look = CascadeLook(self.mtcnn.onet, settings, device) if settings.get("cascade_look") else None
        # Each runs, in this order, only on the images every look before it found no face in.
        self.later_looks: list[Callable[[np.ndarray], list[RawDetection]]] = [
            *([self.look_again] if self.second_look is not None else []),
            *([self.cascade_look.look] if self.cascade_look is not None else [])]

    def detect(self, images: list[np.ndarray]) -> list[list[RawDetection]]:
        """RGB uint8 images → faces per image scoring at least `min_detection_score`. MTCNN batches only
        equal-size images, so there is one call per distinct size."""
        by_shape: dict[tuple[int, ...], list[int]] = defaultdict(list)
        for index, image in enumerate(images):
            # MTCNN's image pyramid is empty (and it raises) when the short side is under its minimum face
            # size; no face it can find fits in such an image.
            if min(image.shape[:2]) >= self.min_face:
                by_shape[image.shape].append(index)
        found: list[list[RawDetection]] = [[] for _ in images]
        for indices in by_shape.values():
            with torch.inference_mode():
                batch = self.mtcnn.detect(np.stack([images[i] for i in indices]), landmarks=True)
            for index, boxes, scores, points in zip(indices, *batch, strict=True):
                found[index] = [d for d in _unpack(boxes, scores, points) if d.score >= self.min_score]
        for look in self.later_looks:
            for index, faces in enumerate(found):
                if not faces:
                    found[index] = look(images[index])
        return found

    def look_again(self, image: np.ndarray) -> list[RawDetection]:
        """The photo itself plus its turned and mirrored views (all one size, so one MTCNN batch); at most
        one face: the best-scoring candidate that enough views agree on."""
        assert self.second_look is not None  # nosec B101  # invariant for mypy, not an input check
        height, width = image.shape[:2]
        scale = min(1.0, self.second_look_max_side / max(height, width))
        if min(round(height * scale), round(width * scale)) < self.min_face:
            return []  # too thin at this scale for MTCNN's pyramid, as in `detect`
        views = [View(0.0, False, scale)] + [View(d, m, scale) for d, m in self.second_look_views]
        with torch.inference_mode():
            batch = self.second_look.detect(np.stack([view.render(image) for view in views]), landmarks=True)
        seen: list[tuple[int, RawDetection]] = []
        for index, (view, found) in enumerate(zip(views, zip(*batch, strict=True), strict=True)):
            seen += [(index, view.to_photo(d, width, height)) for d in _unpack(*found)
                     if d.score >= self.second_look_min_score]
        agreed = [d for index, d in seen
                  if len({other for other, e in seen if other != index and _same_face(d, e)}) + 1
                  >= self.second_look_min_views]
        best = max(agreed, key=lambda d: d.score, default=None)
        return [best] if best is not None else []
