"""Generation jobs survive their dependencies: a killed worker, a Redis restart, S3 and Redis outages.

Runs on its own stack (own Redis, S3, worker; shared Mongo-wire server) because it kills and restarts
them. Short heartbeats keep the lost-worker case quick."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from launcher.stack import Stack, StackConfig
from tests.support.api_client import new_user, request_melody, wait_for_job


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, mongo_url: str, mongo_database: str) -> Iterator[Stack]:
    run_dir: Path = tmp_path_factory.mktemp("jobs")
    config = StackConfig(run_dir=run_dir, mongo_url=mongo_url, mongo_database=mongo_database, models=[],
                         extra_env={"MUSEAIKA_JOB_HEARTBEAT_S": "2", "MUSEAIKA_JOB_SWEEP_INTERVAL_S": "1",
                                    "MUSEAIKA_JOB_RETRIES": "3", "MUSEAIKA_RETRY_AFTER_S": "7",
                                    "MUSEAIKA_MAX_ACTIVE_JOBS_PER_USER": "3"})
    with Stack(config) as started:
        yield started


@pytest.fixture(scope="module")
def user(api: httpx.Client) -> dict[str, str]:
    return new_user(api)


def test_a_worker_killed_mid_job_is_replaced_and_the_job_completes(stack: Stack, api: httpx.Client,
                                                                   user: dict[str, str]) -> None:
    job = request_melody(api, user, bars=64, seed=1)  # long enough to be caught while generating
    running = wait_for_job(api, user, job["id"], states=("running", "succeeded"), timeout_s=60)
    stack.kill_service("worker")
    assert running["state"] == "running", "the job finished before the worker could be killed"
    assert api.get(f"/v1/jobs/{job['id']}", headers=user).json()["state"] == "running"
    stack.restart_service("worker")
    done = wait_for_job(api, user, job["id"], timeout_s=90)
    assert done["state"] == "succeeded", done
    assert done["attempts"] >= 2 and {"midi", "wav", "ogg", "stem_melody"} <= set(done["files"])


def test_queued_jobs_survive_a_redis_restart(stack: Stack, api: httpx.Client, user: dict[str, str]) -> None:
    worker = stack.processes["worker"]
    worker.stop()
    try:
        jobs = [request_melody(api, user, seed=seed) for seed in (21, 22, 23)]
        # A user has at most 3 jobs in flight here (MUSEAIKA_MAX_ACTIVE_JOBS_PER_USER): the fourth waits.
        busy = api.post("/v1/melodies", headers=user, json={"mood": {"label": "happy"}})
        assert busy.status_code == 429 and "retry-after" in busy.headers and "queued" in busy.json()["detail"]
        stack.restart_service("redis")
    finally:
        worker.start()
        worker.wait_ready()
    for job in jobs:
        assert wait_for_job(api, user, job["id"])["state"] == "succeeded"


def test_storage_down_fails_the_job_with_a_reason_and_it_can_be_retried(stack: Stack, api: httpx.Client,
                                                                        user: dict[str, str]) -> None:
    storage = stack.processes["s3"]
    storage.stop()
    try:
        job = request_melody(api, user, seed=31)
        failed = wait_for_job(api, user, job["id"], timeout_s=60)
    finally:
        storage.start()
        storage.wait_ready()
    assert failed["state"] == "failed" and failed["stage"] == "failed"
    assert "object storage is unavailable" in failed["error"] and failed["attempts"] == 3
    retried = api.post(f"/v1/jobs/{job['id']}/retry", headers=user)
    assert retried.status_code == 202 and retried.json()["state"] == "queued"
    done = wait_for_job(api, user, job["id"])
    assert done["state"] == "succeeded" and done["error"] is None
    assert done["parameters"]["seed"] == 31


def test_queue_down_is_503_and_accepts_nothing(stack: Stack, api: httpx.Client, user: dict[str, str]) -> None:
    before = len(api.get("/v1/jobs?limit=100", headers=user).json()["items"])
    redis = stack.processes["redis"]
    redis.stop()
    try:
        response = api.post("/v1/melodies", headers=user, json={"mood": {"label": "happy"}})
        readiness = api.get("/readyz")
    finally:
        redis.start()
        redis.wait_ready()
    assert response.status_code == 503 and response.headers["retry-after"] == "7"
    assert response.json()["dependency"] == "redis"
    assert readiness.status_code == 503 and not readiness.json()["dependencies"]["redis"]["ready"]
    assert len(api.get("/v1/jobs?limit=100", headers=user).json()["items"]) == before
    time.sleep(0.5)
    assert api.post("/v1/melodies", headers=user, json={"mood": {"label": "happy"}}).status_code == 202
