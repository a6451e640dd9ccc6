"""The embedded default: the same `.mar` archives and handler code TorchServe runs, in this process.

No Java or Docker needed; batching follows the same config.properties entries as TorchServe.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from pathlib import Path
from typing import Any

from archives.loader import (
    BASE_VERSION,
    LoadedArchive,
    archive_file_name,
    load_archive,
    read_batching,
)
from orchestrator.inference.batching import MicroBatcher
from orchestrator.inference.client import ModelStatus, ModelUnavailableError, error_for_status

logger = logging.getLogger(__name__)

BatchResult = tuple[dict[str, Any], int, str]


class EmbeddedBackend:
    name = "embedded"

    def __init__(self, model_store: Path, torchserve_config: Path, work_dir: Path, models: list[str],
                 versions: dict[str, str] | None = None) -> None:
        self.model_store = model_store
        self.versions = versions or {}
        self.torchserve_config = torchserve_config
        self.work_dir = work_dir
        self.models = models
        self._batchers: dict[str, MicroBatcher[bytes, BatchResult]] = {}
        self._errors: dict[str, str] = {}

    async def start(self) -> None:
        for model in self.models:
            try:
                archive = await asyncio.to_thread(self._load, model)
            except Exception as error:  # keep serving other models; readiness reports this one
                logger.exception("could not load model %s", model)
                self._errors[model] = f"{error.__class__.__name__}: {error}"
                continue
            batch_size, max_delay = read_batching(self.torchserve_config, model)
            batcher: MicroBatcher[bytes, BatchResult] = MicroBatcher(
                functools.partial(_run_batch, archive), batch_size, max_delay, model
            )
            batcher.start()
            self._batchers[model] = batcher

    def _load(self, model: str) -> LoadedArchive:
        mar = self.model_store / archive_file_name(model, self.versions.get(model, BASE_VERSION))
        if not mar.exists():
            raise FileNotFoundError(f"{mar} is missing; build it with export_scripts/")
        archive = load_archive(mar, self.work_dir)
        archive.handle(None, archive.context)  # initialize, as TorchServe does on load
        logger.info("loaded %s %s in-process", archive.name, archive.version)
        return archive

    async def predict(self, model: str, payload: bytes) -> dict[str, Any]:
        batcher = self._batchers.get(model)
        if batcher is None:
            raise ModelUnavailableError(model, self._errors.get(model, "model is not loaded"))
        try:
            answer, status, phrase = await batcher.submit(payload)
        except Exception as error:
            raise ModelUnavailableError(model, f"inference failed: {error.__class__.__name__}") from error
        if status != 200:
            raise error_for_status(model, status, phrase or str(answer.get("error")))
        return answer

    async def status(self, model: str) -> ModelStatus:
        if model in self._batchers:
            return ModelStatus(True, "loaded in-process")
        return ModelStatus(False, self._errors.get(model, "not loaded"))

    async def close(self) -> None:
        for batcher in self._batchers.values():
            await batcher.close()
        self._batchers.clear()


def _run_batch(archive: LoadedArchive, payloads: list[bytes]) -> list[BatchResult]:
    answers, statuses = archive.run(payloads)
    return [(answer, *statuses.get(index, (200, ""))) for index, answer in enumerate(answers)]
