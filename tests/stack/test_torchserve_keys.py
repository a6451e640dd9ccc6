"""TorchServe with token authorization on, as deployed: the client reads TorchServe's key file, and reads it
again when a restarted TorchServe (new keys) refuses the old ones (0.12 answers 400 "Token Authorization failed")."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from launcher import services
from orchestrator.inference.client import ModelInputError, ModelUnavailableError
from orchestrator.inference.torchserve import TorchServeBackend
from tests.support import images

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_keys_from_the_key_file_survive_a_restart(tmp_path: Path) -> None:
    process, addresses = services.torchserve(tmp_path, REPO_ROOT / "model_store",
                                             REPO_ROOT / "config" / "torchserve.properties", ["emotion"],
                                             torch_threads=1, token_auth=True)
    key_file = tmp_path / "key_file.json"
    process.start()
    try:
        process.wait_ready()
        first_keys = key_file.read_text()

        def client(**options: Any) -> TorchServeBackend:
            return TorchServeBackend(addresses.inference, addresses.management, 30, connect_timeout_s=2,
                                     cooldown_s=5, **options)

        async def predict(backend: TorchServeBackend) -> dict[str, object]:
            await backend.start()
            try:
                return await backend.predict("emotion", images.astronaut_bytes())
            finally:
                await backend.close()

        without_keys = client()
        with pytest.raises((ModelInputError, ModelUnavailableError)):
            asyncio.run(predict(without_keys))
        backend = client(key_file=key_file)
        assert asyncio.run(predict(backend))["faces"]
        status = asyncio.run(_status(backend))
        assert status.ready, status.detail
        process.restart()  # same ports, new keys
        assert key_file.read_text() != first_keys
        assert asyncio.run(predict(backend))["faces"]  # refused → key file read again → served
        assert asyncio.run(_status(client(management_token="stale", key_file=key_file))).ready
    finally:
        process.stop()


async def _status(backend: TorchServeBackend):  # type: ignore[no-untyped-def]
    await backend.start()
    try:
        return await backend.status("emotion")
    finally:
        await backend.close()
