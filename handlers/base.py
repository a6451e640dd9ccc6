"""One lifecycle for every model: initialize → preprocess → inference → postprocess.

Modelled on TorchServe's `ts.torch_handler.base_handler.BaseHandler`, with one difference that
matters for serving: each request in a batch is decoded on its own, so one corrupt request gets its
own 4xx answer while its neighbours are still served from the same model call.
"""

from __future__ import annotations

import json
import logging
import os
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import torch
import yaml

logger = logging.getLogger(__name__)

Prepared = TypeVar("Prepared")
Output = TypeVar("Output")


class HandlerContext(Protocol):
    """The part of TorchServe's `ts.context.Context` that handlers use; the in-process backend
    provides the same surface."""

    system_properties: dict[str, Any]
    manifest: dict[str, Any]

    def set_response_status(self, code: int = 200, phrase: str = "", idx: int = 0) -> None: ...


class RequestError(Exception):
    """A problem with one request's payload (answered with `status`, never retried)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class ModelIdentity:
    name: str
    version: str


@dataclass
class BatchStats:
    """What the last batch looked like; returned with every response so callers can export it."""

    size: int = 0
    inference_ms: float = 0.0


def request_payload(request: Any) -> bytes:
    """Extract the body bytes from one TorchServe request (`data`/`body`, raw or multipart)."""
    if isinstance(request, (bytes, bytearray)):
        return bytes(request)
    if isinstance(request, dict):
        body = request.get("data")
        if body is None:
            body = request.get("body")
        if body is None:
            # Multipart uploads arrive keyed by their form-field name.
            body = next((v for v in request.values() if isinstance(v, (bytes, bytearray))), None)
        if isinstance(body, (bytes, bytearray)):
            return bytes(body)
        if isinstance(body, str):
            return body.encode("utf-8")
        if body is not None:
            return json.dumps(body).encode("utf-8")
    raise RequestError(400, "request has no body")


def select_device(context: HandlerContext) -> torch.device:
    """CUDA when TorchServe assigned this worker a GPU (or one is present in-process), else CPU."""
    gpu_id = context.system_properties.get("gpu_id")
    if torch.cuda.is_available():
        return torch.device(f"cuda:{gpu_id}" if gpu_id is not None else "cuda")
    return torch.device("cpu")


EntryPoint = Callable[[list[Any] | None, HandlerContext], list[dict[str, Any]] | None]


def torchserve_entry_point(service: BaseHandler[Any, Any]) -> EntryPoint:
    """The module-level `handle(data, context)` TorchServe calls; data=None means "initialize"."""

    def handle(data: list[Any] | None, context: HandlerContext) -> list[dict[str, Any]] | None:
        if data is None:
            service.initialize(context)
            return None
        return service.handle(data, context)

    return handle


class BaseHandler(ABC, Generic[Prepared, Output]):
    """Subclasses implement `load`, `preprocess_one`, `inference` and `postprocess_one`."""

    def __init__(self) -> None:
        self.initialized = False
        self.device = torch.device("cpu")
        self.model_dir = Path(".")
        self.identity = ModelIdentity("unknown", "0")
        self.config: dict[str, Any] = {}

    # -- lifecycle -----------------------------------------------------------------------------
    def initialize(self, context: HandlerContext) -> None:
        self.model_dir = Path(context.system_properties.get("model_dir", "."))
        self.device = select_device(context)
        model = context.manifest.get("model", {})
        self.identity = ModelIdentity(model.get("modelName", "unknown"), str(model.get("modelVersion", "0")))
        self.config = self._read_handler_config(context, self.identity.name)
        threads = os.environ.get("MUSEAIKA_TORCH_THREADS") or self.config.get("torch_threads")
        if threads and self.device.type == "cpu":
            torch.set_num_threads(int(threads))
        self.load(self.model_dir, self.device)
        self.initialized = True
        logger.info("initialized %s %s on %s with %d torch threads", self.identity.name, self.identity.version,
                    self.device, torch.get_num_threads())

    @staticmethod
    def _read_handler_config(context: HandlerContext, model_name: str) -> dict[str, Any]:
        """The archive's `handler:` section; MUSEAIKA_<MODEL>_<KEY> in the environment overrides a key
        without rebuilding the archive (TorchServe workers inherit the server's environment)."""
        yaml_config = getattr(context, "model_yaml_config", None) or {}
        handler_config = dict(yaml_config.get("handler", {})) if isinstance(yaml_config, dict) else {}
        for key in handler_config:
            override = os.environ.get(f"MUSEAIKA_{model_name}_{key}".upper())
            if override is not None:
                handler_config[key] = yaml.safe_load(override)
        return handler_config

    @abstractmethod
    def load(self, model_dir: Path, device: torch.device) -> None:
        """Load weights from the extracted archive directory onto `device`."""

    @abstractmethod
    def preprocess_one(self, payload: bytes) -> Prepared:
        """Decode and validate one request; raise `RequestError` for a bad payload."""

    @abstractmethod
    def inference(self, batch: list[Prepared]) -> list[Output]:
        """Run the model once over every valid request of the batch."""

    @abstractmethod
    def postprocess_one(self, output: Output) -> dict[str, Any]:
        """Turn one request's model output into its JSON-ready response."""

    # -- batch plumbing ------------------------------------------------------------------------
    def preprocess(self, requests: list[Any]) -> list[Prepared | RequestError]:
        prepared: list[Prepared | RequestError] = []
        for request in requests:
            try:
                prepared.append(self.preprocess_one(request_payload(request)))
            except RequestError as error:
                prepared.append(error)
        return prepared

    def handle(self, data: list[Any], context: HandlerContext) -> list[dict[str, Any]]:
        if not self.initialized:
            self.initialize(context)
        prepared = self.preprocess(data)
        valid = [(i, item) for i, item in enumerate(prepared) if not isinstance(item, RequestError)]
        started = time.perf_counter()
        outputs = self._infer_each_on_failure(valid, prepared)
        stats = BatchStats(size=len(data), inference_ms=(time.perf_counter() - started) * 1000)
        # Read by tests and operators from TorchServe's model log: the batch TorchServe formed.
        logger.info("batch model=%s size=%d valid=%d inference_ms=%.1f",
                    self.identity.name, len(data), len(valid), stats.inference_ms)

        responses: list[dict[str, Any]] = [{} for _ in data]
        for index, output in outputs:
            responses[index] = self.postprocess_one(output)
            responses[index]["model"] = {"name": self.identity.name, "version": self.identity.version}
            responses[index]["batch"] = {"size": stats.size, "inference_ms": round(stats.inference_ms, 2)}
        for index, item in enumerate(prepared):
            if isinstance(item, RequestError):
                context.set_response_status(item.status, item.reason, idx=index)
                responses[index] = {"error": item.reason, "status": item.status}
        return responses

    def _infer_each_on_failure(self, valid: list[tuple[int, Prepared]],
                               prepared: list[Prepared | RequestError]) -> list[tuple[int, Output]]:
        """One model call for the batch; when it raises, one call per request, so an input the model
        chokes on fails alone (its slot in `prepared` becomes a 500) and its neighbours are still served."""
        if not valid:
            return []
        try:
            return list(zip([index for index, _ in valid], self.inference([item for _, item in valid]), strict=True))
        except Exception as error:
            if len(valid) == 1:
                if not isinstance(error, RequestError):
                    logger.exception("inference failed model=%s", self.identity.name)
                    error = RequestError(500, f"inference failed: {error.__class__.__name__}")
                prepared[valid[0][0]] = error
                return []
            logger.exception("batch inference failed model=%s size=%d; retrying one request at a time",
                             self.identity.name, len(valid))
        outputs: list[tuple[int, Output]] = []
        for index, item in valid:
            outputs += self._infer_each_on_failure([(index, item)], prepared)
        return outputs
