"""Batch augmentation for 48×48 face training, done on whole tensors (no per-image Python loop).

The recipe of the published FER2013 VGG results (Khaireddin & Chen 2021; Pramerdorfer & Kampel 2016):
random rescale ±20 %, shift ±20 %, rotation ±10°, horizontal flip, random erasing (Zhong et al. 2020),
plus a mild brightness/contrast jitter because FER2013's exposure varies widely.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class AugmentationConfig:
    max_rotation_deg: float = 10.0
    scale_range: tuple[float, float] = (0.8, 1.2)
    max_shift: float = 0.2  # fraction of the image side
    flip_probability: float = 0.5
    erase_probability: float = 0.5
    erase_area: tuple[float, float] = (0.02, 0.25)
    brightness: float = 0.2  # added in [-1, 1] units, ± this
    contrast: float = 0.2  # multiplied, 1 ± this


def random_affine(images: torch.Tensor, config: AugmentationConfig, generator: torch.Generator) -> torch.Tensor:
    """(N, 1, H, W) → same shape; each image gets its own rotation, scale, shift and flip."""
    n = images.shape[0]

    def uniform(low: float, high: float) -> torch.Tensor:
        return low + (high - low) * torch.rand(n, generator=generator)

    angle = uniform(-config.max_rotation_deg, config.max_rotation_deg) * math.pi / 180
    zoom = uniform(*config.scale_range)
    flip = torch.where(torch.rand(n, generator=generator) < config.flip_probability, -1.0, 1.0)
    # affine_grid maps output coordinates to input ones, so a zoom of s samples a 1/s window.
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0], theta[:, 0, 1] = cos * flip, -sin
    theta[:, 1, 0], theta[:, 1, 1] = sin * flip, cos
    theta[:, 0, 2] = uniform(-config.max_shift, config.max_shift) * 2
    theta[:, 1, 2] = uniform(-config.max_shift, config.max_shift) * 2
    grid = F.affine_grid(theta.to(images.dtype).to(images.device), list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)


def random_erase(images: torch.Tensor, config: AugmentationConfig, generator: torch.Generator) -> torch.Tensor:
    """Blank one random rectangle (random gray values) in a random subset of the images."""
    n, _, height, width = images.shape
    area = config.erase_area[0] + (config.erase_area[1] - config.erase_area[0]) * torch.rand(n, generator=generator)
    aspect = torch.exp((torch.rand(n, generator=generator) * 2 - 1) * math.log(3.0))
    box_h = (torch.sqrt(area * aspect) * height).clamp(1, height).long()
    box_w = (torch.sqrt(area / aspect) * width).clamp(1, width).long()
    top = (torch.rand(n, generator=generator) * (height - box_h + 1)).long()
    left = (torch.rand(n, generator=generator) * (width - box_w + 1)).long()
    rows = torch.arange(height).view(1, height, 1)
    cols = torch.arange(width).view(1, 1, width)
    inside = ((rows >= top.view(n, 1, 1)) & (rows < (top + box_h).view(n, 1, 1))
              & (cols >= left.view(n, 1, 1)) & (cols < (left + box_w).view(n, 1, 1)))
    chosen = (torch.rand(n, generator=generator) < config.erase_probability).view(n, 1, 1)
    mask = (inside & chosen).unsqueeze(1).to(images.device)
    noise = (torch.rand(images.shape, generator=generator) * 2 - 1).to(images.device, images.dtype)
    return torch.where(mask, noise, images)


def photometric_jitter(images: torch.Tensor, config: AugmentationConfig, generator: torch.Generator) -> torch.Tensor:
    n = images.shape[0]
    contrast = 1 + (torch.rand(n, 1, 1, 1, generator=generator) * 2 - 1) * config.contrast
    brightness = (torch.rand(n, 1, 1, 1, generator=generator) * 2 - 1) * config.brightness
    mean = images.mean(dim=(2, 3), keepdim=True)
    jittered = (images - mean) * contrast.to(images) + mean + brightness.to(images)
    return jittered.clamp(-1.0, 1.0)


def augment(images: torch.Tensor, config: AugmentationConfig, generator: torch.Generator) -> torch.Tensor:
    """Gray faces in [-1, 1], (N, 1, H, W); the generator (CPU) makes runs repeatable."""
    images = random_affine(images, config, generator)
    images = photometric_jitter(images, config, generator)
    return random_erase(images, config, generator)
