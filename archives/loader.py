"""Open a TorchServe `.mar` without TorchServe: extract it, read its manifest and model config,
and import its handler entry point, the way TorchServe's worker does."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

HandleFunction = Callable[[list[Any] | None, Any], Any]
# Model store layout shared by export_scripts/, modelops, the launcher and the embedded backend: version
# 1.0.0 of a model is `<name>.mar`, every other version `<name>-<version>.mar`; the model name inside
# the archive stays `<name>`.
BASE_VERSION = "1.0.0"


def archive_file_name(name: str, version: str) -> str:
    return f"{name}.mar" if version == BASE_VERSION else f"{name}-{version}.mar"


@dataclass
class ArchiveContext:
    """The surface of TorchServe's `ts.context.Context` that our handlers use."""

    system_properties: dict[str, Any]
    manifest: dict[str, Any]
    model_yaml_config: dict[str, Any]
    statuses: dict[int, tuple[int, str]]

    def set_response_status(self, code: int = 200, phrase: str = "", idx: int = 0) -> None:
        self.statuses[idx] = (code, phrase)

    def for_batch(self) -> ArchiveContext:
        return ArchiveContext(self.system_properties, self.manifest, self.model_yaml_config, {})


@dataclass
class LoadedArchive:
    name: str
    version: str
    handle: HandleFunction
    context: ArchiveContext
    module: ModuleType

    def run(self, payloads: list[bytes]) -> tuple[list[dict[str, Any]], dict[int, tuple[int, str]]]:
        """One batch through the handler as TorchServe hands it over; each refused request's
        (status, reason) by index beside the answers."""
        context = self.context.for_batch()
        answers: list[dict[str, Any]] = self.handle([{"body": payload} for payload in payloads], context)
        return answers, context.statuses


def load_archive(mar_path: Path, work_dir: Path, gpu_id: int | None = None) -> LoadedArchive:
    digest = hashlib.sha256(mar_path.read_bytes()).hexdigest()[:12]
    model_dir = work_dir / f"{mar_path.stem}-{digest}"
    if not (model_dir / "MAR-INF" / "MANIFEST.json").exists():
        model_dir.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(mar_path) as archive:
            archive.extractall(model_dir)
    manifest = json.loads((model_dir / "MAR-INF" / "MANIFEST.json").read_text())
    model = manifest["model"]
    config_name = model.get("configFile")
    yaml_config = yaml.safe_load((model_dir / config_name).read_text()) if config_name else {}
    module, handle = _import_entry_point(model_dir / model["handler"], f"museaika_archive_{model['modelName']}")
    context = ArchiveContext(
        system_properties={"model_dir": str(model_dir), "gpu_id": gpu_id, "batch_size": None},
        manifest=manifest,
        model_yaml_config=yaml_config or {},
        statuses={},
    )
    return LoadedArchive(model["modelName"], str(model.get("modelVersion", "0")), handle, context, module)


def _import_entry_point(handler_file: Path, module_name: str) -> tuple[ModuleType, HandleFunction]:
    entry, _, function = str(handler_file).partition(":")
    spec = importlib.util.spec_from_file_location(module_name, entry)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import handler {handler_file}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and pickling look the module up by name
    spec.loader.exec_module(module)
    handle: HandleFunction = getattr(module, function or "handle")
    return module, handle


def read_batching(properties_file: Path, model: str) -> tuple[int, float]:
    """(batch size, max delay in seconds) for `model` from TorchServe's config.properties."""
    for line in properties_file.read_text().splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "models":
            versions = json.loads(value).get(model, {})
            for settings in versions.values():
                return int(settings.get("batchSize", 1)), float(settings.get("maxBatchDelay", 100)) / 1000
    return 1, 0.0
