"""Emotion model server: MTCNN finds faces and their landmarks, an expression classifier labels each one.

The archive's config picks the classifier (`classifier: mini_xception` for version 1, fer's model and
crop; `expression_vgg` for version 2, landmark-aligned crops): see handlers/face_classifiers.py.

A TorchServe batch of N images with 0..k faces each becomes one MTCNN call per image size and one
classifier call for every face of the batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from handlers.base import BaseHandler, RequestError, torchserve_entry_point
from handlers.face_classifiers import load_classifier
from handlers.face_detection import FaceDetector
from handlers.face_preprocessing import FaceBox, pad_gray, resize_for_detection, to_gray
from handlers.image_decoding import decode_rgb
from networks.mini_xception import EMOTION_LABELS

DEFAULTS: dict[str, Any] = {
    "classifier": "mini_xception",
    "detect_max_side": 1024,  # longer side MTCNN sees; boxes are mapped back to full resolution
    "min_face_size": 20,  # in detection pixels
    "min_detection_score": 0.9,
    "detection_thresholds": [0.6, 0.7, 0.7],  # MTCNN's P-, R- and O-Net cut-offs (facenet-pytorch's defaults)
    "second_look": False,  # see handlers/face_detection.py
    "second_look_thresholds": [0.3, 0.4, 0.6],
    "second_look_min_score": 0.95,
    "second_look_min_views": 2,
    "second_look_rotations": [-45, -30, -15, 15, 30, 45],
    "second_look_mirror": True,
    "second_look_max_side": 384,
    "cascade_look": False,  # see handlers/face_detection.py
    "cascade_file": "haarcascade_frontalface_default.xml",
    "cascade_min_neighbors": 3,
    "cascade_min_score": 0.7,
    "cascade_growths": [1.0, 1.15, 1.3],
    "cascade_max_side": 640,
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
class Detection:
    box: FaceBox
    score: float
    landmarks: np.ndarray  # (5, 2): eyes, nose, mouth corners, in original-image pixels


@dataclass
class DetectedFace:
    box: FaceBox
    detection_score: float
    probabilities: np.ndarray


@dataclass(frozen=True)
class FaceOwner:
    """Which image of a batch a face crop came from, where, and how sure MTCNN was."""

    image: int
    box: FaceBox
    score: float


@dataclass
class ImageFaces:
    width: int
    height: int
    faces: list[DetectedFace]


class EmotionHandler(BaseHandler[DecodedImage, ImageFaces]):
    def load(self, model_dir: Path, device: torch.device) -> None:
        self.settings = {**DEFAULTS, **self.config}
        self.classifier = load_classifier(model_dir, device, self.settings)
        self.detector = FaceDetector(self.settings, device)

    def preprocess_one(self, payload: bytes) -> DecodedImage:
        rgb = decode_rgb(payload, max_pixels=int(self.settings["max_pixels"]))
        # Smaller than the smallest face the detector looks for: no face can be in it, so say why.
        min_side = int(self.settings["min_face_size"])
        if min(rgb.shape[:2]) < min_side:
            raise RequestError(422, f"image too small: at least {min_side}×{min_side} px")
        for_detection, scale = resize_for_detection(rgb, int(self.settings["detect_max_side"]))
        height, width = rgb.shape[:2]
        return DecodedImage(for_detection, scale, pad_gray(to_gray(rgb)), width, height)

    def _detect(self, images: list[DecodedImage]) -> list[list[Detection]]:
        """Faces per image, boxes and landmarks mapped back to full resolution."""
        found = self.detector.detect([image.rgb_for_detection for image in images])
        detections: list[list[Detection]] = []
        for image, faces in zip(images, found, strict=True):
            scale = image.detection_scale
            detections.append([Detection(FaceBox.from_corners(*(float(v) / scale for v in face.corners)), face.score,
                                         face.landmarks / scale) for face in faces])
        return detections

    def classify(self, faces: np.ndarray) -> np.ndarray:
        """(N, S, S) faces in [-1, 1], S = the classifier's input size → (N, 7) probabilities."""
        return self.classifier.probabilities(faces)

    def face_crops(self, batch: list[DecodedImage]) -> tuple[np.ndarray, list[FaceOwner]]:
        """Every face of the batch as the classifier's input, (N, S, S) in [-1, 1], and whose it is.
        Training builds its served-framing faces with this too (training/served_face_crops.py)."""
        crops: list[np.ndarray] = []
        owners: list[FaceOwner] = []
        for index, (image, faces) in enumerate(zip(batch, self._detect(batch), strict=True)):
            for face in faces:
                crop = self.classifier.crop(image.padded_gray, face.box, face.landmarks)
                if crop is not None:
                    crops.append(crop)
                    owners.append(FaceOwner(index, face.box, face.score))
        size = self.classifier.input_size
        return (np.stack(crops) if crops else np.zeros((0, size, size), np.float32)), owners

    def inference(self, batch: list[DecodedImage]) -> list[ImageFaces]:
        crops, owners = self.face_crops(batch)
        probabilities = self.classify(crops)
        results = [ImageFaces(image.width, image.height, []) for image in batch]
        for owner, probs in zip(owners, probabilities, strict=True):
            results[owner.image].faces.append(DetectedFace(owner.box, owner.score, probs))
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
