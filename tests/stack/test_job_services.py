"""The job queue's services, for real: Redis keeps queued entries across restarts and crashes; the object
store talks to a signature-checking S3 server (nanio) and fails fast, as "unavailable", when it is down; the
worker drops a job only when its document is gone."""

from __future__ import annotations

import asyncio
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis
from bson import ObjectId
from minio import Minio
from minio.error import S3Error

from launcher import services
from orchestrator.core.errors import DependencyUnavailableError, NotFoundError
from orchestrator.core.settings import Settings
from orchestrator.inference.client import ModelStatus
from orchestrator.melodies.jobs import GenerationJobRepository, JobStage, JobState, new_job_document
from orchestrator.melodies.pipeline import MelodyPipeline
from orchestrator.melodies.progress import ProgressEvents
from orchestrator.melodies.rendering import PieceRenderer
from orchestrator.melodies.worker import run_job
from orchestrator.storage.mongo import MongoStore
from orchestrator.storage.objects import ObjectStore
from orchestrator.storage.redis import RedisTimeouts


def fetch(url: str) -> tuple[int, bytes, str]:
    """GET without credentials: status, body, Content-Type."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read(), response.headers["Content-Type"]
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers["Content-Type"]


def store_settings(s3: services.S3Endpoint, bucket: str | None = None, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "s3_endpoint": s3.endpoint, "s3_access_key": s3.access_key, "s3_secret_key": s3.secret_key,
        "s3_secure": s3.secure, "s3_region": s3.region, "s3_bucket": bucket or f"test-{uuid.uuid4().hex[:12]}",
        **overrides,
    }
    return Settings.model_validate(values)


@pytest.fixture
async def store(s3_endpoint: services.S3Endpoint) -> AsyncIterator[ObjectStore]:
    objects = ObjectStore(store_settings(s3_endpoint))
    await objects.ensure_bucket()
    yield objects
    await objects.close()


def test_redis_keeps_queued_entries_across_a_restart_and_a_crash(tmp_path: Path) -> None:
    process, url = services.redis_server(tmp_path)
    process.start()
    try:
        process.wait_ready()
        with redis.Redis.from_url(url) as client:
            client.lpush("queue", "job-1")
        process.stop()  # clean shutdown
        process.start()  # same port, same data dir
        process.wait_ready()
        with redis.Redis.from_url(url) as client:
            assert client.lrange("queue", 0, -1) == [b"job-1"]
            client.lpush("queue", "job-2")
        process.kill()  # no shutdown: only what the append-only file already has survives
        process.start()
        process.wait_ready()
        with redis.Redis.from_url(url) as client:
            assert client.lrange("queue", 0, -1) == [b"job-2", b"job-1"]
    finally:
        process.stop()
    assert (tmp_path / "redis-data" / "appendonly.aof").is_file()


async def test_put_get_presign_and_delete(store: ObjectStore) -> None:
    data = b"MThd\x00\x00\x00\x06" + bytes(range(256))
    await store.put_bytes("jobs/j1/melody.mid", data, "audio/midi")
    await store.put_bytes("jobs/j1/notes.json", b"{}", "application/json")
    await store.put_bytes("jobs/j2/melody.mid", b"other", "audio/midi")
    assert await store.get_bytes("jobs/j1/melody.mid") == data

    url = await store.presigned_get_url("jobs/j1/melody.mid")
    assert await asyncio.to_thread(fetch, url) == (200, data, "audio/midi")
    named = await store.presigned_get_url("jobs/j1/melody.mid", filename="Mélodie \"1\".mid")
    assert "response-content-disposition=" in named
    assert (await asyncio.to_thread(fetch, named))[:2] == (200, data)  # the extra parameter is signed too
    tampered = url[:-4] + ("0000" if not url.endswith("0000") else "1111")
    assert (await asyncio.to_thread(fetch, tampered))[0] == 403

    assert await store.delete_prefix("jobs/j1/") == 2
    assert await store.delete_prefix("jobs/j1/") == 0
    with pytest.raises(NotFoundError):
        await store.get_bytes("jobs/j1/melody.mid")
    assert await store.get_bytes("jobs/j2/melody.mid") == b"other"
    with pytest.raises(ValueError, match="prefix is empty"):
        await store.delete_prefix("")
    await store.ping()


async def test_a_missing_key_is_not_found(store: ObjectStore) -> None:
    with pytest.raises(NotFoundError, match="never/written"):
        await store.get_bytes("never/written")


async def test_s3_checks_signatures(s3_endpoint: services.S3Endpoint, store: ObjectStore) -> None:
    wrong = Minio(s3_endpoint.endpoint, s3_endpoint.access_key, s3_endpoint.secret_key[::-1], secure=False,
                  region=s3_endpoint.region)
    with pytest.raises(S3Error) as rejected:
        wrong.list_buckets()
    assert rejected.value.code == "SignatureDoesNotMatch"
    # A wrong key is a configuration mistake, not an outage: it is not reported as "retry later".
    impostor = ObjectStore(store_settings(s3_endpoint, store.bucket, s3_secret_key="not-the-secret"))
    with pytest.raises(S3Error):
        await impostor.put_bytes("forged", b"x", "text/plain")
    with pytest.raises(NotFoundError):
        await store.get_bytes("forged")


async def test_s3_down_is_unavailable_within_seconds_and_recovers(tmp_path: Path) -> None:
    process, s3 = services.s3_server(tmp_path)
    process.start()
    try:
        process.wait_ready()
        store = ObjectStore(store_settings(s3))
        await store.ensure_bucket()
        await store.put_bytes("kept", b"still here", "text/plain")
        process.stop()
        calls = [lambda: store.get_bytes("kept"), lambda: store.put_bytes("k", b"v", "text/plain"), store.ping]
        for call in calls:
            started = time.monotonic()
            with pytest.raises(DependencyUnavailableError) as unavailable:
                await call()
            assert time.monotonic() - started < 5
            assert unavailable.value.dependency == "object storage"
        process.start()  # same port, same data dir, same credentials
        process.wait_ready()
        assert await store.get_bytes("kept") == b"still here"
        await store.close()
    finally:
        process.stop()


class ModelsThatLostAFile:
    """An inference backend whose every answer fails with NotFoundError: something the job needs is missing
    (as a missing S3 object is reported) although the job's document is there."""

    name = "lost-a-file"

    async def start(self) -> None: ...

    async def predict(self, model: str, payload: bytes) -> dict[str, Any]:
        raise NotFoundError(f"object models/{model}/weights")

    async def status(self, model: str) -> ModelStatus:
        return ModelStatus(True, "answers")

    async def close(self) -> None: ...


