"""Served-framing training faces (training/served_face_crops.py) and the photos they start from
(training/face_pasting.py)."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from handlers.emotion_handler import EmotionHandler
from tests.support import images
from training.face_pasting import Pasting, paste_face
from training.served_face_crops import first_pass_handler, random_pasting, served_crop, to_uint8


@pytest.fixture(scope="module")
def handler() -> EmotionHandler:
    return first_pass_handler()


@pytest.fixture(scope="module")
def fer_framed_face(handler: EmotionHandler) -> np.ndarray:
    """The astronaut's face as a FER2013-style 48×48 uint8 crop: the handler's own aligned crop."""
    crops, _ = handler.face_crops([handler.preprocess_one(images.astronaut_bytes())])
    return to_uint8(crops[0])


def decode_gray(jpeg: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(jpeg)).convert("L"), dtype=np.float64)


def test_a_flat_pasting_puts_the_upscaled_face_in_its_box_on_the_background(fer_framed_face: np.ndarray) -> None:
    jpeg, (x, y, side, height) = paste_face(fer_framed_face, Pasting(96, 40, (7, -5), 120, 95))
    photo = decode_gray(jpeg)
    assert photo.shape == (176, 176) and (x, y, side, height) == (47, 35, 96, 96)
    expected = cv2.resize(fer_framed_face, (96, 96), interpolation=cv2.INTER_CUBIC).astype(np.float64)
    assert np.abs(photo[y + 4:y + 92, x + 4:x + 92] - expected[4:92, 4:92]).mean() < 6
    assert np.abs(photo[:y - 4, :] - 120).max() < 6 and np.abs(photo[:, x + 100:] - 120).max() < 6


def test_a_reflected_pasting_continues_the_face_past_its_edges(fer_framed_face: np.ndarray) -> None:
    jpeg, (x, y, side, _) = paste_face(fer_framed_face, Pasting(96, 40, (0, 0), 120, 95, "reflect"))
    photo = decode_gray(jpeg)
    # Mirrored outward about the face's first column: column x - k repeats column x + k.
    assert np.abs(photo[y:y + side, x - 20:x][:, ::-1] - photo[y:y + side, x + 1:x + 21]).mean() < 6
    with pytest.raises(ValueError, match="unknown fill"):
        paste_face(fer_framed_face, Pasting(96, 40, (0, 0), 120, 95, "tiles"))


def test_pastings_are_seeded_by_face_index_alone() -> None:
    assert random_pasting(123, 5) == random_pasting(123, 5)
    assert len({random_pasting(index, 5) for index in range(50)}) == 50
    assert random_pasting(123, 5) != random_pasting(123, 6)
    for index in range(200):
        pasting = random_pasting(index, 5)
        assert 64 <= pasting.face_px <= 256 and pasting.fill in ("flat", "reflect")
        assert max(abs(pasting.shift[0]), abs(pasting.shift[1])) <= pasting.margin // 3 + 1


@pytest.mark.parametrize("index", [0, 1, 2, 3])
def test_a_pasted_face_comes_back_in_its_own_framing(handler: EmotionHandler, fer_framed_face: np.ndarray,
                                                     index: int) -> None:
    """Whatever the photo, the pipeline's crop of a FER-framed face is that face again: alignment undoes
    the pasting's size and place."""
    crop = served_crop(handler, fer_framed_face, random_pasting(index, 5))
    assert crop is not None and crop.shape == (48, 48) and crop.dtype == np.uint8
    correlation = np.corrcoef(crop.ravel().astype(float), fer_framed_face.ravel().astype(float))[0, 1]
    assert correlation > 0.9, correlation


def test_no_served_crop_without_a_face(handler: EmotionHandler) -> None:
    gray = np.asarray(Image.open(io.BytesIO(images.coffee_bytes())).convert("L").resize((48, 48)))
    assert served_crop(handler, gray, Pasting(160, 60, (0, 0), 100, 90)) is None
