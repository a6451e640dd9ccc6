"""Dependencies going down: 503 with Retry-After, and /readyz names the culprit.

Runs on its own stack (its own Mongo-wire server and TorchServe) because it stops them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from launcher.stack import Stack, StackConfig
from tests.support import images


@pytest.fixture(scope="module")
def doomed_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    run_dir: Path = tmp_path_factory.mktemp("doomed")
    with Stack(StackConfig(run_dir=run_dir, backend="torchserve", torch_threads=1, start_worker=False)) as stack:
        yield stack


def post(api: httpx.Client) -> httpx.Response:
    return api.post("/v1/moods/face", files={"image": ("a.jpg", images.astronaut_bytes(), "image/jpeg")})


def test_mongodb_then_torchserve_going_down(doomed_stack: Stack) -> None:
    with httpx.Client(base_url=doomed_stack.orchestrator_url, timeout=60) as api:
        assert post(api).status_code == 200

        doomed_stack.stop_service("mongo-wire")
        response = post(api)
        assert response.status_code == 503
        assert response.headers["Retry-After"].isdigit()
        assert response.json()["dependency"] == "mongodb"
        ready = api.get("/readyz")
        assert ready.status_code == 503 and "Retry-After" in ready.headers
        assert ready.json()["dependencies"]["mongodb"]["ready"] is False
        assert ready.json()["dependencies"]["model:emotion"]["ready"] is True

        doomed_stack.stop_service("torchserve")
        # /readyz shares one round of checks per second among its callers: the next round sees TorchServe gone.
        ready = api.get("/readyz")
        deadline = time.monotonic() + 10
        while ready.json()["dependencies"]["model:emotion"]["ready"] and time.monotonic() < deadline:
            time.sleep(0.2)
            ready = api.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["dependencies"]["model:emotion"]["ready"] is False
        assert "unreachable" in ready.json()["dependencies"]["model:emotion"]["detail"]
        response = post(api)
        assert response.status_code == 503
        assert response.headers["Retry-After"].isdigit()
        assert response.json()["dependency"] == "model:emotion"
        # Bad input is still judged before any dependency is needed.
        bad = api.post("/v1/moods/face", files={"image": ("a.txt", b"text", "text/plain")})
        assert bad.status_code == 415

        assert api.get("/healthz").status_code == 200, "liveness does not depend on dependencies"
