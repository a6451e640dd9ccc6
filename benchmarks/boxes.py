"""Face boxes as (x, y, width, height) pixel tuples, and their overlap."""

from __future__ import annotations

Box = tuple[int, int, int, int]


def iou(a: Box, b: Box) -> float:
    """Intersection over union; 0 for two empty boxes."""
    inter_w = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    inter_h = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = inter_w * inter_h
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union else 0.0
