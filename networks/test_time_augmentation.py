"""Test-time augmentation for face classifiers: average the softmax over flipped and shifted views.

Ten views (identity and four 2-pixel shifts, each also mirrored) echo the ten-crop evaluation of the
FER2013 VGG papers, for a network that sees the whole 48×48 face instead of 40×40 crops.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

SHIFTS: tuple[tuple[int, int], ...] = ((0, 0), (2, 0), (-2, 0), (0, 2), (0, -2))
# none: the face as is; flip: the face and its mirror (what version 2 serves); full: 10 views (flips × shifts).
TTA_MODES = ("none", "flip", "full")


def _shifted(faces: torch.Tensor, dx: int, dy: int) -> torch.Tensor:
    """Translate by (dx, dy) pixels, repeating the edge rows/columns into the gap."""
    if dx == 0 and dy == 0:
        return faces
    pad = (max(dx, 0), max(-dx, 0), max(dy, 0), max(-dy, 0))
    padded = F.pad(faces, pad, mode="replicate")
    height, width = faces.shape[-2:]
    top, left = max(-dy, 0), max(-dx, 0)
    return padded[..., top:top + height, left:left + width]


def averaged_probabilities(model: nn.Module, faces: torch.Tensor, flip: bool = True,
                           shifts: bool = True) -> torch.Tensor:
    """(N, 1, H, W) → (N, classes) mean softmax over the views; one forward pass for all of them."""
    views = [_shifted(faces, dx, dy) for dx, dy in (SHIFTS if shifts else SHIFTS[:1])]
    if flip:
        views += [view.flip(-1) for view in views]
    stacked = torch.cat(views)
    probabilities = torch.softmax(model(stacked).float(), dim=1)
    return probabilities.view(len(views), faces.shape[0], -1).mean(dim=0)


def check_tta_mode(mode: str) -> str:
    if mode not in TTA_MODES:
        raise ValueError(f"tta must be one of {TTA_MODES}, not {mode!r}")
    return mode


def tta_probabilities(model: nn.Module, faces: torch.Tensor, mode: str) -> torch.Tensor:
    """(N, 1, H, W) → (N, classes) softmax over the views `mode` (one of TTA_MODES) names."""
    if check_tta_mode(mode) == "none":
        return torch.softmax(model(faces).float(), dim=1)
    return averaged_probabilities(model, faces, flip=True, shifts=mode == "full")
