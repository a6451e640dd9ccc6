"""The emotion handler, loaded from model_store/emotion.mar exactly as the embedded backend loads it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from archives.loader import ArchiveContext, LoadedArchive, load_archive
from handlers.base import BaseHandler
from handlers.face_preprocessing import BORDER, FaceBox, crop_face, pad_gray, resize_for_detection
from tests.support import images

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def archive(fer_port_archive: LoadedArchive) -> LoadedArchive:
    return fer_port_archive




def test_archive_carries_name_version_and_handler_config(archive: LoadedArchive) -> None:
    assert (archive.name, archive.version) == ("emotion", "1.0.0")
    assert archive.context.model_yaml_config["handler"]["detect_max_side"] > 0


def test_one_batch_of_mixed_requests(archive: LoadedArchive, monkeypatch: pytest.MonkeyPatch) -> None:
    service = archive.module._service  # type: ignore[attr-defined]
    classifier_batches: list[int] = []
    original = service.classify

    def counting_classify(faces: Any) -> Any:
        classifier_batches.append(len(faces))
        return original(faces)

    monkeypatch.setattr(service, "classify", counting_classify)
    payloads = [images.astronaut_bytes(), images.truncated_jpeg(), images.coffee_bytes(), images.two_faces_jpeg(),
                b"not an image at all"]
    answers, statuses = archive.run(payloads)

    # 0 + 1 + 2 faces from three valid images → a single classifier call of 3 faces.
    assert classifier_batches == [3]
    one, truncated, none, two, text = answers
    assert [f["top_emotion"] for f in one["faces"]] == ["happy"]
    assert none["faces"] == []
    assert len(two["faces"]) == 2
    assert {f["top_emotion"] for f in two["faces"]} == {"happy"}
    assert statuses[1][0] == 400 and "truncated" in truncated["error"]
    assert statuses[4][0] == 415 and "not a JPEG, PNG or WebP" in text["error"]
    assert set(statuses) == {1, 4}, "valid neighbours keep status 200"
    for answer in (one, none, two):
        assert answer["batch"]["size"] == 5
        assert answer["model"] == {"name": "emotion", "version": "1.0.0"}


def test_face_fields(archive: LoadedArchive) -> None:
    (answer,), _ = archive.run([images.astronaut_bytes()])
    face = answer["faces"][0]
    assert answer["image"] == {"width": 512, "height": 512}
    box = face["box"]
    # Eileen Collins' face sits in the upper middle of the 512×512 portrait.
    assert 120 < box["x"] < 260 and 20 < box["y"] < 140 and 60 < box["width"] < 160
    assert sum(face["emotions"].values()) == pytest.approx(1.0, abs=1e-4)
    assert face["top_score"] == max(face["emotions"].values())
    assert face["detection_score"] > 0.9


def test_decompression_bomb_is_refused_before_decoding(archive: LoadedArchive) -> None:
    (answer,), statuses = archive.run([images.png_bomb()])
    assert statuses[0][0] == 413
    assert "pixels" in answer["error"]


def test_large_photos_are_downscaled_for_detection_but_boxes_stay_in_full_resolution(archive: LoadedArchive) -> None:
    from PIL import Image

    big = Image.open(images.ASTRONAUT).resize((2048, 2048))
    (small_answer,), _ = archive.run([images.astronaut_bytes()])
    (big_answer,), _ = archive.run([images.encode(big, "JPEG", quality=92)])
    small_box, big_box = small_answer["faces"][0]["box"], big_answer["faces"][0]["box"]
    for key in ("x", "y", "width", "height"):
        assert big_box[key] == pytest.approx(4 * small_box[key], abs=16)
    assert big_answer["faces"][0]["top_emotion"] == "happy"


def test_crops_outside_the_image_use_the_border() -> None:
    import numpy as np

    gray = np.full((50, 50), 200, dtype=np.uint8)
    padded = pad_gray(gray)
    assert padded.shape == (50 + 2 * BORDER, 50 + 2 * BORDER)
    crop = crop_face(padded, FaceBox(-20, -20, 30, 30), 64)
    assert crop is not None and crop.shape == (64, 64)
    assert crop.min() >= -1.0 and crop.max() <= 1.0
    assert crop_face(padded, FaceBox(500, 500, 10, 10), 64) is None


def test_box_corners_truncate_toward_zero_like_fer() -> None:
    assert FaceBox.from_corners(-3.7, 10.9, 40.2, 60.99) == FaceBox(-3, 10, 43, 50)


def test_detection_resize_keeps_small_images() -> None:
    import numpy as np

    small = np.zeros((300, 200, 3), np.uint8)
    assert resize_for_detection(small, 480)[1] == 1.0
    resized, scale = resize_for_detection(np.zeros((960, 640, 3), np.uint8), 480)
    assert resized.shape == (480, 320, 3) and scale == 0.5


def test_environment_overrides_a_handler_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MUSEAIKA_EMOTION_DETECT_MAX_SIDE", "256")
    loaded = load_archive(REPO_ROOT / "model_store" / "emotion.mar", tmp_path)
    service = loaded.module._service  # type: ignore[attr-defined]
    config = service._read_handler_config(loaded.context, "emotion")
    assert config["detect_max_side"] == 256
    assert config["min_face_size"] == 20, "other keys keep the archive's value"


def test_a_tiny_image_fails_alone_with_a_reason(archive: LoadedArchive) -> None:
    answers, statuses = archive.run([images.astronaut_bytes(), images.tiny_jpeg(5), images.two_faces_jpeg()])
    one, tiny, two = answers
    assert statuses == {1: (422, "image too small: at least 20×20 px")}
    assert tiny["error"] == "image too small: at least 20×20 px"
    assert [f["top_emotion"] for f in one["faces"]] == ["happy"]
    assert len(two["faces"]) == 2


def test_a_photo_too_thin_for_detection_has_no_face(archive: LoadedArchive) -> None:
    # 2000×90 → 1024×46 for the first pass; 5000×90 → 1024×18, under MTCNN's smallest pyramid level.
    answers, statuses = archive.run([images.wide_strip_jpeg(2000, 90), images.wide_strip_jpeg(5000, 90),
                                     images.astronaut_bytes()])
    assert statuses == {}
    assert answers[0]["faces"] == [] and answers[1]["faces"] == []
    assert len(answers[2]["faces"]) == 1


class _ChokesOnZero(BaseHandler[int, int]):
    """A model that raises whenever its batch holds a 0, as MTCNN did on one bad image."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[list[int]] = []

    def load(self, model_dir: Path, device: torch.device) -> None:
        pass

    def preprocess_one(self, payload: bytes) -> int:
        return int(payload)

    def inference(self, batch: list[int]) -> list[int]:
        self.batches.append(batch)
        if 0 in batch:
            raise ValueError("model crashed")
        return [10 // x for x in batch]

    def postprocess_one(self, output: int) -> dict[str, Any]:
        return {"value": output}


def test_a_batch_whose_inference_raises_is_retried_one_request_at_a_time() -> None:
    handler = _ChokesOnZero()
    context = ArchiveContext({}, {}, {}, {})
    answers = handler.handle([{"body": b"5"}, {"body": b"0"}, {"body": b"2"}], context)
    assert handler.batches == [[5, 0, 2], [5], [0], [2]]
    assert answers[0]["value"] == 2 and answers[2]["value"] == 5
    assert answers[0]["batch"]["size"] == 3
    assert context.statuses == {1: (500, "inference failed: ValueError")}
    assert answers[1] == {"error": "inference failed: ValueError", "status": 500}
