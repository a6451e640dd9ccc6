"""TorchServe over HTTP with aiohttp.

aiohttp rather than httpx: httpx's pooled keep-alive connections serialise requests in a way that
stops TorchServe from forming full batches (encode/httpx#3215); aiohttp keeps them full.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from orchestrator.inference.client import ModelStatus, ModelUnavailableError, error_for_status


class TorchServeBackend:
    name = "torchserve"

    def __init__(self, inference_url: str, management_url: str, timeout_s: float, inference_token: str | None = None,
                 management_token: str | None = None, max_connections: int = 64) -> None:
        self.inference_url = inference_url.rstrip("/")
        self.management_url = management_url.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout_s, connect=2.0)
        self.max_connections = max_connections
        self.inference_headers = _auth(inference_token, {"Content-Type": "application/octet-stream"})
        self.management_headers = _auth(management_token, {})
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(limit=self.max_connections)
        self._session = aiohttp.ClientSession(connector=connector, timeout=self.timeout)

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("TorchServeBackend.start() was not called")
        return self._session

    async def predict(self, model: str, payload: bytes) -> dict[str, Any]:
        url = f"{self.inference_url}/predictions/{model}"
        try:
            async with self.session.post(url, data=payload, headers=self.inference_headers) as response:
                body = await response.read()
                status = response.status
        except (aiohttp.ClientConnectionError, TimeoutError) as error:
            raise ModelUnavailableError(model, f"TorchServe unreachable: {error.__class__.__name__}") from error
        answer = _json_or_text(body)
        if status == 200 and isinstance(answer, dict):
            return answer
        reason = (answer.get("error") or answer.get("message")) if isinstance(answer, dict) else answer
        raise error_for_status(model, status, str(reason))

    async def status(self, model: str) -> ModelStatus:
        try:
            async with self.session.get(f"{self.management_url}/models/{model}",
                                        headers=self.management_headers) as response:
                body = await response.read()
                if response.status != 200:
                    return ModelStatus(False, f"management API answered {response.status}")
        except (aiohttp.ClientConnectionError, TimeoutError) as error:
            return ModelStatus(False, f"TorchServe unreachable: {error.__class__.__name__}")
        description = _json_or_text(body)
        if not isinstance(description, list) or not description:
            return ModelStatus(False, "unexpected model description")
        workers = description[0].get("workers", [])
        ready = sum(1 for w in workers if w.get("status") == "READY")
        version = description[0].get("modelVersion", "?")
        return ModelStatus(ready > 0, f"version {version}, {ready}/{len(workers)} workers ready")

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _auth(token: str | None, headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "Authorization": f"Bearer {token}"} if token else headers


def _json_or_text(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return body.decode("utf-8", "replace")[:500]
