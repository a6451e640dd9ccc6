"""Shipping a new model version on a real TorchServe without failing one request.

While face requests keep flowing to /predictions/emotion, `python -m modelops` (through typer's CliRunner)
builds emotion 2.3.0 (our FER2013 VGG), registers it next to 1.0.0 (fer's model), makes it the default, then rolls
back to 1.0.0: the rollout of version 2 and its rollback.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from launcher import services
from modelops.cli import app
from tests.support import images

REPO_ROOT = Path(__file__).resolve().parents[2]
NEW_VERSION = "2.3.0"  # our FER2013 VGG (`modelops build emotion` default) over fer's 1.0.0
CLIENTS = 2  # concurrent request loops
# One worker per version keeps the 2-core machine responsive while both versions are loaded.
EMOTION_ONLY = ('models={"emotion": {"1.0.0": {"defaultVersion": true, "marName": "emotion.mar", "minWorkers": 1, '
                '"maxWorkers": 1, "batchSize": 4, "maxBatchDelay": 20, "responseTimeout": 60}}}')


@dataclass
class Traffic:
    """Continuous face requests from background threads; every answer is recorded in order."""

    url: str
    answers: list[tuple[float, int, str]] = field(default_factory=list)  # (time, status, version or error)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self) -> None:
        payload = images.astronaut_bytes()
        with httpx.Client(timeout=60) as client:
            while not self.stop.is_set():
                try:
                    response = client.post(self.url, content=payload)
                    body = response.json()
                    outcome = str(body["model"]["version"]) if response.status_code == 200 else str(body)[:200]
                    status = response.status_code
                except Exception as error:  # a dropped connection is a failure too
                    status, outcome = 0, repr(error)
                with self.lock:
                    self.answers.append((time.monotonic(), status, outcome))

    def versions_since(self, start: float) -> Counter[str]:
        with self.lock:
            return Counter(v for t, s, v in self.answers if t >= start and s == 200)

    def wait_for(self, version: str, start: float, count: int = 5, timeout_s: float = 30) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.versions_since(start)[version] >= count:
                return
            time.sleep(0.1)
        raise AssertionError(f"no {count} answers from {version} after {timeout_s}s: {self.versions_since(start)}")


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if text in (entry / "cmdline").read_bytes().decode(errors="replace"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.fixture
def torchserve_emotion(tmp_path: Path) -> Iterator[tuple[services.TorchServeAddresses, Path]]:
    """TorchServe serving only emotion 1.0.0, from a model store in tmp_path."""
    store = tmp_path / "store"
    store.mkdir()
    shutil.copy2(REPO_ROOT / "model_store" / "emotion.mar", store / "emotion.mar")
    template = tmp_path / "torchserve.template.properties"
    lines = (REPO_ROOT / "config" / "torchserve.properties").read_text().splitlines()
    template.write_text("\n".join(EMOTION_ONLY if line.startswith("models=") else line for line in lines) + "\n")
    run_dir = tmp_path / "run"
    process, addresses = services.torchserve(run_dir, store, template, ["emotion"], torch_threads=1)
    process.start()
    try:
        process.wait_ready()
        yield addresses, store
    finally:
        process.stop()
        deadline = time.monotonic() + 30
        while _processes_mentioning(str(run_dir)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _processes_mentioning(str(run_dir)), "TorchServe (JVM or workers) outlived stop()"


def test_switch_and_roll_back_without_a_failed_request(
        torchserve_emotion: tuple[services.TorchServeAddresses, Path], tmp_path: Path) -> None:
    addresses, store = torchserve_emotion
    runner = CliRunner()
    options = ["--management-url", addresses.management, "--model-store", str(store),
               "--state-dir", str(tmp_path / "state")]

    def modelops(*args: str) -> str:
        result = runner.invoke(app, [*options, *args])
        assert result.exit_code == 0, f"modelops {' '.join(args)}: {result.output}"
        return result.output

    built = modelops("build", "emotion", "--version", NEW_VERSION)
    assert (store / f"emotion-{NEW_VERSION}.mar").is_file(), built

    traffic = Traffic(f"{addresses.inference}/predictions/emotion")
    threads = [threading.Thread(target=traffic.run, daemon=True) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    try:
        traffic.wait_for("1.0.0", 0)
        modelops("register", "emotion", NEW_VERSION, "--workers", "1")
        listed = modelops("list")
        assert "1.0.0" in listed and NEW_VERSION in listed
        registered_at = time.monotonic()
        time.sleep(1)
        assert traffic.versions_since(registered_at)[NEW_VERSION] == 0, "registering must not switch the default"

        switched_at = time.monotonic()
        assert f"1.0.0 → {NEW_VERSION}" in modelops("set-default", "emotion", NEW_VERSION)
        traffic.wait_for(NEW_VERSION, switched_at, count=10)
        refused = runner.invoke(app, [*options, "set-default", "emotion", "9.9.9"])
        assert refused.exit_code == 1 and "9.9.9" in refused.output and "HTTP 404" in refused.output, refused.output

        rolled_back_at = time.monotonic()
        assert f"{NEW_VERSION} → 1.0.0" in modelops("rollback", "emotion")
        traffic.wait_for("1.0.0", rolled_back_at, count=10)
        # After the rollback settles, only 1.0.0 answers.
        settled = time.monotonic() + 0.5
        time.sleep(1.5)
        assert set(traffic.versions_since(settled)) == {"1.0.0"}, traffic.versions_since(settled)

        modelops("unregister", "emotion", NEW_VERSION)
        time.sleep(0.5)
    finally:
        traffic.stop.set()
        for thread in threads:
            thread.join(60)

    failures = [(status, outcome) for _, status, outcome in traffic.answers if status != 200]
    served = Counter(outcome for _, status, outcome in traffic.answers if status == 200)
    print(f"\n{len(traffic.answers)} requests, {len(failures)} failed, per version: {dict(served)}")
    assert failures == [], failures[:5]
    assert served["1.0.0"] > 0 and served[NEW_VERSION] > 0, served
    assert NEW_VERSION not in modelops("list"), "unregistered"
    assert os.path.exists(tmp_path / "state" / "modelops-state.json")


def test_rollback_without_history_uses_torchserve_versions(tmp_path: Path) -> None:
    """The version list alone (no state file) picks the highest registered version below the default."""
    from modelops.history import History, version_key

    assert sorted(["1.10.0", "1.9.2", "1.0.0"], key=version_key) == ["1.0.0", "1.9.2", "1.10.0"]

    class FakeClient:
        def default_version(self, name: str) -> str:
            return "2.0.0"

        def versions(self, name: str) -> list[object]:
            return [type("V", (), {"version": v})() for v in ("1.0.0", "1.9.2", "2.0.0", "3.0.0")]

    history = History(tmp_path)
    assert history.rollback_target(FakeClient(), "emotion") == ("2.0.0", "1.9.2")  # type: ignore[arg-type]
    history.record_switch("emotion", "1.0.0", "2.0.0", "set-default")
    assert history.rollback_target(FakeClient(), "emotion") == ("2.0.0", "1.0.0")  # type: ignore[arg-type]
    history.record_switch("emotion", "2.0.0", "1.0.0", "rollback")
    assert history.previous_defaults("emotion") == []


