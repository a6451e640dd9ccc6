"""Face boxes as (x, y, width, height) pixel tuples, their overlap, and whether two boxes frame one face."""

from __future__ import annotations

Box = tuple[int, int, int, int]


def iou(a: Box, b: Box) -> float:
    """Intersection over union; 0 for two empty boxes."""
    inter_w = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    inter_h = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = inter_w * inter_h
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union else 0.0


def same_face(pasted: Box, detected: Box) -> bool:
    """Whether `detected` is the face pasted at `pasted`: IoU >= 0.3, or a box centred on it (within a third of
    its side) and 0.4 to 2.5 times its side. The second rule is for FER2013 crops framed far from MTCNN's box: a
    face filling half its crop, or a crop cut at the brows and chin that MTCNN boxes whole (IoU 0.2-0.3 both)."""
    if iou(pasted, detected) >= 0.3:
        return True
    offset = ((detected[0] + detected[2] / 2) - (pasted[0] + pasted[2] / 2),
              (detected[1] + detected[3] / 2) - (pasted[1] + pasted[3] / 2))
    ratio = max(detected[2], detected[3]) / max(pasted[2], pasted[3], 1)
    return max(abs(offset[0]), abs(offset[1])) < pasted[2] / 3 and 0.4 <= ratio <= 2.5
