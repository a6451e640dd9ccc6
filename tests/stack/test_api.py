"""The public API on the embedded default, through a real uvicorn process and a real Mongo-wire server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from bson import ObjectId
from pymongo import MongoClient

from archives.served import served_default_versions
from launcher.stack import Stack
from tests.support import images

SERVED_EMOTION = {"name": "emotion", "version": served_default_versions()["emotion"]}  # config/models.yaml


@pytest.fixture(scope="module")
def api(embedded_stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=embedded_stack.orchestrator_url, timeout=60) as client:
        yield client


def post_image(api: httpx.Client, data: bytes, filename: str = "photo.jpg",
               content_type: str = "image/jpeg") -> httpx.Response:
    return api.post("/v1/moods/face", files={"image": (filename, data, content_type)})


def test_face_photo_returns_faces_and_a_mood_stored_in_mongodb(api: httpx.Client, embedded_stack: Stack) -> None:
    response = post_image(api, images.astronaut_bytes())
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["faces"]) == 1
    face = body["faces"][0]
    assert set(face["emotions"]) == {"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"}
    assert face["top_emotion"] == "happy"
    mood = body["mood"]
    assert mood["label"] == "happy" and mood["valence"] > 0.5 and 0 < mood["confidence"] <= 1
    assert -1 <= mood["arousal"] <= 1
    assert body["model"] == SERVED_EMOTION

    client: MongoClient[dict[str, Any]]
    with MongoClient(embedded_stack.mongo_url) as client:
        events = client[embedded_stack.config.mongo_database].mood_events
        stored = events.find_one({"_id": ObjectId(body["event_id"])})
    assert stored is not None
    assert stored["source"] == "face" and stored["owner_id"] is None
    assert stored["models"] == [SERVED_EMOTION]
    assert stored["faces"][0]["emotions"] == face["emotions"]
    assert stored["mood"]["label"] == "happy" and stored["created_at"] is not None

    again = api.get(f"/v1/mood-events/{body['event_id']}")
    assert again.status_code == 200
    assert again.json()["mood"] == mood


def test_every_face_and_one_confidence_weighted_mood(api: httpx.Client) -> None:
    body = post_image(api, images.two_faces_jpeg()).json()
    assert len(body["faces"]) == 2
    xs = sorted(f["box"]["x"] for f in body["faces"])
    assert xs[1] > 512 > xs[0], "one face in each half"
    assert body["mood"]["label"] == "happy"


def test_png_and_webp_are_accepted(api: httpx.Client) -> None:
    from PIL import Image

    photo = Image.open(images.ASTRONAUT)
    for fmt, mime in (("PNG", "image/png"), ("WEBP", "image/webp")):
        response = post_image(api, images.encode(photo, fmt), f"a.{fmt.lower()}", mime)
        assert response.status_code == 200, response.text
        assert len(response.json()["faces"]) == 1


def test_photo_without_a_face_has_no_mood_and_says_why(api: httpx.Client) -> None:
    response = post_image(api, images.coffee_bytes())
    assert response.status_code == 200
    body = response.json()
    assert body["faces"] == [] and body["mood"] is None
    assert "no face" in body["reason"]


@pytest.mark.parametrize(("payload", "status", "reason"), [
    (b"hello, this is text", 415, "not a JPEG, PNG or WebP"),
    (images.gif_bytes(), 415, "GIF"),
    (images.truncated_jpeg(), 400, "truncated"),
    (b"", 400, "empty"),
    (images.png_bomb(), 413, "before decoding"),
    (images.png_bomb(10_000, 5_000), 413, "over the limit of 40000000"),
], ids=["text", "gif", "truncated", "empty", "decompression-bomb", "too-many-pixels"])
def test_bad_images_get_a_clear_4xx(api: httpx.Client, payload: bytes, status: int, reason: str) -> None:
    response = post_image(api, payload)
    assert response.status_code == status, response.text
    assert reason in response.json()["detail"]


def test_upload_over_the_size_limit_is_413(api: httpx.Client) -> None:
    response = post_image(api, images.astronaut_bytes() + b"\0" * (10 * 1024 * 1024))
    assert response.status_code == 413
    assert "limit" in response.json()["detail"]


def test_missing_image_field_is_422(api: httpx.Client) -> None:
    response = api.post("/v1/moods/face", files={"photo": ("a.jpg", images.astronaut_bytes(), "image/jpeg")})
    assert response.status_code == 422


def test_unknown_mood_event_is_404(api: httpx.Client) -> None:
    assert api.get("/v1/mood-events/not-an-id").status_code == 404
    assert api.get(f"/v1/mood-events/{ObjectId()}").status_code == 404


def test_health_readiness_metrics_and_docs(api: httpx.Client) -> None:
    assert api.get("/healthz").json() == {"status": "ok"}
    ready = api.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["dependencies"]["model:emotion"]["ready"] is True
    assert ready.json()["dependencies"]["mongodb"]["ready"] is True
    post_image(api, images.astronaut_bytes())
    metrics = api.get("/metrics").text
    assert 'museaika_http_request_duration_seconds_count{method="POST",route="/v1/moods/face",status="200"}' in metrics
    assert 'museaika_model_request_duration_seconds_count{backend="embedded",model="emotion",outcome="ok"}' in metrics
    assert "museaika_model_batch_size_bucket" in metrics
    assert api.get("/docs").status_code == 200
    assert "/v1/moods/face" in api.get("/openapi.json").json()["paths"]
