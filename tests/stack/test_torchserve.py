"""The same handlers behind real TorchServe 0.12: dynamic batching, per-request errors, metrics."""

from __future__ import annotations

import asyncio
import re

import aiohttp
import httpx
import pytest

from archives.loader import read_batching
from archives.served import load_served_models
from launcher.stack import Stack
from tests.support import images

CONCURRENT = 16


async def _post_many(url: str, payloads: list[bytes]) -> list[tuple[int, dict[str, object]]]:
    # aiohttp, not httpx: httpx keep-alive serialises requests and TorchServe never sees a full batch.
    async with aiohttp.ClientSession() as session:
        async def one(payload: bytes) -> tuple[int, dict[str, object]]:
            async with session.post(url, data=payload) as response:
                return response.status, await response.json(content_type=None)

        return await asyncio.gather(*(one(p) for p in payloads))


def test_concurrent_requests_arrive_as_one_batch(torchserve_stack: Stack) -> None:
    assert torchserve_stack.torchserve is not None
    url = f"{torchserve_stack.torchserve.inference}/predictions/emotion"
    payloads = [images.astronaut_bytes()] * CONCURRENT
    payloads[5] = images.truncated_jpeg()
    results = asyncio.run(_post_many(url, payloads))

    statuses = [status for status, _ in results]
    assert statuses[5] == 400 and "truncated" in str(results[5][1]["error"])
    assert statuses[:5] + statuses[6:] == [200] * (CONCURRENT - 1), "a corrupt neighbour fails alone"
    sizes = [int(body["batch"]["size"]) for status, body in results if status == 200]  # type: ignore[index]
    assert max(sizes) > 1, f"every request was served alone: {sizes}"

    # TorchServe's own model log shows the batches it formed.
    log = (torchserve_stack.config.run_dir / "logs" / "model_log.log").read_text()
    logged = [int(n) for n in re.findall(r"batch model=emotion size=(\d+)", log)]
    assert max(logged) > 1
    batch_size, _ = read_batching(torchserve_stack.config.torchserve_template, "emotion")
    assert max(logged) <= batch_size, "batchSize (config/models.yaml) caps the batch"


async def test_orchestrator_over_torchserve(torchserve_stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=torchserve_stack.orchestrator_url, timeout=60) as api:
        response = await api.post("/v1/moods/face", files={"image": ("a.jpg", images.astronaut_bytes(), "image/jpeg")})
        assert response.status_code == 200, response.text
        assert response.json()["mood"]["label"] == "happy"
        bad = await api.post("/v1/moods/face", files={"image": ("a.jpg", images.truncated_jpeg(), "image/jpeg")})
        assert bad.status_code == 400 and "truncated" in bad.json()["detail"]
        ready = (await api.get("/readyz")).json()
        served = load_served_models()["emotion"].default
        assert ready["dependencies"]["model:emotion"]["detail"].startswith(f"version {served}")
        metrics = (await api.get("/metrics")).text
        expected = 'museaika_model_request_duration_seconds_count{backend="torchserve",model="emotion",outcome="ok"}'
        assert expected in metrics


def test_torchserve_exports_prometheus_metrics(torchserve_stack: Stack) -> None:
    assert torchserve_stack.torchserve is not None
    metrics = httpx.get(f"{torchserve_stack.torchserve.metrics}/metrics", timeout=10).text
    assert "ts_inference_requests_total" in metrics


@pytest.mark.parametrize("path", ["/ping"])
def test_torchserve_health(torchserve_stack: Stack, path: str) -> None:
    assert torchserve_stack.torchserve is not None
    assert httpx.get(f"{torchserve_stack.torchserve.inference}{path}", timeout=10).json()["status"] == "Healthy"


def test_a_melody_job_through_torchserve(torchserve_stack: Stack) -> None:
    """The worker's other backend: the melody model served by TorchServe, called over HTTP."""
    from tests.support.api_client import new_user, request_melody, wait_for_job

    with httpx.Client(base_url=torchserve_stack.orchestrator_url, timeout=60) as api:
        user = new_user(api)
        done = wait_for_job(api, user, request_melody(api, user, mood={"label": "fear"}, bars=4, seed=3)["id"])
    assert done["state"] == "succeeded", done
    assert done["result"]["model"]["name"] == "melody" and done["result"]["key"]["mode"] == "minor"
    assert torchserve_stack.torchserve is not None
    with httpx.Client(timeout=10) as client:
        described = client.get(f"{torchserve_stack.torchserve.management}/models/melody").json()
    assert any(w["status"] == "READY" for w in described[0]["workers"])
