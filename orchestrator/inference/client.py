"""The interface every inference backend implements, and the errors callers handle."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from orchestrator.core.errors import DependencyUnavailableError, InvalidInputError


class ModelInputError(InvalidInputError):
    """The model server refused this payload (e.g. a truncated image): the client's fault."""


class ModelUnavailableError(DependencyUnavailableError):
    """The model server is down, overloaded or timed out."""

    def __init__(self, model: str, reason: str) -> None:
        super().__init__(f"model:{model}", reason)
        self.model = model


# 4xx answers that mean "not now" rather than "bad payload": unknown model, timeout, queue full.
RETRYABLE_CLIENT_STATUSES = frozenset({404, 408, 429})


def error_for_status(model: str, status: int, reason: str) -> ModelInputError | ModelUnavailableError:
    """How a model server's non-200 answer reaches the caller, the same for every backend."""
    if 400 <= status < 500 and status not in RETRYABLE_CLIENT_STATUSES:
        return ModelInputError(status, reason)
    return ModelUnavailableError(model, f"model server answered {status}: {reason}")


@dataclass(frozen=True)
class ModelStatus:
    ready: bool
    detail: str


class InferenceBackend(Protocol):
    name: str

    async def start(self) -> None:
        """Open connections or load models."""

    async def predict(self, model: str, payload: bytes) -> dict[str, Any]:
        """One request → the handler's JSON answer for it. Raises ModelInputError/ModelUnavailableError."""

    async def status(self, model: str) -> ModelStatus:
        """Whether `model` can serve a request now."""

    async def close(self) -> None: ...
