"""The README's `up` command: starts everything, and Ctrl-C stops everything."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from launcher.process import free_port
from launcher.services import TorchServeAddresses, write_torchserve_config

REPO_ROOT = Path(__file__).resolve().parent.parent


def test_up_serves_a_photo_and_ctrl_c_stops_every_process(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    env.pop("MUSEAIKA_MONGO_URL", None)
    launcher = subprocess.Popen([sys.executable, "-m", "launcher", "up", "--port", str(port), "--run-dir",
                                 str(tmp_path)], cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert launcher.poll() is None, launcher.stdout.read() if launcher.stdout else ""
            time.sleep(0.5)
        children = psutil.Process(launcher.pid).children(recursive=True)
        assert len(children) >= 2, "orchestrator and Mongo-wire server"
        photo = (REPO_ROOT / "tests" / "fixtures" / "astronaut.jpg").read_bytes()
        response = httpx.post(f"{url}/v1/moods/face", files={"image": ("a.jpg", photo, "image/jpeg")}, timeout=60)
        assert response.status_code == 200 and response.json()["mood"]["label"] == "happy"
    finally:
        launcher.send_signal(signal.SIGINT)
        assert launcher.wait(60) == 0
    _, alive = psutil.wait_procs(children, timeout=30)
    assert alive == []


def test_token_authorization_stays_on_off_loopback(tmp_path: Path) -> None:
    template = REPO_ROOT / "config" / "torchserve.properties"
    exposed = TorchServeAddresses("http://0.0.0.0:8080", "http://127.0.0.1:8081", "http://127.0.0.1:8082")
    with pytest.raises(ValueError, match="token authorization is disabled"):
        write_torchserve_config(template, tmp_path / "ts.properties", exposed)
    local = TorchServeAddresses("http://127.0.0.1:1", "http://localhost:2", "http://[::1]:3")
    properties = write_torchserve_config(template, tmp_path / "ts.properties", local)
    assert properties["inference_address"] == "http://127.0.0.1:1"
    assert properties["metrics_mode"] == "prometheus" and properties["enable_model_api"] == "true"
