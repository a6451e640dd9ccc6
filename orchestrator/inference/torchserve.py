"""TorchServe over HTTP with aiohttp.

aiohttp rather than httpx: httpx's pooled keep-alive connections serialise requests in a way that
stops TorchServe from forming full batches (encode/httpx#3215); aiohttp keeps them full.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp

from orchestrator.core.settings import Settings
from orchestrator.inference.client import ModelStatus, ModelUnavailableError, error_for_status
from orchestrator.inference.endpoints import EndpointPool


class TorchServeBackend:
    name = "torchserve"

    def __init__(self, inference_url: str, management_url: str, timeout_s: float, *, connect_timeout_s: float,
                 cooldown_s: float, inference_token: str | None = None, management_token: str | None = None,
                 max_connections: int = 64, endpoints: dict[str, list[str]] | None = None,
                 key_file: Path | None = None) -> None:
        """`endpoints`: per model, the inference URLs of several TorchServe hosts to spread requests over
        (models not named use `inference_url` alone). `key_file`: TorchServe's key_file.json, whose keys
        replace the tokens and are read again when TorchServe refuses them (it draws new keys at every start).
        `timeout_s` bounds a whole call (MUSEAIKA_INFERENCE_TIMEOUT_S: a hung TorchServe costs at most that,
        per host tried), `connect_timeout_s` getting a connection (MUSEAIKA_TORCHSERVE_CONNECT_TIMEOUT_S),
        `cooldown_s` how long a failing host sits out (MUSEAIKA_TORCHSERVE_COOLDOWN_S). The timeouts have no
        defaults here: they are settings (`from_settings`), and a second default could only drift from them."""
        self.key_file = key_file
        self.inference_url = inference_url.rstrip("/")
        self.pools = {model: EndpointPool(urls, cooldown_s) for model, urls in (endpoints or {}).items()}
        self.default_pool = EndpointPool([self.inference_url], cooldown_s)
        self.management_url = management_url.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout_s, connect=connect_timeout_s)
        self.max_connections = max_connections
        self.inference_headers = _auth(inference_token, {"Content-Type": "application/octet-stream"})
        self.management_headers = _auth(management_token, {})
        self._read_key_file()
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> TorchServeBackend:
        return cls(settings.torchserve_inference_url, settings.torchserve_management_url, settings.inference_timeout_s,
                   connect_timeout_s=settings.torchserve_connect_timeout_s, cooldown_s=settings.torchserve_cooldown_s,
                   inference_token=settings.torchserve_inference_token,
                   management_token=settings.torchserve_management_token, endpoints=settings.torchserve_endpoints,
                   key_file=settings.torchserve_key_file)

    def _read_key_file(self) -> bool:
        """Take the keys from TorchServe's key file; False when there is none or it is unreadable."""
        if self.key_file is None:
            return False
        try:
            keys = json.loads(self.key_file.read_text())
            inference, management = keys["inference"]["key"], keys["management"]["key"]
        except (OSError, ValueError, KeyError, TypeError):
            return False
        self.inference_headers = _auth(inference, {"Content-Type": "application/octet-stream"})
        self.management_headers = _auth(management, {})
        return True

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(limit=self.max_connections)
        self._session = aiohttp.ClientSession(connector=connector, timeout=self.timeout)

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("TorchServeBackend.start() was not called")
        return self._session

    async def predict(self, model: str, payload: bytes, reread: bool = False) -> dict[str, Any]:
        pool = self.pools.get(model, self.default_pool)
        failure: ModelUnavailableError | None = None
        for base in pool.order():
            try:
                async with self.session.post(f"{base}/predictions/{model}", data=payload,
                                             headers=self.inference_headers) as response:
                    body = await response.read()
                    status = response.status
            except (aiohttp.ClientConnectionError, TimeoutError) as unreachable:
                pool.failed(base)
                failure = ModelUnavailableError(model, f"TorchServe unreachable: {unreachable.__class__.__name__}")
                continue
            answer = _json_or_text(body)
            if status == 200 and isinstance(answer, dict):
                pool.succeeded(base)
                return answer
            reason = (answer.get("error") or answer.get("message")) if isinstance(answer, dict) else answer
            # TorchServe 0.12 refuses a stale key with 400 (not 401) "Token Authorization failed".
            if status in (400, 401) and "Token Authorization" in str(reason) and not reread and self._read_key_file():
                # It restarted with new keys: once more with them.
                return await self.predict(model, payload, reread=True)
            refusal = error_for_status(model, status, str(reason))
            if isinstance(refusal, ModelUnavailableError) and status >= 500:
                pool.failed(base)  # this host is in trouble; another may serve
                failure = refusal
                continue
            raise refusal
        assert failure is not None  # nosec B101  # invariant for mypy, not an input check
        raise failure

    async def status(self, model: str, reread: bool = False) -> ModelStatus:
        try:
            async with self.session.get(f"{self.management_url}/models/{model}",
                                        headers=self.management_headers) as response:
                body = await response.read()
                if response.status in (400, 401) and not reread and self._read_key_file():
                    return await self.status(model, reread=True)  # new keys after a restart
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
