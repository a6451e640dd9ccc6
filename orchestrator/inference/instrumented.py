"""Wraps any backend to record per-model latency and the batch size each request rode in."""

from __future__ import annotations

import time
from typing import Any

from orchestrator.core.metrics import MODEL_BATCH_SIZE, MODEL_REQUEST_SECONDS
from orchestrator.inference.client import InferenceBackend, ModelInputError, ModelStatus, ModelUnavailableError


class InstrumentedBackend:
    def __init__(self, inner: InferenceBackend) -> None:
        self.inner = inner
        self.name = inner.name

    async def start(self) -> None:
        await self.inner.start()

    async def predict(self, model: str, payload: bytes) -> dict[str, Any]:
        started = time.perf_counter()
        outcome = "ok"
        try:
            answer = await self.inner.predict(model, payload)
        except ModelInputError:
            outcome = "rejected"
            raise
        except ModelUnavailableError:
            outcome = "unavailable"
            raise
        finally:
            MODEL_REQUEST_SECONDS.labels(model, self.name, outcome).observe(time.perf_counter() - started)
        batch_size = answer.get("batch", {}).get("size")
        if isinstance(batch_size, int):
            MODEL_BATCH_SIZE.labels(model, self.name).observe(batch_size)
        return answer

    async def status(self, model: str) -> ModelStatus:
        return await self.inner.status(model)

    async def close(self) -> None:
        await self.inner.close()
