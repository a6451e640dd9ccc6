"""Stacks for test modules that need one of their own: on the session's shared services (tests/conftest.py),
with their own run directory, S3 bucket, and where it matters their own database and Redis database; and the
demo track catalog imported the way an operator does it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from pymongo import MongoClient

from launcher import services
from launcher.stack import Stack, StackConfig

CATALOG_CSV = Path(__file__).resolve().parents[1] / "fixtures" / "spotify_tracks_small.csv"


def redis_database(url: str, number: int) -> str:
    """The same Redis, another database: each stack (and its worker) gets a queue of its own."""
    return f"{url.rsplit('/', 1)[0]}/{number}"


def import_catalog(stack: Stack, csv_path: Path = CATALOG_CSV) -> str:
    """Import a Spotify-features CSV into the stack's catalog with the CLI (python -m
    orchestrator.catalog.import_csv); returns its report."""
    completed = subprocess.run(
        [sys.executable, "-m", "orchestrator.catalog.import_csv", str(csv_path), "--mongo-url", stack.mongo_url,
         "--database", stack.config.mongo_database], capture_output=True, text=True, timeout=300, check=False)
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


@dataclass(frozen=True)
class SharedServices:
    """The session's Mongo-wire server, Redis and S3 server, for stacks of the modules' own."""

    tmp_path_factory: pytest.TempPathFactory
    mongo_url: str
    mongo_database: str
    redis_url: str
    s3: services.S3Endpoint

    @contextmanager
    def stack(self, name: str, *, database: str | None = None, redis_db: int | None = None,
              models: list[str] | None = None, start_worker: bool = False, spotify_standin: bool = False,
              extra_env: dict[str, str] | None = None, catalog: bool = False,
              drop_database: bool = False) -> Iterator[Stack]:
        """A stack named `name` (run directory `name`, S3 bucket `museaika-<name>`), stopped on leaving.

        `database`: a MongoDB database of its own, `<session database>_<database>` (None: the session's);
        `redis_db`: that database of the session's Redis (None: a Redis server of its own, e.g. to stop it);
        `models`: the API's models (None: the stack's default); `catalog`: import the demo catalog first;
        `drop_database`: drop its database afterwards."""
        database_name = f"{self.mongo_database}_{database}" if database else self.mongo_database
        config = StackConfig(
            run_dir=self.tmp_path_factory.mktemp(name), mongo_url=self.mongo_url, mongo_database=database_name,
            redis_url=redis_database(self.redis_url, redis_db) if redis_db is not None else None, s3=self.s3,
            s3_bucket=f"museaika-{name.replace('_', '-')}", start_worker=start_worker,
            spotify_standin=spotify_standin, extra_env=dict(extra_env or {}))
        if models is not None:
            config.models = models
        with Stack(config) as started:
            if catalog:
                import_catalog(started)
            yield started
        if drop_database:
            with MongoClient(self.mongo_url) as client:
                client.drop_database(database_name)
