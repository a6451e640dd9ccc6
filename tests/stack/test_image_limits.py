"""Image limits at both gates, the orchestrator (header only) and the model server (full decode): animated
images refused with a reason, EXIF orientation applied before detection, bombs refused before decoding."""

from __future__ import annotations

import io
from collections.abc import Iterator

import httpx
import numpy as np
import pytest
from PIL import Image

from archives.loader import LoadedArchive
from handlers.base import RequestError
from handlers.image_decoding import decode_rgb
from launcher.stack import Stack
from orchestrator.core.errors import InvalidInputError
from orchestrator.moods.image_validation import inspect_image
from tests.support import images

LIMITS = {"max_bytes": 10_000_000, "max_pixels": 40_000_000}


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_animated_images_are_refused_with_a_reason_at_both_gates(fmt: str) -> None:
    data = images.animated(fmt)
    with pytest.raises(InvalidInputError) as at_api:
        inspect_image(data, **LIMITS)
    assert at_api.value.status == 415 and "animated" in str(at_api.value) and "3 frames" in str(at_api.value)
    with pytest.raises(RequestError) as at_model:
        decode_rgb(data, max_pixels=LIMITS["max_pixels"])
    assert at_model.value.status == 415 and "animated" in at_model.value.reason


def test_a_phone_mpo_photo_is_taken_as_its_first_frame() -> None:
    data = images.mpo()
    assert Image.open(io.BytesIO(data)).format == "MPO"
    header = inspect_image(data, **LIMITS)
    assert header.format == "MPO" and (header.width, header.height) == Image.open(images.ASTRONAUT).size
    first = decode_rgb(data, max_pixels=LIMITS["max_pixels"])
    plain = decode_rgb(images.astronaut_bytes(), max_pixels=LIMITS["max_pixels"])
    assert first.shape == plain.shape
    assert np.abs(first.astype(np.int16) - plain.astype(np.int16)).mean() < 6  # not the darker second frame


def test_a_single_frame_png_and_webp_still_pass() -> None:
    still = Image.open(images.ASTRONAUT).convert("RGB")
    for fmt in ("PNG", "WEBP"):
        header = inspect_image(images.encode(still, fmt), **LIMITS)
        assert (header.width, header.height) == still.size


def test_exif_orientation_is_applied_before_anything_sees_the_pixels() -> None:
    upright = decode_rgb(images.astronaut_bytes(), max_pixels=LIMITS["max_pixels"])
    turned = decode_rgb(images.exif_rotated_jpeg(), max_pixels=LIMITS["max_pixels"])
    assert turned.shape == upright.shape
    difference = np.abs(turned.astype(np.int16) - upright.astype(np.int16)).mean()
    assert difference < 6, difference  # the same picture, up to two JPEG round trips


def test_a_face_stored_sideways_is_found_where_a_viewer_sees_it(fer_port_archive: LoadedArchive) -> None:
    answers, statuses = fer_port_archive.run([images.astronaut_bytes(), images.exif_rotated_jpeg()])
    assert statuses == {}
    upright, turned = (answer["faces"] for answer in answers)
    assert len(upright) == len(turned) == 1
    for key in ("x", "y", "width", "height"):
        assert abs(upright[0]["box"][key] - turned[0]["box"][key]) <= 6
    assert turned[0]["top_emotion"] == upright[0]["top_emotion"] == "happy"


@pytest.fixture(scope="module")
def api(embedded_stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=embedded_stack.orchestrator_url, timeout=60) as client:
        yield client


def test_the_api_refuses_animated_and_bomb_uploads_with_reasons(api: httpx.Client) -> None:
    for data, content_type, status, reason in [
        (images.animated("WEBP"), "image/webp", 415, "animated"),
        (images.png_bomb(), "image/png", 413, "pixels"),
    ]:
        response = api.post("/v1/moods/face", files={"image": ("upload", data, content_type)})
        assert response.status_code == status, response.text
        assert reason in response.json()["detail"]


def test_the_api_scores_the_face_in_a_phone_mpo_photo(api: httpx.Client) -> None:
    """Before: 415 "MPO images are not supported". Now the first frame is scored like the plain JPEG."""
    mpo = api.post("/v1/moods/face", files={"image": ("portrait.jpg", images.mpo(), "image/jpeg")})
    plain = api.post("/v1/moods/face", files={"image": ("astronaut.jpg", images.astronaut_bytes(), "image/jpeg")})
    assert mpo.status_code == plain.status_code == 200, mpo.text
    assert len(mpo.json()["faces"]) == len(plain.json()["faces"]) == 1
    assert mpo.json()["faces"][0]["top_emotion"] == plain.json()["faces"][0]["top_emotion"]
