"""A child process with a readiness probe, stopped with its whole process group."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class ServiceFailedError(RuntimeError):
    pass


class ManagedProcess:
    def __init__(self, name: str, argv: list[str], log_path: Path, ready: Callable[[], bool],
                 env: Mapping[str, str] | None = None, cwd: Path | None = None, ready_timeout_s: float = 120.0,
                 stop_timeout_s: float = 30.0, before_start: Callable[[], None] | None = None) -> None:
        self.name = name
        self.argv = argv
        self.log_path = log_path
        self.ready = ready
        self.env = {**os.environ, **(env or {})}
        self.cwd = cwd
        self.ready_timeout_s = ready_timeout_s
        self.stop_timeout_s = stop_timeout_s
        self.before_start = before_start  # runs before every start, e.g. to remove a stale readiness file
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        """Start the command; after stop() or kill() this starts it again with the same argv (port, data dir)."""
        if self.running:
            raise RuntimeError(f"{self.name} is already running")
        if self.before_start is not None:
            self.before_start()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        # A new session makes the process a group leader, so stop() also reaches its children
        # (TorchServe's JVM and Python workers).
        self._process = subprocess.Popen(self.argv, stdout=self._log, stderr=subprocess.STDOUT, env=self.env,
                                         cwd=self.cwd, start_new_session=True)  # nosec B603  # our argv, no shell

    def wait_ready(self) -> None:
        deadline = time.monotonic() + self.ready_timeout_s
        while time.monotonic() < deadline:
            if not self.running:
                raise ServiceFailedError(f"{self.name} exited early; see {self.log_path}:\n{self.log_tail()}")
            try:
                if self.ready():
                    return
            except Exception:  # nosec B110  # a probe that raises means: not ready yet
                pass
            time.sleep(0.25)
        raise ServiceFailedError(f"{self.name} not ready after {self.ready_timeout_s:.0f}s; see {self.log_path}")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                # A paused group (Stack.pause_service: SIGSTOP) keeps SIGTERM pending until it runs again:
                # without this it would only go after stop_timeout_s, by SIGKILL, with no clean shutdown.
                os.killpg(process.pid, signal.SIGCONT)
                process.wait(self.stop_timeout_s)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            except ProcessLookupError:
                pass
        if process is not None:
            # Children (e.g. TorchServe's model workers) may outlive the leader for a moment.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
        if self._log is not None:
            self._log.close()
            self._log = None

    def kill(self) -> None:
        """SIGKILL the whole process group at once, no clean shutdown (crash tests); start() works again after."""
        process, self._process = self._process, None
        if process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def restart(self) -> None:
        self.stop()
        self.start()
        self.wait_ready()

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""
