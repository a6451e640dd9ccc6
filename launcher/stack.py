"""The whole stack as one context manager: start in dependency order, stop in reverse, always."""

from __future__ import annotations

import json
import logging
import os
import secrets
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Literal

from launcher import services
from launcher.process import ManagedProcess, free_port
from orchestrator.core.settings import Settings

MODEL_VERSIONS_ENV = "MUSEAIKA_MODEL_VERSIONS"

logger = logging.getLogger(__name__)


def _group_stopped(group: int) -> bool:
    """Whether every thread of every process in process group `group` is stopped (Linux /proc; elsewhere True)."""
    proc = Path("/proc")
    if not proc.is_dir():
        return True
    for stat in proc.glob("[0-9]*/task/[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        # After the command name: state, ppid, pgrp, …
        if int(fields[2]) == group and fields[0] not in ("T", "t", "Z", "X"):  # stopped, or dead
            return False
    return True


def served_versions(extra_env: dict[str, str]) -> dict[str, str]:
    """The archive versions the orchestrator's settings name, read as its processes will read them (the
    stack's extra env first, then the environment and `.env`, through Settings), so a TorchServe started
    here loads the same versions the embedded backend would."""
    if MODEL_VERSIONS_ENV in extra_env:
        return dict(Settings(model_versions=json.loads(extra_env[MODEL_VERSIONS_ENV])).model_versions)
    return dict(Settings().model_versions)

Backend = Literal["embedded", "torchserve"]


@dataclass
class StackConfig:
    run_dir: Path
    backend: Backend = "embedded"
    orchestrator_port: int | None = None
    orchestrator_host: str = "127.0.0.1"
    mongo_url: str | None = None  # a real MongoDB; None starts the Mongo-wire server
    mongo_database: str = "museaika"
    persistent_mongo: bool = False
    redis_url: str | None = None  # a real Redis; None starts redis-server (persistent, under run_dir)
    s3: services.S3Endpoint | None = None  # a real S3 endpoint; None starts nanio (under run_dir)
    s3_bucket: str = "museaika"
    start_worker: bool = True
    model_store: Path = services.REPO_ROOT / "model_store"
    torchserve_template: Path = services.REPO_ROOT / "config" / "torchserve.properties"
    models: list[str] = field(default_factory=lambda: ["emotion", "sentiment"])  # the API's
    worker_models: list[str] = field(default_factory=lambda: ["melody"])  # the generation worker's
    # Run the Spotify stand-in (standins/spotify) and point the orchestrator at it, unless extra_env
    # names a real Spotify app (MUSEAIKA_SPOTIFY_CLIENT_ID).
    spotify_standin: bool = False
    wait_until_ready: bool = True  # False: the orchestrator only has to answer /healthz
    torch_threads: int | None = None
    extra_env: dict[str, str] = field(default_factory=dict)


class Stack:
    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.processes: dict[str, ManagedProcess] = {}
        self.mongo_url = config.mongo_url or ""
        self.redis_url = config.redis_url or ""
        self.s3: services.S3Endpoint | None = config.s3
        self.torchserve: services.TorchServeAddresses | None = None
        self.orchestrator_url = ""
        self.spotify_url: str | None = None

    def _launch(self, process: ManagedProcess) -> None:
        self.processes[process.name] = process
        logger.info("starting %s", process.name)
        process.start()
        process.wait_ready()
        logger.info("%s ready", process.name)

    def start(self) -> Stack:
        config = self.config
        config.run_dir.mkdir(parents=True, exist_ok=True)
        try:
            if config.mongo_url is None:
                mongo, self.mongo_url = services.mongo_wire_server(config.run_dir, persistent=config.persistent_mongo)
                self._launch(mongo)
            if config.redis_url is None:
                redis, self.redis_url = services.redis_server(config.run_dir)
                self._launch(redis)
            if self.s3 is None:
                s3, self.s3 = services.s3_server(config.run_dir)
                self._launch(s3)
            env = {
                "MUSEAIKA_MONGO_URL": self.mongo_url,
                "MUSEAIKA_MONGO_DATABASE": config.mongo_database,
                "MUSEAIKA_REDIS_URL": self.redis_url,
                **self.s3.env(config.s3_bucket),
                "MUSEAIKA_INFERENCE_BACKEND": config.backend,
                "MUSEAIKA_MODEL_STORE": str(config.model_store),
                "MUSEAIKA_TORCHSERVE_CONFIG": str(config.torchserve_template),
                "MUSEAIKA_EMBEDDED_WORK_DIR": str(config.run_dir / "embedded"),
                "MUSEAIKA_MODELS": json.dumps(config.models),
                "MUSEAIKA_WORKER_MODELS": json.dumps(config.worker_models),
                **config.extra_env,
            }
            if config.torch_threads:
                env["MUSEAIKA_TORCH_THREADS"] = str(config.torch_threads)
            elif config.backend == "embedded":
                # One in-process model runner: 2 threads served 27 img/s vs 25 with 1 (2 cores).
                env["MUSEAIKA_TORCH_THREADS"] = str(os.cpu_count() or 1)
            if config.backend == "torchserve":
                self.start_torchserve()
                assert self.torchserve is not None
                env["MUSEAIKA_TORCHSERVE_INFERENCE_URL"] = self.torchserve.inference
                env["MUSEAIKA_TORCHSERVE_MANAGEMENT_URL"] = self.torchserve.management
            if config.start_worker:
                self._launch(services.job_worker(config.run_dir, env))
            orchestrator_port = config.orchestrator_port or free_port()
            if config.spotify_standin and "MUSEAIKA_SPOTIFY_CLIENT_ID" not in config.extra_env:
                env.update(self._start_spotify_standin(f"http://{config.orchestrator_host}:{orchestrator_port}"))
            orchestrator, self.orchestrator_url = services.orchestrator(
                config.run_dir, env, orchestrator_port, config.orchestrator_host, config.wait_until_ready)
            self._launch(orchestrator)
        except BaseException:
            self.stop()
            raise
        return self

    def _start_spotify_standin(self, orchestrator_url: str) -> dict[str, str]:
        client_id, redirect_uri = "museaika-demo", f"{orchestrator_url}/v1/spotify/callback"
        process, self.spotify_url = services.spotify_standin(self.config.run_dir, client_id, secrets.token_urlsafe(16),
                                                             redirect_uri)
        self._launch(process)
        return {"MUSEAIKA_SPOTIFY_CLIENT_ID": client_id, "MUSEAIKA_SPOTIFY_REDIRECT_URI": redirect_uri,
                "MUSEAIKA_SPOTIFY_ACCOUNTS_URL": self.spotify_url,
                "MUSEAIKA_SPOTIFY_API_URL": f"{self.spotify_url}/v1/"}

    @property
    def served_models(self) -> list[str]:
        """What TorchServe loads: the API's models and, when the worker runs, the worker's."""
        extra = self.config.worker_models if self.config.start_worker else []
        return list(dict.fromkeys([*self.config.models, *extra]))

    def start_torchserve(self) -> None:
        process, self.torchserve = services.torchserve(
            self.config.run_dir, self.config.model_store, self.config.torchserve_template, self.served_models,
            self.config.torch_threads, self.config.extra_env, versions=served_versions(self.config.extra_env))
        self._launch(process)

    def restart_service(self, name: str) -> None:
        """Stop (if still running: a killed process just starts again) and start one service with the same
        command line: same port, same data directory."""
        process = self.processes[name]
        logger.info("restarting %s", name)
        process.restart()
        logger.info("%s ready", name)

    def kill_service(self, name: str) -> None:
        """SIGKILL, no clean shutdown; `restart_service` brings it back."""
        self.processes[name].kill()
        logger.info("killed %s", name)

    def pause_service(self, name: str) -> None:
        """SIGSTOP the service's whole process group (e.g. TorchServe's JVM and its workers): its sockets stay
        open and the kernel still accepts connections, but nothing answers — a hung dependency, for
        fault-injection tests. `resume_service` lets it carry on where it stopped."""
        group = self._signal_group(name, signal.SIGSTOP)
        # SIGSTOP is only queued when killpg returns: a thread busy on another core may still answer one more
        # request. Paused means every thread of the group has stopped.
        deadline = time.monotonic() + 5.0
        while not _group_stopped(group) and time.monotonic() < deadline:
            time.sleep(0.005)
        logger.info("paused %s", name)

    def resume_service(self, name: str) -> None:
        self._signal_group(name, signal.SIGCONT)
        logger.info("resumed %s", name)

    def _signal_group(self, name: str, signum: signal.Signals) -> int:
        """Signal the service's process group; returns the group id."""
        process = self.processes[name]
        if process.pid is None or not process.running:
            raise RuntimeError(f"{name} is not running")
        os.killpg(process.pid, signum)  # the process leads its own group (ManagedProcess.start)
        return process.pid

    def stop_service(self, name: str) -> None:
        process = self.processes.pop(name, None)
        if process is not None:
            process.stop()
            logger.info("stopped %s", name)

    def stop(self) -> None:
        for name in reversed(list(self.processes)):
            self.stop_service(name)

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
