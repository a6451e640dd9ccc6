"""The served models, as config/models.yaml declares them: each model's default version, the versions kept
for rollback, how each is built, and TorchServe's per-model settings (workers and batching)."""

from __future__ import annotations

import json
from dataclasses import astuple, dataclass
from pathlib import Path
from typing import Any

import yaml

from archives.loader import archive_file_name

REPO_ROOT = Path(__file__).resolve().parent.parent
MODELS_FILE = REPO_ROOT / "config" / "models.yaml"
# A version's own keys that its build module takes as options (`model_dir` → --model-dir).
BUILD_OPTIONS = ("classifier", "model_dir", "runtime")
SERVING_KEYS = ("workers", "batchSize", "maxBatchDelay", "responseTimeout")


@dataclass(frozen=True)
class Serving:
    """TorchServe's per-model settings (the names are TorchServe's `models=` keys)."""

    workers: int
    batch_size: int
    max_batch_delay_ms: int
    response_timeout_s: int


@dataclass(frozen=True)
class ServedVersion:
    model: str
    version: str
    serving: Serving
    # What the build module is told beyond --version, as (option, value): e.g. emotion's classifier, or the
    # weights directory (from the repository root) and runtime a sentiment version packs.
    build_options: tuple[tuple[str, str], ...] = ()

    @property
    def classifier(self) -> str | None:
        return dict(self.build_options).get("classifier")

    @property
    def archive(self) -> str:
        return archive_file_name(self.model, self.version)

    def build_args(self) -> list[str]:
        """What the model's build module is given to write this version's archive."""
        options = [[f"--{key.replace('_', '-')}", value] for key, value in self.build_options]
        return ["--version", self.version, *(word for option in options for word in option)]


@dataclass(frozen=True)
class ServedModel:
    name: str
    default: str
    build: str  # the export_scripts module that builds its archives
    versions: tuple[ServedVersion, ...]  # the default first, then the others as listed

    @property
    def default_version(self) -> ServedVersion:
        return self.versions[0]

    def version(self, version: str) -> ServedVersion:
        for served in self.versions:
            if served.version == version:
                return served
        raise KeyError(f"{self.name} {version} is not in config/models.yaml")


def _fail(path: Path, where: str, problem: str) -> ValueError:
    return ValueError(f"{path}: {where}: {problem}")


def _mapping(value: Any, path: Path, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _fail(path, where, f"expected a mapping, got {value!r}")
    return value


def _serving(raw: dict[str, Any], inherited: Serving | None, path: Path, where: str) -> Serving:
    """`raw` over `inherited` (a version's own serving over its model's)."""
    unknown = sorted(set(raw) - set(SERVING_KEYS))
    if unknown:
        raise _fail(path, where, f"unknown keys {unknown} (known: {', '.join(SERVING_KEYS)})")
    values: dict[str, int] = dict(zip(SERVING_KEYS, astuple(inherited), strict=True)) if inherited else {}
    for key, value in raw.items():
        lowest = 0 if key == "maxBatchDelay" else 1
        if isinstance(value, bool) or not isinstance(value, int) or value < lowest:
            raise _fail(path, where, f"{key} must be a whole number of at least {lowest}, got {value!r}")
        values[key] = value
    missing = [key for key in SERVING_KEYS if key not in values]
    if missing:
        raise _fail(path, where, f"missing {', '.join(missing)}")
    return Serving(*(values[key] for key in SERVING_KEYS))


def _model(name: str, raw: dict[str, Any], path: Path) -> ServedModel:
    unknown = sorted(set(raw) - {"default", "build", "serving", "versions"})
    if unknown:
        raise _fail(path, name, f"unknown keys {unknown}")
    default, build = raw.get("default"), raw.get("build")
    if not isinstance(default, str):
        raise _fail(path, name, f"default must be a quoted version, got {default!r}")
    if not isinstance(build, str) or not build:
        raise _fail(path, name, "build must name the module that builds its archives")
    serving = _serving(_mapping(raw.get("serving"), path, f"{name}.serving"), None, path, f"{name}.serving")
    versions: list[ServedVersion] = []
    for version, entry in _mapping(raw.get("versions"), path, f"{name}.versions").items():
        where = f"{name}.versions.{version}"
        if not isinstance(version, str):  # unquoted 1.0 is a float, 1 an int
            raise _fail(path, where, "quote the version")
        fields = _mapping(entry, path, where)
        extra = sorted(set(fields) - {*BUILD_OPTIONS, "serving"})
        if extra:
            raise _fail(path, where, f"unknown keys {extra}")
        options = tuple((key, fields[key]) for key in BUILD_OPTIONS if key in fields)
        for key, value in options:
            if not isinstance(value, str) or not value:
                raise _fail(path, where, f"{key} must be a name, got {value!r}")
        own = _serving(_mapping(fields.get("serving"), path, f"{where}.serving"), serving, path, f"{where}.serving")
        versions.append(ServedVersion(name, version, own, options))
    versions.sort(key=lambda served: served.version != default)  # stable: the default first, others as listed
    if not versions or versions[0].version != default:
        raise _fail(path, name, f"the default {default} is not one of its versions")
    return ServedModel(name, default, build, tuple(versions))


def load_served_models(path: Path = MODELS_FILE) -> dict[str, ServedModel]:
    """Every served model by name, in the file's order; ValueError (naming the file and the entry) for a file
    that would render a TorchServe config TorchServe or this code could misread."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    models = _mapping(_mapping(document, path, "top level").get("models"), path, "models")
    if not models:
        raise _fail(path, "models", "no models")
    return {str(name): _model(str(name), _mapping(raw, path, str(name)), path) for name, raw in models.items()}


def served_default_versions(path: Path = MODELS_FILE) -> dict[str, str]:
    """{model: default version}: what each model serves unless MUSEAIKA_MODEL_VERSIONS says otherwise."""
    return {name: model.default for name, model in load_served_models(path).items()}


def _torchserve_entry(served: ServedVersion, default: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {"defaultVersion": True} if default else {}
    entry |= {
        "marName": served.archive,
        "minWorkers": served.serving.workers,
        "maxWorkers": served.serving.workers,
        "batchSize": served.serving.batch_size,
        "maxBatchDelay": served.serving.max_batch_delay_ms,
        "responseTimeout": served.serving.response_timeout_s,
    }
    return entry


def render_torchserve_models(models: dict[str, ServedModel]) -> list[str]:
    """TorchServe's `load_models=` (each model's default archive, loaded at start) and `models=` (every
    version's archive, workers and batching; the default marked defaultVersion) lines."""
    load = ",".join(model.default_version.archive for model in models.values())
    table = {name: {served.version: _torchserve_entry(served, served.version == model.default)
                    for served in model.versions}
             for name, model in models.items()}
    return [f"load_models={load}", f"models={json.dumps(table)}"]
