"""VGG-style facial-expression classifier for 48×48 FER2013 faces (emotion model version 2).

The layout follows the VGG variant of Khaireddin & Chen, "Facial Emotion Recognition: State of the Art
Performance on FER2013" (arXiv:2105.03588, 73.28 % single-model): four stages of two 3×3 conv + BatchNorm
+ ReLU and a 2×2 max-pool, then two fully connected layers with dropout. `width` scales every stage so the
same definition serves a CPU-sized model and the paper's (64, 128, 256, 512).

Outputs use `networks.mini_xception.EMOTION_LABELS` order, so both versions answer with the same labels.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from networks.mini_xception import EMOTION_LABELS

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"


@dataclass(frozen=True)
class ExpressionVGGConfig:
    stage_channels: tuple[int, ...] = (32, 64, 128, 256)
    hidden: int = 512
    dropout: float = 0.4
    input_size: int = 48
    labels: tuple[str, ...] = EMOTION_LABELS


def _conv_bn_relu(in_channels: int, out_channels: int) -> list[nn.Module]:
    return [nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False), nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True)]


class ExpressionVGG(nn.Module):
    """Input: (N, 1, S, S) gray faces in [-1, 1], S = config.input_size. Output: (N, 7) logits."""

    def __init__(self, config: ExpressionVGGConfig | None = None) -> None:
        super().__init__()
        self.config = config or ExpressionVGGConfig()
        layers: list[nn.Module] = []
        in_channels = 1
        for channels in self.config.stage_channels:
            layers += _conv_bn_relu(in_channels, channels) + _conv_bn_relu(channels, channels)
            layers.append(nn.MaxPool2d(2))
            in_channels = channels
        self.features = nn.Sequential(*layers)
        side = self.config.input_size // 2 ** len(self.config.stage_channels)
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(in_channels * side * side, self.config.hidden), nn.ReLU(inplace=True),
            nn.Dropout(self.config.dropout),
            nn.Linear(self.config.hidden, self.config.hidden), nn.ReLU(inplace=True),
            nn.Dropout(self.config.dropout),
            nn.Linear(self.config.hidden, len(self.config.labels)),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits: torch.Tensor = self.classifier(self.features(x))
        return logits


def save_expression_vgg(model: ExpressionVGG, folder: Path) -> None:
    """config.json + model.safetensors: plain tensors, nothing executable in the weights file."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / CONFIG_FILE).write_text(json.dumps(asdict(model.config), indent=2) + "\n")
    state = {name: tensor.detach().cpu().contiguous() for name, tensor in model.state_dict().items()}
    save_file(state, str(folder / WEIGHTS_FILE))


def load_expression_vgg(folder: Path, device: torch.device | str = "cpu") -> ExpressionVGG:
    raw = json.loads((folder / CONFIG_FILE).read_text())
    config = ExpressionVGGConfig(stage_channels=tuple(int(c) for c in raw["stage_channels"]), hidden=int(raw["hidden"]),
                                 dropout=float(raw["dropout"]), input_size=int(raw["input_size"]),
                                 labels=tuple(str(label) for label in raw["labels"]))
    if config.labels != EMOTION_LABELS:
        raise ValueError(f"{folder}: labels {config.labels} differ from the served order {EMOTION_LABELS}")
    model = ExpressionVGG(config)
    model.load_state_dict(load_file(str(folder / WEIGHTS_FILE), device=str(device)))
    return model.to(device).eval()
