"""Which version each model served before, so `rollback` can restore it.

A small JSON file (default `runtime/modelops-state.json`, `--state-dir` or MUSEAIKA_MODELOPS_STATE_DIR to move
it) keeps, per model, a stack of the defaults that were replaced, newest last, plus a short event log.
TorchServe's own version list is the fallback when the file knows nothing (or only versions since
unregistered): the highest registered version below the current default.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any, TypedDict

from modelops.management import ManagementClient, ManagementError

REPO_ROOT = Path(__file__).resolve().parent.parent
STATE_DIR_ENV = "MUSEAIKA_MODELOPS_STATE_DIR"
STATE_FILE = "modelops-state.json"
MAX_REMEMBERED = 20


class Event(TypedDict):
    at: float
    action: str
    model: str
    from_version: str | None
    to_version: str


class ModelState(TypedDict):
    previous_defaults: list[str]
    events: list[Event]


def default_state_dir() -> Path:
    return Path(os.environ.get(STATE_DIR_ENV) or REPO_ROOT / "runtime")


def version_key(version: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key for versions like 1.10.0 > 1.9.2 (numeric parts before text parts)."""
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"[.\-+]", version))


class History:
    def __init__(self, state_dir: Path | None = None) -> None:
        self.path = (state_dir or default_state_dir()) / STATE_FILE

    def _load(self) -> dict[str, ModelState]:
        try:
            data: Any = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        models = data.get("models", {}) if isinstance(data, dict) else {}
        return {name: ModelState(previous_defaults=[str(v) for v in state.get("previous_defaults", [])],
                                 events=list(state.get("events", [])))
                for name, state in models.items()}

    def _save(self, models: dict[str, ModelState]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps({"models": models}, indent=2) + "\n")
        temporary.replace(self.path)  # atomic: a crash leaves the old file or the new one

    def previous_defaults(self, model: str) -> list[str]:
        state = self._load().get(model)
        return list(state["previous_defaults"]) if state else []

    def record_switch(self, model: str, from_version: str | None, to_version: str, action: str) -> None:
        """Remember `from_version` (the default being replaced) unless this switch is a rollback."""
        models = self._load()
        state = models.setdefault(model, ModelState(previous_defaults=[], events=[]))
        if action == "rollback":
            # Restoring a remembered default consumes it and anything remembered after it.
            remembered = state["previous_defaults"]
            if to_version in remembered:
                del remembered[len(remembered) - 1 - remembered[::-1].index(to_version):]
        elif from_version and from_version != to_version:
            state["previous_defaults"].append(from_version)
            del state["previous_defaults"][:-MAX_REMEMBERED]
        state["events"].append(Event(at=time.time(), action=action, model=model, from_version=from_version,
                                     to_version=to_version))
        del state["events"][:-MAX_REMEMBERED * 5]
        self._save(models)

    def forget(self, model: str, version: str) -> None:
        """An unregistered version can no longer be rolled back to."""
        models = self._load()
        if model in models:
            models[model]["previous_defaults"] = [v for v in models[model]["previous_defaults"] if v != version]
            self._save(models)

    def rollback_target(self, client: ManagementClient, model: str) -> tuple[str, str]:
        """(current default, version to restore); ManagementError when there is nothing to roll back to."""
        current = client.default_version(model)
        registered = {v.version for v in client.versions(model)}
        for version in reversed(self.previous_defaults(model)):
            if version != current and version in registered:
                return current, version
        older = sorted((v for v in registered if version_key(v) < version_key(current)), key=version_key)
        if older:
            return current, older[-1]
        raise ManagementError(0, f"nothing to roll back to: {model} {current} is the only (or oldest) registered "
                                 f"version ({', '.join(sorted(registered, key=version_key))})")
