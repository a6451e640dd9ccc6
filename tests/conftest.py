"""Real services for the suite: a Mongo-wire server, TorchServe and the orchestrator, each on a free
loopback port, stopped when the session (or a failing test) ends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from launcher import services
from launcher.process import ManagedProcess
from launcher.stack import Stack, StackConfig

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def run_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("stack")


@pytest.fixture(scope="session")
def mongo_url(run_root: Path) -> Iterator[str]:
    process: ManagedProcess
    process, url = services.mongo_wire_server(run_root / "mongo")
    process.start()
    try:
        process.wait_ready()
        yield url
    finally:
        process.stop()


@pytest.fixture(scope="session")
def embedded_stack(run_root: Path, mongo_url: str) -> Iterator[Stack]:
    with Stack(StackConfig(run_dir=run_root / "embedded", backend="embedded", mongo_url=mongo_url)) as stack:
        yield stack


@pytest.fixture(scope="session")
def torchserve_stack(run_root: Path, mongo_url: str) -> Iterator[Stack]:
    with Stack(StackConfig(run_dir=run_root / "torchserve", backend="torchserve", mongo_url=mongo_url,
                           torch_threads=1)) as stack:
        yield stack
