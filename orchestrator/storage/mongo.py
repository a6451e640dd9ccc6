"""MongoDB connection shared by the repositories; failures surface as `DependencyUnavailableError`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConnectionFailure, PyMongoError, ServerSelectionTimeoutError

from orchestrator.core.errors import DependencyUnavailableError
from orchestrator.core.settings import Settings

DEPENDENCY = "mongodb"


class MongoStore:
    def __init__(self, url: str, database: str, timeout_ms: int, socket_timeout_ms: int | None = None) -> None:
        """`timeout_ms` bounds finding a server and connecting (MUSEAIKA_MONGO_TIMEOUT_MS), `socket_timeout_ms`
        each wait for a reply (MUSEAIKA_MONGO_SOCKET_TIMEOUT_MS; a caller that leaves it out, such as a benchmark,
        gets that setting's default, never a second default of its own). A server that accepts connections but
        never answers fails a call after about socket + selection time (pymongo retries a read or write once,
        after selecting a server again), never hangs it."""
        if socket_timeout_ms is None:
            socket_timeout_ms = int(Settings.model_fields["mongo_socket_timeout_ms"].default)
        self.client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            url,
            serverSelectionTimeoutMS=timeout_ms,
            connectTimeoutMS=timeout_ms,
            socketTimeoutMS=socket_timeout_ms,
            tz_aware=True,
        )
        self.db: AsyncDatabase[dict[str, Any]] = self.client[database]

    @classmethod
    def from_settings(cls, settings: Settings) -> MongoStore:
        return cls(settings.mongo_url, settings.mongo_database, settings.mongo_timeout_ms,
                   settings.mongo_socket_timeout_ms)

    async def ping(self) -> None:
        async with translate_errors():
            await self.client.admin.command("ping")

    async def close(self) -> None:
        await self.client.close()


@asynccontextmanager
async def translate_errors() -> AsyncIterator[None]:
    """Connection-level failures mean "retry later", not a bug in the request."""
    try:
        yield
    except (ServerSelectionTimeoutError, ConnectionFailure) as error:
        raise DependencyUnavailableError(DEPENDENCY, str(error).split(",")[0]) from error
    except PyMongoError as error:
        if getattr(error, "timeout", False):
            raise DependencyUnavailableError(DEPENDENCY, "timed out") from error
        raise
