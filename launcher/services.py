"""How to start and probe each service of the stack."""

from __future__ import annotations

import ipaddress
import json
import os
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from launcher.process import ManagedProcess, free_port

REPO_ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return 200 <= int(response.status) < 300
    except (urllib.error.URLError, OSError):
        return False


def mongo_wire_server(run_dir: Path, port: int | None = None, persistent: bool = False) -> tuple[ManagedProcess, str]:
    """A real MongoDB wire-protocol server (SecantusDB) for tests and the demo."""
    port = port or free_port()
    storage = str(run_dir / "mongo-data") if persistent else ":memory:"
    url = f"mongodb://127.0.0.1:{port}"

    def ready() -> bool:
        from pymongo import MongoClient

        client: MongoClient[dict[str, object]]
        with MongoClient(url, serverSelectionTimeoutMS=500) as client:
            client.admin.command("ping")
        return True

    argv = [str(VENV_BIN / "secantusd-py"), "--host", "127.0.0.1", "--port", str(port), "--storage-path", storage,
            "--log-level", "WARNING"]
    return ManagedProcess("mongo-wire", argv, run_dir / "logs" / "mongo.log", ready, cwd=run_dir), url


@dataclass(frozen=True)
class TorchServeAddresses:
    inference: str
    management: str
    metrics: str


def _is_loopback(url: str) -> bool:
    host = urlparse(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def write_torchserve_config(template: Path, destination: Path, addresses: TorchServeAddresses,
                            extra: dict[str, int | str] | None = None) -> dict[str, str]:
    """Copy the repository's config.properties with this run's addresses; refuse to run without
    token authorization on a non-loopback address."""
    overrides: dict[str, str] = {
        "inference_address": addresses.inference,
        "management_address": addresses.management,
        "metrics_address": addresses.metrics,
        "python": sys.executable,
        **{key: str(value) for key, value in (extra or {}).items()},
    }
    properties: dict[str, str] = {}
    lines = []
    for line in template.read_text().splitlines():
        key, sep, value = line.partition("=")
        key = key.strip()
        if sep and not line.lstrip().startswith("#"):
            value = overrides.pop(key, value)
            properties[key] = value
            line = f"{key}={value}"
        lines.append(line)
    for key, value in overrides.items():
        properties[key] = value
        lines.append(f"{key}={value}")
    if properties.get("disable_token_authorization", "false").lower() == "true":
        exposed = [u for u in (addresses.inference, addresses.management, addresses.metrics) if not _is_loopback(u)]
        if exposed:
            raise ValueError(f"token authorization is disabled but TorchServe would listen on {exposed}")
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_text("\n".join(lines) + "\n")
    return properties


def torchserve(run_dir: Path, model_store: Path, template: Path, models: list[str],
               torch_threads: int | None = None,
               extra_env: dict[str, str] | None = None) -> tuple[ManagedProcess, TorchServeAddresses]:
    addresses = TorchServeAddresses(*(f"http://127.0.0.1:{free_port()}" for _ in range(3)))
    # Every listening port and worker socket gets its own number so several instances can coexist
    # (worker sockets are /tmp/.ts.sock.<initial_worker_port + n>).
    ports = {key: free_port() for key in ("grpc_inference_port", "grpc_management_port", "initial_worker_port",
                                           "initial_distribution_port")}
    write_torchserve_config(template, run_dir / "torchserve.properties", addresses,
                            {**ports, "load_models": ",".join(f"{m}.mar" for m in models)})

    def ready() -> bool:
        for model in models:
            with urllib.request.urlopen(f"{addresses.management}/models/{model}", timeout=2) as response:
                description = json.loads(response.read())
            if not any(w.get("status") == "READY" for w in description[0].get("workers", [])):
                return False
        return True

    argv = [str(VENV_BIN / "torchserve"), "--start", "--foreground", "--ncs", "--disable-token-auth",
            "--model-store", str(model_store), "--ts-config", str(run_dir / "torchserve.properties")]
    env = {
        "LOG_LOCATION": str(run_dir / "logs"),
        "METRICS_LOCATION": str(run_dir / "logs"),
        "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '')}",
        "TS_DISABLE_SYSTEM_METRICS": "true",
        # TorchServe keeps its PID file in the temp dir and refuses a second instance sharing it.
        "TMPDIR": str(run_dir / "tmp"),
        **(extra_env or {}),
    }
    (run_dir / "tmp").mkdir(parents=True, exist_ok=True)
    if torch_threads:
        env["MUSEAIKA_TORCH_THREADS"] = str(torch_threads)
    process = ManagedProcess("torchserve", argv, run_dir / "logs" / "torchserve.out", ready, env=env, cwd=run_dir,
                             ready_timeout_s=180)
    return process, addresses


def orchestrator(run_dir: Path, env: dict[str, str], port: int | None = None, host: str = "127.0.0.1",
                 wait_until_ready: bool = True) -> tuple[ManagedProcess, str]:
    port = port or free_port()
    url = f"http://{host}:{port}"
    argv = [sys.executable, "-m", "uvicorn", "orchestrator.main:create_app", "--factory", "--host", host,
            "--port", str(port)]
    process = ManagedProcess("orchestrator", argv, run_dir / "logs" / "orchestrator.log",
                             lambda: http_ok(f"{url}/{'readyz' if wait_until_ready else 'healthz'}"), env=env,
                             cwd=REPO_ROOT)
    return process, url
