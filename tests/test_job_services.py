"""The job queue's services, for real: Redis keeps queued entries across restarts and crashes; the object
store talks to a signature-checking S3 server (nanio) and fails fast, as "unavailable", when it is down."""

from __future__ import annotations

import asyncio
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis
from minio import Minio
from minio.error import S3Error

from launcher import services
from orchestrator.errors import DependencyUnavailableError, NotFoundError
from orchestrator.settings import Settings
from orchestrator.store.objects import ObjectStore


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
