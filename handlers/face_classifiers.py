"""The two expression classifiers the emotion handler can serve, each with the crop it was trained on.

- version 1, `mini_xception`: fer's Keras model ported to PyTorch; fer's own square-box crop at 64 px, so
  answers match fer's exactly (parity).
- version 2, `expression_vgg`: our FER2013 VGG (`networks/expression_vgg.py`); faces aligned on their five
  landmarks to FER2013's framing at 48 px, optionally averaged over flipped/shifted views.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import numpy as np
import torch

from handlers.face_alignment import align_face
from handlers.face_preprocessing import BORDER, FaceBox, crop_face
from networks.expression_vgg import load_expression_vgg
from networks.mini_xception import INPUT_SIZE as MINI_XCEPTION_SIZE
from networks.mini_xception import MiniXception
from networks.test_time_augmentation import check_tta_mode, tta_probabilities

MINI_XCEPTION_WEIGHTS = "mini_xception.pt"


class FaceClassifier(ABC):
    input_size: int

    def __init__(self, model: torch.nn.Module, device: torch.device) -> None:
        self.model = model.to(device).eval()
        self.device = device

    @abstractmethod
    def crop(self, padded_gray: np.ndarray, box: FaceBox, landmarks: np.ndarray) -> np.ndarray | None:
        """One face as (input_size, input_size) float32 in [-1, 1]; `padded_gray` carries `BORDER` px
        of border, `box` and `landmarks` are in the unpadded image's pixels."""

    def forward(self, faces: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.model(faces).float(), dim=1)

    def probabilities(self, faces: np.ndarray) -> np.ndarray:
        """(N, S, S) faces in [-1, 1] → (N, 7) probabilities in EMOTION_LABELS order."""
        if len(faces) == 0:
            return np.zeros((0, 7), dtype=np.float32)
        tensor = torch.from_numpy(np.ascontiguousarray(faces)).unsqueeze(1).to(self.device)
        with torch.inference_mode():
            out: np.ndarray = self.forward(tensor).cpu().numpy()
        return out


class MiniXceptionClassifier(FaceClassifier):
    input_size = MINI_XCEPTION_SIZE

    @classmethod
    def load(cls, model_dir: Path, device: torch.device, settings: dict[str, Any]) -> MiniXceptionClassifier:
        model = MiniXception()
        model.load_state_dict(torch.load(model_dir / MINI_XCEPTION_WEIGHTS, map_location="cpu", weights_only=True))
        return cls(model, device)

    def crop(self, padded_gray: np.ndarray, box: FaceBox, landmarks: np.ndarray) -> np.ndarray | None:
        return crop_face(padded_gray, box, self.input_size)


class ExpressionVGGClassifier(FaceClassifier):
    def __init__(self, model: torch.nn.Module, device: torch.device, input_size: int, tta: str) -> None:
        super().__init__(model, device)
        self.input_size = input_size
        self.tta = check_tta_mode(tta)  # a bad archive config fails at load, not on the first face

    @classmethod
    def load(cls, model_dir: Path, device: torch.device, settings: dict[str, Any]) -> ExpressionVGGClassifier:
        model = load_expression_vgg(model_dir, device)
        return cls(model, device, model.config.input_size, str(settings.get("tta", "flip")))

    def crop(self, padded_gray: np.ndarray, box: FaceBox, landmarks: np.ndarray) -> np.ndarray | None:
        return align_face(padded_gray, landmarks + BORDER, self.input_size)

    def forward(self, faces: torch.Tensor) -> torch.Tensor:
        return tta_probabilities(self.model, faces, self.tta)


CLASSIFIERS: dict[str, type[MiniXceptionClassifier] | type[ExpressionVGGClassifier]] = {
    "mini_xception": MiniXceptionClassifier,
    "expression_vgg": ExpressionVGGClassifier,
}


def load_classifier(model_dir: Path, device: torch.device, settings: dict[str, Any]) -> FaceClassifier:
    name = str(settings.get("classifier", "mini_xception"))
    if name not in CLASSIFIERS:
        raise ValueError(f"unknown face classifier {name!r}: one of {', '.join(CLASSIFIERS)}")
    return CLASSIFIERS[name].load(model_dir, device, settings)
