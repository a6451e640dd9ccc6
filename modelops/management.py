"""A small typed client over TorchServe's management API (0.12).

Every call raises `ManagementError` with TorchServe's own message on a 4xx/5xx answer or when the server
cannot be reached. With a management key (token authorization on), it goes in `Authorization: Bearer`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import httpx

DEFAULT_MANAGEMENT_URL = "http://127.0.0.1:8081"
MANAGEMENT_URL_ENV = "MUSEAIKA_TORCHSERVE_MANAGEMENT_URL"
MANAGEMENT_TOKEN_ENV = "MUSEAIKA_TORCHSERVE_MANAGEMENT_TOKEN"  # nosec B105  # a variable's name, not a token


class ManagementError(RuntimeError):
    """TorchServe refused a management call (status > 0) or could not be reached (status 0)."""

    def __init__(self, status: int, message: str, method: str = "", path: str = "") -> None:
        where = f"{method} {path}: " if method else ""
        super().__init__(f"{where}{message}" + (f" (HTTP {status})" if status else ""))
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Worker:
    id: str
    status: str


@dataclass(frozen=True)
class ModelVersion:
    """One registered version, as `GET /models/{name}/all` describes it."""

    name: str
    version: str
    url: str
    min_workers: int
    max_workers: int
    batch_size: int
    max_batch_delay: int
    workers: list[Worker] = field(default_factory=list)

    @property
    def ready_workers(self) -> int:
        return sum(1 for w in self.workers if w.status == "READY")

    @classmethod
    def from_description(cls, description: dict[str, Any]) -> ModelVersion:
        return cls(
            name=str(description.get("modelName", "")),
            version=str(description.get("modelVersion", "")),
            url=str(description.get("modelUrl", "")),
            min_workers=int(description.get("minWorkers", 0)),
            max_workers=int(description.get("maxWorkers", 0)),
            batch_size=int(description.get("batchSize", 1)),
            max_batch_delay=int(description.get("maxBatchDelay", 0)),
            workers=[Worker(str(w.get("id", "")), str(w.get("status", "")))
                     for w in description.get("workers", []) if isinstance(w, dict)],
        )


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:500] or response.reason_phrase
    if isinstance(body, dict) and "message" in body:
        return str(body["message"])
    return str(body)[:500]


class ManagementClient:
    def __init__(self, base_url: str | None = None, token: str | None = None, timeout_s: float = 300.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = (base_url or os.environ.get(MANAGEMENT_URL_ENV) or DEFAULT_MANAGEMENT_URL).rstrip("/")
        token = token if token is not None else os.environ.get(MANAGEMENT_TOKEN_ENV)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        # Synchronous registration and scaling wait for workers to load: a generous read timeout.
        self._http = httpx.Client(base_url=self.base_url, headers=headers, timeout=httpx.Timeout(timeout_s, connect=5),
                                  transport=transport)

    def __enter__(self) -> ManagementClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, params: dict[str, str | int] | None = None) -> Any:
        try:
            response = self._http.request(method, path, params=params)
        except httpx.HTTPError as error:
            raise ManagementError(0, f"TorchServe management API unreachable at {self.base_url}: {error}",
                                  method, path) from error
        if response.status_code >= 400:
            raise ManagementError(response.status_code, _message(response), method, path)
        try:
            return response.json()
        except ValueError:
            return response.text

    # -- reading --------------------------------------------------------------------------------------------------
    def list_models(self) -> list[str]:
        """Names of every registered model (all pages)."""
        names: list[str] = []
        token: str | None = None
        while True:
            params: dict[str, str | int] = {"limit": 100}
            if token:
                params["next_page_token"] = token
            page = self._call("GET", "/models", params)
            names += [str(m["modelName"]) for m in page.get("models", [])]
            token = page.get("nextPageToken")
            if not token:
                return names

    def describe(self, name: str, version: str | None = None) -> ModelVersion:
        """The default version (version None) or one given version."""
        path = f"/models/{name}" + (f"/{version}" if version else "")
        described = self._call("GET", path)
        return ModelVersion.from_description(described[0])

    def versions(self, name: str) -> list[ModelVersion]:
        return [ModelVersion.from_description(d) for d in self._call("GET", f"/models/{name}/all")]

    def default_version(self, name: str) -> str:
        return self.describe(name).version

    # -- changing -------------------------------------------------------------------------------------------------
    def register(self, url: str, *, initial_workers: int = 1, batch_size: int | None = None,
                 max_batch_delay: int | None = None, response_timeout: int | None = None,
                 synchronous: bool = True) -> str:
        """Register a .mar (a file name in TorchServe's model store, or a URL); returns TorchServe's status."""
        params: dict[str, str | int] = {"url": url, "initial_workers": initial_workers,
                                        "synchronous": str(synchronous).lower()}
        if batch_size is not None:
            params["batch_size"] = batch_size
        if max_batch_delay is not None:
            params["max_batch_delay"] = max_batch_delay
        if response_timeout is not None:
            params["response_timeout"] = response_timeout
        return str(self._call("POST", "/models", params).get("status", ""))

    def scale(self, name: str, workers: int, version: str | None = None, synchronous: bool = True) -> str:
        """Run exactly `workers` workers (min = max) for the default or a given version."""
        path = f"/models/{name}" + (f"/{version}" if version else "")
        params: dict[str, str | int] = {"min_worker": workers, "max_worker": workers,
                                        "synchronous": str(synchronous).lower()}
        return str(self._call("PUT", path, params).get("status", ""))

    def set_default(self, name: str, version: str) -> str:
        return str(self._call("PUT", f"/models/{name}/{version}/set-default").get("status", ""))

    def unregister(self, name: str, version: str) -> str:
        return str(self._call("DELETE", f"/models/{name}/{version}").get("status", ""))
