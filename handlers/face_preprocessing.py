"""fer-compatible face crops for the FER2013 classifier.

Reproduces `fer.FER.detect_emotions` step by step (gray conversion, 40 px border filled with the
mean of the bottom two rows, square box, 10 px offsets, 64×64 bilinear resize, scaling to [-1, 1])
so the PyTorch port sees exactly the pixels fer's Keras model sees.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

BORDER = 40
OFFSETS = (10, 10)


@dataclass(frozen=True)
class FaceBox:
    """Integer face box in original-image pixels, as fer reports it (x, y, width, height)."""

    x: int
    y: int
    width: int
    height: int

    @classmethod
    def from_corners(cls, x1: float, y1: float, x2: float, y2: float) -> FaceBox:
        # int() truncates toward zero exactly like fer's conversion of MTCNN's float corners.
        return cls(int(x1), int(y1), int(x2) - int(x1), int(y2) - int(y1))


def to_gray(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def pad_gray(gray: np.ndarray) -> np.ndarray:
    """Border every side with the mean of the bottom two rows, so crops may leave the image."""
    mean = float(cv2.mean(gray[-2:, :])[0])  # type: ignore[index]
    return cv2.copyMakeBorder(gray, BORDER, BORDER, BORDER, BORDER, cv2.BORDER_CONSTANT, value=[mean] * 3)


def _square(box: FaceBox) -> tuple[int, int, int, int]:
    x, y, w, h = box.x, box.y, box.width, box.height
    if h > w:
        x -= (h - w) // 2
        w = h
    elif w > h:
        y -= (w - h) // 2
        h = w
    return x, y, w, h


def crop_face(padded_gray: np.ndarray, box: FaceBox, size: int) -> np.ndarray | None:
    """One face as a (size, size) float32 array in [-1, 1], or None when the crop is empty."""
    x, y, w, h = _square(box)
    x_off, y_off = OFFSETS
    x1 = max(0, x - x_off + BORDER)
    y1 = max(0, y - y_off + BORDER)
    x2 = x + w + x_off + BORDER
    y2 = y + h + y_off + BORDER
    face = padded_gray[y1:y2, x1:x2]
    if face.size == 0:
        return None
    resized = cv2.resize(face, (size, size)).astype(np.float32)
    return (resized / 255.0 - 0.5) * 2.0


def resize_for_detection(rgb: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """Downscale so the longer side is at most `max_side`; MTCNN's cost grows with the area."""
    height, width = rgb.shape[:2]
    scale = min(1.0, max_side / max(height, width))
    if scale == 1.0:
        return rgb, 1.0
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA), scale
