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

from launcher.process import ManagedProcess, free_port
from launcher.services import TorchServeAddresses, write_torchserve_config

REPO_ROOT = Path(__file__).resolve().parents[2]
# Says "up", then waits; on SIGTERM it writes "clean" and exits (a service's clean shutdown).
SERVICE = """
import pathlib, signal, sys, time
def bye(*_):
    pathlib.Path(sys.argv[1]).write_text("clean")
    sys.exit(0)
signal.signal(signal.SIGTERM, bye)
pathlib.Path(sys.argv[2]).write_text("up")
while True:
    time.sleep(0.1)
"""


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


def test_a_paused_service_stops_cleanly_and_at_once(tmp_path: Path) -> None:
    """Stack.pause_service SIGSTOPs a service's group; stop() must still end it with its clean shutdown
    (SIGTERM, then SIGCONT so it runs to handle it), not wait out stop_timeout_s and SIGKILL it."""
    said, up = tmp_path / "said", tmp_path / "up"
    service = ManagedProcess("sleeper", [sys.executable, "-c", SERVICE, str(said), str(up)], tmp_path / "sleeper.log",
                             up.exists, stop_timeout_s=20)
    service.start()
    try:
        service.wait_ready()
        assert service.pid is not None
        os.killpg(service.pid, signal.SIGSTOP)  # what Stack.pause_service does
        paused = psutil.Process(service.pid)
        deadline = time.monotonic() + 10
        while paused.status() != psutil.STATUS_STOPPED and time.monotonic() < deadline:
            time.sleep(0.05)
        assert paused.status() == psutil.STATUS_STOPPED
        started = time.monotonic()
        service.stop()
        took = time.monotonic() - started
    finally:
        service.stop()
    assert said.read_text() == "clean", "the service handled SIGTERM (not SIGKILLed after the timeout)"
    assert took < 10, f"stop() took {took:.1f} s"
