"""Real services for the suite: a Mongo-wire server, Redis, an S3-compatible server (nanio), TorchServe and
the orchestrator, each on a free loopback port, stopped when the session (or a failing test) ends.

MUSEAIKA_TEST_MONGO_URL=mongodb://host:27017 runs the same suite against a real MongoDB instead of the
Mongo-wire server; every run uses its own database (museaika_test_<random>) and drops it at the end."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from pymongo import MongoClient

from launcher import services
from launcher.process import ManagedProcess
from launcher.stack import Stack, StackConfig

REPO_ROOT = Path(__file__).resolve().parent.parent

# Every stack the suite starts inherits these: it sends thousands of requests and signs up hundreds of users
# from 127.0.0.1, far past what one real client may (the defaults in settings.py). The limiter still runs,
# in Redis, on every request. tests/test_rate_limits.py passes low limits in its StackConfig.extra_env.
for _rule in ("PER_IP", "PER_USER", "COSTLY", "AUTH_PER_IP"):
    os.environ.setdefault(f"MUSEAIKA_RATE_LIMIT_{_rule}", "1000000/minute")


Address = TypeVar("Address")


def running(process: ManagedProcess, address: Address) -> Iterator[Address]:
    """Start a service for a fixture, hand out its address, stop it afterwards."""
    process.start()
    try:
        process.wait_ready()
        yield address
    finally:
        process.stop()


@pytest.fixture(scope="session")
def run_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("stack")


@pytest.fixture(scope="session")
def mongo_database() -> str:
    return f"museaika_test_{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def mongo_url(run_root: Path, mongo_database: str) -> Iterator[str]:
    external = os.environ.get("MUSEAIKA_TEST_MONGO_URL")
    if external:
        yield external
        with MongoClient(external) as client:
            client.drop_database(mongo_database)
        return
    yield from running(*services.mongo_wire_server(run_root / "mongo"))


@pytest.fixture(scope="session")
def redis_url(run_root: Path) -> Iterator[str]:
    yield from running(*services.redis_server(run_root / "redis"))


def redis_database(url: str, number: int) -> str:
    """The same Redis, another database: each stack (and its worker) gets a queue of its own."""
    return f"{url.rsplit('/', 1)[0]}/{number}"


@pytest.fixture(scope="session")
def s3_endpoint(run_root: Path) -> Iterator[services.S3Endpoint]:
    yield from running(*services.s3_server(run_root / "s3"))


@pytest.fixture(scope="session")
def embedded_stack(run_root: Path, mongo_url: str, mongo_database: str, redis_url: str,
                   s3_endpoint: services.S3Endpoint) -> Iterator[Stack]:
    with Stack(StackConfig(run_dir=run_root / "embedded", backend="embedded", mongo_url=mongo_url,
                           mongo_database=mongo_database, redis_url=redis_database(redis_url, 1), s3=s3_endpoint,
                           s3_bucket="museaika-embedded", start_worker=True)) as stack:
        yield stack


@pytest.fixture(scope="session")
def torchserve_stack(run_root: Path, mongo_url: str, mongo_database: str, redis_url: str,
                     s3_endpoint: services.S3Endpoint) -> Iterator[Stack]:
    with Stack(StackConfig(run_dir=run_root / "torchserve", backend="torchserve", mongo_url=mongo_url,
                           mongo_database=mongo_database, torch_threads=1, redis_url=redis_database(redis_url, 2),
                           s3=s3_endpoint, s3_bucket="museaika-torchserve", start_worker=True)) as stack:
        yield stack
