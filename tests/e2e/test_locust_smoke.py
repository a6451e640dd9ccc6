"""The load test harness (benchmarks/locust/) end to end on a short headless run, and that the app never
imports locust (it monkeypatches the standard library with gevent)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.locust import run as load

REPO_ROOT = Path(__file__).resolve().parents[2]
MAIN_ENDPOINTS = {"/v1/users", "/v1/auth/token", "/v1/moods/face", "/v1/moods/text", "/v1/moods",
                  "/v1/recommendations", "/v1/moods/history", "/v1/melodies", "/v1/jobs/[id]", "melody",
                  "S3 melody.ogg"}


def test_the_app_and_the_worker_never_import_locust_or_gevent() -> None:
    probe = ("import sys, orchestrator.app, orchestrator.melodies.worker; "
             "print(sorted(m for m in sys.modules if m.split('.')[0] in ('locust', 'gevent', 'geventhttpclient')))")
    completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120,
                               cwd=REPO_ROOT, env={"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"},
                               check=False)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "[]", completed.stdout


def test_slos_cover_every_endpoint_and_durations_parse() -> None:
    slos = load.load_slos()
    assert set(slos.endpoints) >= MAIN_ENDPOINTS
    assert all(s.p95_ms > 0 and 0 <= s.max_error_rate < 1 for s in slos.endpoints.values())
    assert slos.of("something new") == slos.default
    assert [load.seconds(d) for d in ("90", "60s", "2m", "1m30s")] == [90, 60, 120, 90]
    with pytest.raises(ValueError):
        load.seconds("soon")


@pytest.mark.skipif(importlib.util.find_spec("locust") is None, reason="locust is not installed")
def test_a_short_headless_run_hits_every_endpoint_without_failures(tmp_path: Path) -> None:
    slos = load.load_slos()
    with load.running_stack("embedded", tmp_path / "stack") as stack:
        result = load.load_test(stack.orchestrator_url, users=4, spawn_rate=4, duration="15s", out=tmp_path / "out",
                                slos=slos, backend="embedded")
        processes = list(stack.processes.values())
    assert not any(p.running for p in processes), "the stack outlived its context"
    for path in (result.run.stats_csv, result.run.history_csv, result.run.html, result.summary, result.png):
        assert path.exists() and path.stat().st_size > 0, path
    assert result.png.read_bytes().startswith(b"\x89PNG")
    counts = {s.name: s.requests for s in result.stats}
    assert all(counts.get(name, 0) > 0 for name in MAIN_ENDPOINTS), counts
    assert result.failures == 0, result.summary.read_text()
    assert "| POST /v1/moods/face |" in result.summary.read_text()