async def test_only_a_missing_job_document_drops_the_job(mongo_url: str, mongo_database: str, redis_url: str,
                                                         store: ObjectStore) -> None:
    """A NotFoundError other than the job's own document takes the failure path: saq retries the job, and the
    last attempt marks it failed with a reason. (Dropped, it would stay "running" for ever, counting against
    its owner's quota of jobs in flight.) A job whose document is gone is dropped, and nothing is written."""
    mongo = MongoStore(mongo_url, mongo_database, 2000, 10_000)
    events = ProgressEvents(redis_url, RedisTimeouts(2.0, 5.0))
    jobs = GenerationJobRepository(mongo)
    renderer = PieceRenderer()
    pipeline = MelodyPipeline(ModelsThatLostAFile(), jobs, store, events, renderer)
    try:
        parameters = {"mode": "major", "density": 0.5, "bars": 2, "temperature": 1.0, "seed": 1, "tempo_bpm": 120,
                      "instrument": "piano", "velocity": 90, "transpose": 0}
        job = await jobs.insert(new_job_document(f"owner-{uuid.uuid4().hex}", parameters))
        job_id = job.id

        with pytest.raises(NotFoundError):  # raised to saq, which retries the job
            await run_job(pipeline, job_id, attempt=1, retryable=True)
        retried = await jobs.by_id(job_id)
        assert (retried.state, retried.attempts) == (JobState.RUNNING, 1)
        with pytest.raises(NotFoundError):
            await run_job(pipeline, job_id, attempt=2, retryable=False)
        failed = await jobs.by_id(job_id)
        assert (failed.state, failed.stage, failed.attempts) == (JobState.FAILED, JobStage.FAILED, 2)
        assert failed.error == "internal error: NotFoundError"

        gone = str(ObjectId())
        await run_job(pipeline, gone, attempt=1, retryable=True)  # dropped: no exception, no retry
        assert await jobs.collection.count_documents({"_id": ObjectId(gone)}) == 0
    finally:
        renderer.close()
        await events.close()
        await mongo.close()
