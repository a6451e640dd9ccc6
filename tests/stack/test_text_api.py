"""Text and fused moods through the orchestrator on the embedded default, stored in a real Mongo-wire server."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from bson import ObjectId
from pymongo import MongoClient

from archives.served import served_default_versions
from export_scripts.build_sentiment_archive import build
from launcher.stack import Stack, StackConfig
from tests.support import images
from tests.support.tiny_text_model import make_tiny_classifier
from training.text_data import EKMAN_LABELS

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def api(embedded_stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=embedded_stack.orchestrator_url, timeout=60) as client:
        yield client


def post_text(api: httpx.Client, body: Any) -> httpx.Response:
    return api.post("/v1/moods/text", json=body)


def test_text_mood_is_scored_mapped_and_stored(api: httpx.Client, embedded_stack: Stack) -> None:
    response = post_text(api, {"text": "I am so happy and grateful today, everything went great!", "language": "en"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert tuple(body["text"]["emotions"]) == EKMAN_LABELS
    assert body["text"]["top_emotion"] == "joy" and body["text"]["truncated"] is False
    assert body["text"]["labels"][0] == "joy" and set(body["text"]["label_scores"]) == set(EKMAN_LABELS)
    assert body["mood"]["label"] == "joy" and body["mood"]["valence"] > 0.5
    assert body["model"] == {"name": "sentiment", "version": served_default_versions()["sentiment"]}
    client: MongoClient[dict[str, Any]]
    with MongoClient(embedded_stack.mongo_url) as client:
        events = client[embedded_stack.config.mongo_database].mood_events
        stored = events.find_one({"_id": ObjectId(body["event_id"])})
    assert stored is not None and stored["source"] == "text"
    assert stored["text"]["language"] == "en" and stored["text"]["characters"] == 56
    assert "grateful" not in str(stored), "the user's words are not stored"


def test_sad_text(api: httpx.Client) -> None:
    body = post_text(api, {"text": "i feel so lonely and miserable since she left"}).json()
    assert body["text"]["top_emotion"] == "sadness" and body["mood"]["valence"] < 0


def test_long_text_is_truncated_and_says_so(api: httpx.Client) -> None:
    body = post_text(api, {"text": "i feel wonderful and alive " * 60}).json()
    assert body["text"]["truncated"] is True and body["text"]["tokens"] == 128


@pytest.mark.parametrize(("kwargs", "status", "reason"), [
    ({"json": {"text": "   "}}, 422, "empty"),
    ({"json": {"text": "x" * 5001}}, 413, "5000"),
    ({"json": {"language": "en"}}, 422, "text"),
    ({"json": {"text": "je suis heureux", "language": "fr"}}, 422, "not supported"),
    ({"content": b'{"text": "caf\xe9"}', "headers": {"content-type": "application/json"}}, 400, "UTF-8"),
    ({"content": b"\x00\x01\x02binary", "headers": {"content-type": "application/json"}}, 400, "JSON"),
    ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 400, "JSON"),
], ids=["empty", "too-long", "missing-text", "unsupported-language", "bad-utf8", "binary", "bad-json"])
def test_bad_text_gets_a_clear_4xx(api: httpx.Client, kwargs: dict[str, Any], status: int, reason: str) -> None:
    response = api.post("/v1/moods/text", **kwargs)
    assert response.status_code == status, response.text
    assert reason in response.json()["detail"]


def test_face_and_text_fused_with_weights_explained(api: httpx.Client) -> None:
    response = api.post("/v1/moods", files={"image": ("a.jpg", images.astronaut_bytes(), "image/jpeg")},
                        data={"text": "what a wonderful, joyful day", "language": "en"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["face"]["faces"][0]["top_emotion"] == "happy"
    assert body["text"]["top_emotion"] == "joy"
    assert body["missing"] == {}
    assert set(body["fusion"]["weights"]) == {"face", "text"}
    assert "face confidence" in body["fusion"]["explanation"] and "text confidence" in body["fusion"]["explanation"]
    assert body["fusion"]["disagreement"] is False and body["mood"]["valence"] > 0.5
    assert [m["name"] for m in body["models"]] == ["emotion", "sentiment"]
    stored = api.get(f"/v1/mood-events/{body['event_id']}").json()
    assert stored["source"] == "fused" and stored["fusion"]["weights"] == body["fusion"]["weights"]


def test_conflicting_parts_are_flagged(api: httpx.Client) -> None:
    body = api.post("/v1/moods", files={"image": ("a.jpg", images.astronaut_bytes(), "image/jpeg")},
                    data={"text": "i feel so hopeless and depressed, i cried all night"}).json()
    assert body["fusion"]["disagreement"] is True
    assert "disagree" in body["fusion"]["explanation"]


def test_fused_with_one_part_or_none(api: httpx.Client) -> None:
    text_only = api.post("/v1/moods", data={"text": "i am furious at how they treated me"})
    assert text_only.status_code == 200 and text_only.json()["face"] is None
    assert text_only.json()["fusion"]["weights"] == {"text": 1.0}
    no_face = api.post("/v1/moods", files={"image": ("c.jpg", images.coffee_bytes(), "image/jpeg")})
    assert no_face.status_code == 200
    assert no_face.json()["mood"] is None and "no face" in no_face.json()["reason"]
    assert api.post("/v1/moods", data={"language": "en"}).status_code == 422
    bad = api.post("/v1/moods", files={"image": ("a.jpg", images.truncated_jpeg(), "image/jpeg")},
                   data={"text": "fine"})
    assert bad.status_code == 400


def store_with_face_model(root: Path) -> Path:
    """A model store holding the real emotion archives (both versions) and no sentiment archive (yet)."""
    store = root / "store"
    store.mkdir()
    for archive in ("emotion.mar", "emotion-2.3.0.mar"):
        shutil.copy(REPO_ROOT / "model_store" / archive, store / archive)
    return store


@pytest.fixture(scope="module")
def odd_models_stack(tmp_path_factory: pytest.TempPathFactory, mongo_url: str,
                     mongo_database: str) -> Iterator[Stack]:
    """The face model, plus a text model whose labels have no valence/arousal position."""
    root = tmp_path_factory.mktemp("odd")
    store = store_with_face_model(root)
    model_dir = make_tiny_classifier(root / "tiny", ("calm", "excited", "gloomy"))
    build(model_dir, "sentiment", served_default_versions()["sentiment"], store, staging=root / "staging")
    with Stack(StackConfig(run_dir=root / "run", mongo_url=mongo_url, mongo_database=mongo_database,
                           model_store=store)) as stack:
        yield stack


def test_a_model_with_unknown_labels_is_served_but_its_mood_refused(odd_models_stack: Stack) -> None:
    with httpx.Client(base_url=odd_models_stack.orchestrator_url, timeout=60) as api:
        body = api.post("/v1/moods/text", json={"text": "i am calm"}).json()
        assert set(body["text"]["emotions"]) == {"calm", "excited", "gloomy"}
        assert body["mood"] is None and "no valence/arousal position" in body["reason"]
        fused = api.post("/v1/moods", files={"image": ("a.jpg", images.astronaut_bytes(), "image/jpeg")},
                         data={"text": "i am calm"}).json()
        assert fused["fusion"]["weights"] == {"face": 1.0}, "only the part with a mood is fused"
        assert "no valence/arousal position" in fused["reason"]


@pytest.fixture(scope="module")
def face_only_stack(tmp_path_factory: pytest.TempPathFactory, mongo_url: str,
                    mongo_database: str) -> Iterator[Stack]:
    """The sentiment archive is missing: the text part's model server is unavailable."""
    root = tmp_path_factory.mktemp("faceonly")
    with Stack(StackConfig(run_dir=root / "run", mongo_url=mongo_url, mongo_database=mongo_database,
                           model_store=store_with_face_model(root), wait_until_ready=False)) as stack:
        yield stack


def test_missing_part_is_reported_instead_of_failing_whole(face_only_stack: Stack) -> None:
    with httpx.Client(base_url=face_only_stack.orchestrator_url, timeout=60) as api:
        ready = api.get("/readyz")
        assert ready.status_code == 503 and ready.json()["dependencies"]["model:sentiment"]["ready"] is False
        fused = api.post("/v1/moods", files={"image": ("a.jpg", images.astronaut_bytes(), "image/jpeg")},
                         data={"text": "what a day"})
        assert fused.status_code == 200, fused.text
        body = fused.json()
        assert "text" in body["missing"] and "model:sentiment" in body["missing"]["text"]
        assert body["fusion"]["weights"] == {"face": 1.0} and body["mood"]["label"] == "happy"
        text_only = api.post("/v1/moods", data={"text": "what a day"})
        assert text_only.status_code == 503 and text_only.headers["Retry-After"].isdigit()
        assert api.post("/v1/moods/text", json={"text": "what a day"}).status_code == 503
