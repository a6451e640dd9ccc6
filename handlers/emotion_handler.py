"""Emotion model server: MTCNN finds faces, the FER2013 mini-Xception classifies each one.

A TorchServe batch of N images with 0..k faces each becomes one MTCNN call per image size and one
classifier call for every face of the batch.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from facenet_pytorch import MTCNN

from handlers.base import BaseHandler, torchserve_entry_point
from handlers.face_preprocessing import FaceBox, crop_face, pad_gray, resize_for_detection, to_gray
from handlers.image_decoding import decode_rgb
from networks.mini_xception import EMOTION_LABELS, INPUT_SIZE, MiniXception

WEIGHTS_FILE = "mini_xception.pt"
DEFAULTS: dict[str, Any] = {
    "detect_max_side": 1024,  # longer side MTCNN sees; boxes are mapped back to full resolution
    "min_face_size": 20,  # in detection pixels
    "min_detection_score": 0.9,
    "max_pixels": 40_000_000,
}


@dataclass
class DecodedImage:
    rgb_for_detection: np.ndarray
    detection_scale: float
    padded_gray: np.ndarray
    width: int
    height: int


@dataclass
class DetectedFace:
    box: FaceBox
    detection_score: float
    probabilities: np.ndarray


@dataclass
class ImageFaces:
    width: int
    height: int
    faces: list[DetectedFace]


class EmotionHandler(BaseHandler[DecodedImage, ImageFaces]):
    def load(self, model_dir: Path, device: torch.device) -> None:
        self.settings = {**DEFAULTS, **self.config}
        self.classifier = MiniXception()
        state = torch.load(model_dir / WEIGHTS_FILE, map_location="cpu", weights_only=True)
        self.classifier.load_state_dict(state)
        self.classifier.to(device).eval()
        # MTCNN's P/R/O-Net weights ship inside the facenet-pytorch wheel; nothing is downloaded.
        self.detector = MTCNN(keep_all=True, min_face_size=int(self.settings["min_face_size"]), device=device)

    def preprocess_one(self, payload: bytes) -> DecodedImage:
        rgb = decode_rgb(payload, max_pixels=int(self.settings["max_pixels"]))
        for_detection, scale = resize_for_detection(rgb, int(self.settings["detect_max_side"]))
        height, width = rgb.shape[:2]
        return DecodedImage(for_detection, scale, pad_gray(to_gray(rgb)), width, height)

    def _detect(self, images: list[DecodedImage]) -> list[list[tuple[FaceBox, float]]]:
        """MTCNN batches only equal-size images, so run one call per distinct size."""
        by_shape: dict[tuple[int, ...], list[int]] = defaultdict(list)
        for index, image in enumerate(images):
            by_shape[image.rgb_for_detection.shape].append(index)
        found: list[list[tuple[FaceBox, float]]] = [[] for _ in images]
        min_score = float(self.settings["min_detection_score"])
        for indices in by_shape.values():
            stacked = np.stack([images[i].rgb_for_detection for i in indices])
            with torch.inference_mode():
                boxes_batch, scores_batch = self.detector.detect(stacked)
            for index, boxes, scores in zip(indices, boxes_batch, scores_batch, strict=True):
                if boxes is None:
                    continue
                scale = images[index].detection_scale
                for corners, score in zip(boxes, scores, strict=True):
                    if float(score) < min_score:
                        continue
                    x1, y1, x2, y2 = (float(v) / scale for v in corners)
                    found[index].append((FaceBox.from_corners(x1, y1, x2, y2), float(score)))
        return found

    def classify(self, faces: np.ndarray) -> np.ndarray:
        """(N, 64, 64) faces in [-1, 1] → (N, 7) probabilities."""
        if len(faces) == 0:
            return np.zeros((0, len(EMOTION_LABELS)), dtype=np.float32)
        tensor = torch.from_numpy(faces).unsqueeze(1).to(self.device)
        with torch.inference_mode():
            return torch.softmax(self.classifier(tensor), dim=1).float().cpu().numpy()

    def inference(self, batch: list[DecodedImage]) -> list[ImageFaces]:
        detections = self._detect(batch)
        crops: list[np.ndarray] = []
        owners: list[tuple[int, FaceBox, float]] = []
        for index, (image, faces) in enumerate(zip(batch, detections, strict=True)):
            for box, score in faces:
                crop = crop_face(image.padded_gray, box, INPUT_SIZE)
                if crop is not None:
                    crops.append(crop)
                    owners.append((index, box, score))
        face_batch = np.stack(crops) if crops else np.zeros((0, INPUT_SIZE, INPUT_SIZE), np.float32)
        probabilities = self.classify(face_batch)
        results = [ImageFaces(image.width, image.height, []) for image in batch]
        for (index, box, score), probs in zip(owners, probabilities, strict=True):
            results[index].faces.append(DetectedFace(box, score, probs))
        return results

    def postprocess_one(self, output: ImageFaces) -> dict[str, Any]:
        faces = []
        for face in output.faces:
            top = int(np.argmax(face.probabilities))
            emotions = zip(EMOTION_LABELS, face.probabilities, strict=True)
            faces.append({
                "box": {"x": face.box.x, "y": face.box.y, "width": face.box.width, "height": face.box.height},
                "detection_score": round(face.detection_score, 6),
                "emotions": {label: round(float(p), 6) for label, p in emotions},
                "top_emotion": EMOTION_LABELS[top],
                "top_score": round(float(face.probabilities[top]), 6),
            })
        return {"image": {"width": output.width, "height": output.height}, "faces": faces}


_service = EmotionHandler()
handle = torchserve_entry_point(_service)
