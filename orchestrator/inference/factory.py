"""Pick the backend named in settings."""

from __future__ import annotations

from pathlib import Path

from orchestrator.core.settings import Settings
from orchestrator.inference.client import InferenceBackend
from orchestrator.inference.embedded import EmbeddedBackend
from orchestrator.inference.instrumented import InstrumentedBackend
from orchestrator.inference.torchserve import TorchServeBackend


def create_backend(settings: Settings, models: list[str] | None = None,
                   work_dir: Path | None = None) -> InferenceBackend:
    """`models` and `work_dir` default to the API's; the generation worker serves its own models."""
    inner: InferenceBackend
    if settings.inference_backend == "torchserve":
        inner = TorchServeBackend.from_settings(settings)
    else:
        inner = EmbeddedBackend(settings.model_store, settings.torchserve_config,
                                work_dir or settings.embedded_work_dir, settings.models if models is None else models,
                                settings.model_versions)
    return InstrumentedBackend(inner)
