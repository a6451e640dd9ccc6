"""Fault injection: each dependency stopped, and frozen (SIGSTOP: connections still open, nothing answers),
while a realistic mix of requests flows (face mood, text mood, history, melody job create/get,
recommendations).

For each fault the test checks that the API answers every request within the configured timeouts plus a
margin (never hangs), with 503 + Retry-After naming the dependency or the documented degraded answer; that
/readyz names the failing part; that nothing accepted is lost (every stored mood is in the history, every
accepted melody job succeeds: by itself, or after the documented POST /v1/jobs/{id}/retry when it failed
with a reason during the outage); and that the API recovers by itself once the dependency is back (the
orchestrator is never restarted). It writes the figures as a markdown table to $MUSEAIKA_FAULT_TABLE
(default: <tmp>/museaika-fault-injection.md) and prints it; docs/fault_injection.md keeps a copy.

Already proven elsewhere and not repeated: MongoDB then TorchServe stopped, one request each
(tests/faults/test_failures.py); a worker killed mid-job, queued jobs across a Redis restart, S3 down failing a
job with a reason and its retry, the queue down → 503 accepting nothing (tests/faults/test_job_reliability.py);
Spotify 429/401/403/outage one request each (tests/stack/test_spotify.py).

Runs on its own stack (own Mongo-wire server, Redis, S3, worker, Spotify stand-in) with short timeouts;
the TorchServe case uses the session's TorchServe stack and its default timeouts.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from launcher.stack import Stack, StackConfig
from orchestrator.core.errors import DependencyUnavailableError
from orchestrator.core.settings import Settings
from orchestrator.inference.torchserve import TorchServeBackend
from orchestrator.melodies.queue import JobQueue
from orchestrator.storage.mongo import MongoStore
from orchestrator.storage.objects import ObjectStore
from tests.support import images
from tests.support.api_client import link_spotify, new_user
from tests.support.stacks import import_catalog

TABLE_PATH = Path(os.environ.get("MUSEAIKA_FAULT_TABLE",
                                 str(Path(tempfile.gettempdir()) / "museaika-fault-injection.md")))
DATABASE = "museaika_faults"

# Short timeouts for this stack, so that frozen dependencies cost seconds, not tens of seconds.
MONGO_TIMEOUT_S, MONGO_SOCKET_TIMEOUT_S = 1.0, 3.0
REDIS_CONNECT_TIMEOUT_S, REDIS_SOCKET_TIMEOUT_S = 1.0, 2.0
S3_CONNECT_TIMEOUT_S, S3_READ_TIMEOUT_S = 1.0, 2.0
SPOTIFY_TIMEOUT_S = 2.0
READINESS_TIMEOUT_S = 2.0
RETRY_AFTER_S = 3
# A loaded 2-core machine (models in-process, a training run beside): scheduling noise on top of a timeout.
MARGIN_S = 10.0

FACE, TEXT, HISTORY = "face mood", "text mood", "history"
MELODY, JOB, RECOMMEND = "melody create", "melody job get", "recommendations"
EMBEDDED_OPS = (FACE, TEXT, HISTORY, MELODY, JOB, RECOMMEND)


@dataclass
class Outcome:
    op: str
    started: float
    ended: float
    status: int  # 0: no HTTP answer (transport error or the client's own timeout)
    retry_after: str | None = None
    dependency: str | None = None
    detail: str = ""

    @property
    def seconds(self) -> float:
        return self.ended - self.started


@dataclass
class Traffic:
    """One thread per kind of request, each looping until stopped; every answer is recorded."""

    base_url: str
    user: dict[str, str]
    ops: tuple[str, ...]
    client_timeout_s: float
    pace_s: float = 0.3  # pause between one thread's requests
    outcomes: list[Outcome] = field(default_factory=list)
    accepted_jobs: list[str] = field(default_factory=list)
    stored_events: list[str] = field(default_factory=list)
    library_reasons: Counter[str] = field(default_factory=Counter)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._image = images.astronaut_bytes()

    def _send(self, api: httpx.Client, op: str) -> httpx.Response | None:
        if op == FACE:
            return api.post("/v1/moods/face", headers=self.user,
                            files={"image": ("a.jpg", self._image, "image/jpeg")})
        if op == TEXT:
            return api.post("/v1/moods/text", headers=self.user,
                            json={"text": "What a lovely morning, I feel great about today"})
        if op == HISTORY:
            return api.get("/v1/moods/history", headers=self.user, params={"limit": 5})
        if op == MELODY:
            return api.post("/v1/melodies", headers=self.user, json={"mood": {"label": "happy"}, "bars": 2})
        if op == JOB:
            with self._lock:
                job = self.accepted_jobs[-1] if self.accepted_jobs else None
            return api.get(f"/v1/jobs/{job}", headers=self.user) if job else None
        if op == RECOMMEND:
            return api.post("/v1/recommendations", headers=self.user, json={"mood": {"label": "sad"}, "limit": 10})
        raise ValueError(op)

    def _record(self, op: str, started: float, response: httpx.Response) -> None:
        body: Any = None
        if response.headers.get("content-type", "").startswith("application/json"):
            body = response.json()
        outcome = Outcome(op, started, time.monotonic(), response.status_code, response.headers.get("retry-after"))
        if isinstance(body, dict):
            outcome.dependency = body.get("dependency")
            outcome.detail = str(body.get("detail", ""))[:200]
        with self._lock:
            self.outcomes.append(outcome)
            if response.status_code == 202 and op == MELODY:
                self.accepted_jobs.append(body["id"])
            if response.status_code == 200 and op in (FACE, TEXT):
                self.stored_events.append(body["event_id"])
            if response.status_code == 200 and op == RECOMMEND:
                library = body["sources"]["library"]
                self.library_reasons["used" if library["used"] else str(library["reason"])[:80]] += 1

    def _loop(self, op: str) -> None:
        pause = max(1.5, self.pace_s) if op == MELODY else self.pace_s
        with httpx.Client(base_url=self.base_url, timeout=self.client_timeout_s) as api:
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    response = self._send(api, op)
                except httpx.HTTPError as error:
                    with self._lock:
                        self.outcomes.append(Outcome(op, started, time.monotonic(), 0, detail=repr(error)[:200]))
                else:
                    if response is not None:
                        self._record(op, started, response)
                self._stop.wait(pause)

    def start(self) -> None:
        for op in self.ops:
            thread = threading.Thread(target=self._loop, args=(op,), name=f"traffic-{op}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(self.client_timeout_s + 10)

    def between(self, start: float, end: float) -> list[Outcome]:
        """Requests that were in flight at some point of [start, end)."""
        with self._lock:
            return [o for o in self.outcomes if o.started < end and o.ended >= start]


@dataclass
class Fault:
    dependency: str
    kind: str
    inject: Callable[[], None]
    restore: Callable[[], None]
    readyz_key: str | None  # the /readyz entry that must go not-ready; None: not a readiness dependency
    bound_s: float  # the longest any answer may take: the configured timeouts involved, plus MARGIN_S
    must_work: frozenset[str]  # kinds of request that keep answering 2xx through the fault
    must_refuse: frozenset[str]  # kinds that answer 503 naming the dependency (at least once)
    refused_as: tuple[str, ...]  # the `dependency` names such a 503 may carry
    hold_s: float = 8.0  # how long the fault lasts
    # Kinds whose 429 + Retry-After is a documented answer here (the per-user quota of melody jobs in flight,
    # when jobs wait for the dependency).
    quota_ok: frozenset[str] = frozenset()


@dataclass
class Result:
    fault: Fault
    during: list[Outcome]
    after: list[Outcome]
    readyz: str
    readyz_seconds: float
    restore_s: float
    recovery_s: float
    jobs: dict[str, int] = field(default_factory=dict)
    events_missing: int = 0
    notes: list[str] = field(default_factory=list)

    def answered(self) -> str:
        per_op: dict[str, Counter[int]] = {}
        for outcome in self.during:
            per_op.setdefault(outcome.op, Counter())[outcome.status] += 1
        return "; ".join(f"{op}: " + ", ".join(f"{status or 'no answer'}×{n}" for status, n in sorted(c.items()))
                         for op, c in sorted(per_op.items(), key=lambda item: EMBEDDED_OPS.index(item[0])))

    def slowest(self) -> float:
        return max((o.seconds for o in self.during), default=0.0)

    def lost(self) -> str:
        jobs = self.jobs
        text = (f"0 of {jobs.get('accepted', 0)} jobs" if not jobs.get("lost") else f"{jobs['lost']} jobs LOST")
        if jobs.get("retried"):
            text += f" ({jobs['retried']} failed with a reason, then succeeded on POST …/retry)"
        text += f"; {self.events_missing} of moods" if self.events_missing else "; 0 moods"
        return text

    def row(self) -> str:
        fault = self.fault
        cells = [fault.dependency, fault.kind, self.answered() or "–",
                 f"{self.slowest():.1f} s (bound {fault.bound_s:g} s)", self.readyz, self.lost(),
                 f"{self.restore_s:.1f} s + {self.recovery_s:.1f} s",
                 "; ".join(self.notes) or ""]
        return "| " + " | ".join(c.replace("|", "/") for c in cells) + " |"


HEADER = ("| dependency | fault | API answered while it lasted (status × count) | slowest answer | /readyz | lost | "
          "back + API recovered | notes |\n|---|---|---|---|---|---|---|---|")


@pytest.fixture(scope="module")
def table() -> Iterator[list[Result]]:
    results: list[Result] = []
    yield results
    if results:
        text = "\n".join([HEADER, *(r.row() for r in results)]) + "\n"
        TABLE_PATH.write_text(text)
        print(f"\nfault injection ({TABLE_PATH}):\n{text}")


def readiness(api: httpx.Client, timeout_s: float) -> tuple[int, dict[str, Any], float]:
    started = time.monotonic()
    response = api.get("/readyz", timeout=timeout_s)
    body: dict[str, Any] = response.json()
    if response.status_code == 503:
        assert response.headers["retry-after"].isdigit()
    return response.status_code, body, time.monotonic() - started


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        try:
            if condition():
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{what}: not within {timeout_s:.0f} s")


def history_ids(api: httpx.Client, user: dict[str, str]) -> set[str]:
    ids: set[str] = set()
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        page = api.get("/v1/moods/history", headers=user, params=params).json()
        ids.update(item["id"] for item in page["items"])
        cursor = page.get("next_cursor")
        if not cursor:
            return ids


def settle_jobs(api: httpx.Client, user: dict[str, str], job_ids: list[str], timeout_s: float = 300) -> dict[str, int]:
    """Wait for every accepted job to end; a job that failed (with a reason) during the outage is retried
    once, as its owner would. Returns counts; `lost` is any job that never succeeded."""
    counts: Counter[str] = Counter(accepted=len(job_ids))
    pending = list(job_ids)
    retried: set[str] = set()
    deadline = time.monotonic() + timeout_s
    while pending and time.monotonic() < deadline:
        for job_id in list(pending):
            job = api.get(f"/v1/jobs/{job_id}", headers=user).json()
            if job["state"] == "succeeded":
                pending.remove(job_id)
                counts["succeeded"] += 1
            elif job["state"] == "failed" and job_id not in retried:
                assert job["error"], job  # a failure always says why
                retried.add(job_id)
                assert api.post(f"/v1/jobs/{job_id}/retry", headers=user).status_code == 202
            elif job["state"] == "failed":
                pending.remove(job_id)
        time.sleep(0.5)
    counts["retried"] = len(retried)
    counts["lost"] = len(job_ids) - counts["succeeded"]
    return dict(counts)


def run_fault(stack: Stack, api: httpx.Client, user: dict[str, str], fault: Fault, ops: tuple[str, ...],
              recovered: Callable[[], bool], readiness_timeout_s: float) -> Result:
    traffic = Traffic(stack.orchestrator_url, user, ops, client_timeout_s=fault.bound_s + 60)
    traffic.start()
    restored = True
    try:
        time.sleep(3)  # a baseline under load
        baseline = traffic.between(0, time.monotonic())
        fault_at = time.monotonic()
        restored = False
        fault.inject()
        readyz_wait = readiness_timeout_s + MARGIN_S
        if fault.readyz_key is not None:
            seen: dict[str, Any] = {}

            def names_it() -> bool:
                status, body, seconds = readiness(api, readyz_wait)
                assert seconds < readyz_wait, f"/readyz took {seconds:.1f} s"
                seen.update(status=status, body=body, seconds=seconds)
                return status == 503 and not body["dependencies"][fault.readyz_key]["ready"]

            wait_until(names_it, readyz_wait * 2, f"/readyz naming {fault.readyz_key}")
            detail = seen["body"]["dependencies"][fault.readyz_key]["detail"]
            others = [k for k, v in seen["body"]["dependencies"].items() if not v["ready"] and k != fault.readyz_key]
            readyz_seconds = float(seen["seconds"])
            readyz = (f"503 in {readyz_seconds:.1f} s: {fault.readyz_key} not ready ({detail[:90]})"
                      + (f"; also {others}" if others else ""))
        else:
            status, body, readyz_seconds = readiness(api, readyz_wait)
            assert status == 200, body  # an optional dependency never takes the API out of service
            readyz = f"200 in {readyz_seconds:.1f} s (optional: not a readiness dependency)"
        time.sleep(max(0.0, fault_at + fault.hold_s - time.monotonic()))
        restore_at = time.monotonic()
        fault.restore()
        restored = True
        back_at = time.monotonic()

        def all_well() -> bool:
            status, _, _ = readiness(api, readyz_wait)
            answered = {o.op for o in traffic.between(back_at, time.monotonic())
                        if 200 <= o.status < 300 and o.started >= back_at}
            return status == 200 and answered >= set(ops) - {JOB} and recovered()

        recovery_s = wait_until(all_well, 240, f"recovery after {fault.dependency} {fault.kind}")
        recovered_at = time.monotonic()
        time.sleep(3)
    finally:
        traffic.stop()
        if not restored:  # a failed check must not leave the dependency down for the tests after it
            fault.restore()
    during = traffic.between(fault_at, restore_at)
    after = [o for o in traffic.outcomes if o.started >= recovered_at]
    result = Result(fault, during, after, readyz, readyz_seconds, back_at - restore_at, recovery_s)

    # Never a hang, never a 5xx other than 503, and a 503 always says who and when to retry.
    for outcome in traffic.outcomes:
        assert outcome.status != 0, f"no answer: {outcome}"
        assert outcome.status < 500 or outcome.status == 503, outcome
        if outcome.status == 429:  # rate limits are out of reach here; a quota only where documented
            assert outcome.op in fault.quota_ok and outcome.retry_after, f"throttled: {outcome}"
        if outcome.status == 503:
            assert outcome.retry_after and outcome.retry_after.isdigit(), outcome
            assert outcome.dependency, outcome
    # Within the bound: everything sent while the fault lasted, and every refusal. (A success once the
    # dependency is back may take longer: a restarted model server's first answers, on a loaded machine.)
    slow = [o for o in traffic.outcomes
            if o.seconds > fault.bound_s and (o.started < restore_at or not 200 <= o.status < 300)]
    assert not slow, f"answers slower than {fault.bound_s} s: {slow}"
    assert all(200 <= o.status < 300 for o in baseline if o.ended < fault_at), baseline
    # Degrades as documented while the fault lasts.
    for outcome in during:
        if outcome.op in fault.must_work:
            assert 200 <= outcome.status < 300, f"{outcome.op} should keep working: {outcome}"
        if outcome.status == 503:
            assert outcome.dependency in fault.refused_as, outcome
    refused = {o.op for o in during if o.status == 503}
    missing = fault.must_refuse - refused
    assert not missing, f"no 503 from {missing} during the fault: {result.answered()}"
    # Recovered by itself: everything answers 2xx again (or the documented quota while a backlog drains).
    assert after and all(200 <= o.status < 300 or o.status == 429 for o in after), [o for o in after
                                                                                     if o.status >= 300]

    # Nothing accepted is lost.
    result.jobs = settle_jobs(api, user, traffic.accepted_jobs)
    assert result.jobs["lost"] == 0, result.jobs
    stored = history_ids(api, user)
    result.events_missing = len(set(traffic.stored_events) - stored)
    assert result.events_missing == 0
    if traffic.library_reasons:
        result.notes.append("recommendations' library: " + ", ".join(f"{k} ×{n}" for k, n in
                                                                     traffic.library_reasons.items()))
    return result


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    env = {
        "MUSEAIKA_MONGO_TIMEOUT_MS": str(int(MONGO_TIMEOUT_S * 1000)),
        "MUSEAIKA_MONGO_SOCKET_TIMEOUT_MS": str(int(MONGO_SOCKET_TIMEOUT_S * 1000)),
        "MUSEAIKA_REDIS_CONNECT_TIMEOUT_S": str(REDIS_CONNECT_TIMEOUT_S),
        "MUSEAIKA_REDIS_SOCKET_TIMEOUT_S": str(REDIS_SOCKET_TIMEOUT_S),
        "MUSEAIKA_S3_CONNECT_TIMEOUT_S": str(S3_CONNECT_TIMEOUT_S),
        "MUSEAIKA_S3_READ_TIMEOUT_S": str(S3_READ_TIMEOUT_S),
        "MUSEAIKA_SPOTIFY_TIMEOUT_S": str(SPOTIFY_TIMEOUT_S),
        "MUSEAIKA_READINESS_TIMEOUT_S": str(READINESS_TIMEOUT_S),
        "MUSEAIKA_RETRY_AFTER_S": str(RETRY_AFTER_S),
        "MUSEAIKA_JOB_HEARTBEAT_S": "3", "MUSEAIKA_JOB_SWEEP_INTERVAL_S": "1",
        "MUSEAIKA_MAX_ACTIVE_JOBS_PER_USER": "1000",
        # The rate limiter stays in the path (it counts in Redis, and in memory while Redis is away) with the
        # limits tests/conftest.py gives every stack, which this traffic never reaches: a 429 would hide the
        # answer under test.
        "MUSEAIKA_ACCESS_TOKEN_TTL_S": "7200",
        "MUSEAIKA_MODEL_VERSIONS": '{"emotion": "1.0.0"}',  # the light face model: the faults are the point
    }
    config = StackConfig(run_dir=tmp_path_factory.mktemp("faults"), backend="embedded", mongo_database=DATABASE,
                         persistent_mongo=True, spotify_standin=True, extra_env=env)
    with Stack(config) as started:
        import_catalog(started)
        yield started


@pytest.fixture(scope="module")
def user(api: httpx.Client, stack: Stack) -> dict[str, str]:
    """A user with Spotify linked (the stand-in), so recommendations call Spotify too."""
    created = new_user(api)
    link_spotify(api, created)
    return created


def spotify_used(api: httpx.Client, user: dict[str, str]) -> bool:
    answer = api.post("/v1/recommendations", headers=user, json={"mood": {"label": "happy"}, "limit": 5})
    return answer.status_code == 200 and bool(answer.json()["sources"]["library"]["used"])


def restart(stack: Stack, *names: str) -> Callable[[], None]:
    def start() -> None:
        for name in names:
            process = stack.processes[name]
            process.start()
            process.wait_ready()
    return start


def always() -> bool:
    return True


# Bounds: what the configured timeouts allow one request (several calls in a row where it makes them).
MONGO_BOUND = 2 * (MONGO_SOCKET_TIMEOUT_S + MONGO_TIMEOUT_S) + MARGIN_S
REDIS_BOUND = REDIS_SOCKET_TIMEOUT_S + REDIS_CONNECT_TIMEOUT_S + MARGIN_S
S3_BOUND = 2 * S3_READ_TIMEOUT_S + S3_CONNECT_TIMEOUT_S + MARGIN_S
SPOTIFY_BOUND = 2 * SPOTIFY_TIMEOUT_S + MARGIN_S
EVERYTHING = frozenset(EMBEDDED_OPS)
ALL_BUT_MELODY = EVERYTHING - {MELODY}


async def give_up_time(stack: Stack, service: str, ping: Callable[[], Any]) -> float:
    """Seconds a client takes to give up on `service` frozen (after one call while it answered, so the
    client holds an open connection: the case only a reply timeout ends)."""
    await ping()
    stack.pause_service(service)
    started = time.monotonic()
    try:
        with pytest.raises(DependencyUnavailableError):
            await ping()
        return time.monotonic() - started
    finally:
        stack.resume_service(service)


def test_clients_give_up_on_a_frozen_dependency_within_their_timeouts(stack: Stack) -> None:
    """Each client, built from settings with timeouts far below the defaults, against its dependency
    frozen: the call fails (DependencyUnavailableError → 503) after about the configured timeout, which
    proves both that it does not hang and that the setting, not a library default, decides."""
    assert stack.s3 is not None
    settings = Settings.model_validate({
        "mongo_url": stack.mongo_url, "mongo_database": DATABASE, "mongo_timeout_ms": 1000,
        "mongo_socket_timeout_ms": 2000, "redis_url": stack.redis_url, "redis_connect_timeout_s": 1.0,
        "redis_socket_timeout_s": 1.5, "s3_connect_timeout_s": 1.0, "s3_read_timeout_s": 1.0,
        "s3_endpoint": stack.s3.endpoint, "s3_access_key": stack.s3.access_key, "s3_secret_key": stack.s3.secret_key,
        "s3_region": stack.s3.region, "s3_bucket": stack.config.s3_bucket,
    })
    async def measure() -> dict[str, float]:
        mongo = MongoStore.from_settings(settings)
        queue = JobQueue.from_settings(settings)
        objects = ObjectStore(settings)
        try:
            return {"mongo": await give_up_time(stack, "mongo-wire", mongo.ping),
                    "redis": await give_up_time(stack, "redis", queue.ping),
                    "s3": await give_up_time(stack, "s3", objects.ping)}
        finally:
            await mongo.close()
            await queue.close()
            await objects.close()

    took = asyncio.run(measure())
    print(f"\nfrozen dependency → client gave up after: {', '.join(f'{k} {v:.2f} s' for k, v in took.items())}")
    # Never sooner than the timeout (the lower bounds); later only by a loaded machine's scheduling (MARGIN_S).
    # MongoDB: the reply timeout (2 s), then pymongo's one retry fails server selection (1 s). Default: 10 s+.
    assert 2.0 * 0.9 <= took["mongo"] <= 2.0 + 2 * 1.0 + MARGIN_S
    # Redis: the reply timeout (1.5 s), not retried. Default: 5 s.
    assert 1.5 * 0.9 <= took["redis"] <= 1.5 + MARGIN_S
    # S3: the read timeout (1 s) twice (urllib3 retries a read once, on a new connection). Default: 6 s.
    assert 1.0 * 0.9 <= took["s3"] <= 2 * 1.0 + 1.0 + MARGIN_S


@pytest.mark.parametrize("kind", ["stopped", "frozen"])
def test_mongodb(stack: Stack, api: httpx.Client, user: dict[str, str], table: list[Result], kind: str) -> None:
    name = "mongo-wire"
    if kind == "stopped":
        fault = Fault("MongoDB", "stopped (SIGTERM)", stack.processes[name].stop, restart(stack, name), "mongodb",
                      MONGO_BOUND, frozenset(), EVERYTHING - {JOB}, ("mongodb",))
    else:
        fault = Fault("MongoDB", "frozen (SIGSTOP)", lambda: stack.pause_service(name),
                      lambda: stack.resume_service(name), "mongodb", MONGO_BOUND, frozenset(), EVERYTHING - {JOB},
                      ("mongodb",))
    # Every request needs MongoDB (the caller's account is read from it): all refuse with 503 mongodb.
    table.append(run_fault(stack, api, user, fault, EMBEDDED_OPS, always, READINESS_TIMEOUT_S))


def test_redis_killed_with_jobs_queued_and_the_worker_down(stack: Stack, api: httpx.Client, user: dict[str, str],
                                                           table: list[Result]) -> None:
    """Jobs accepted while the worker is down wait in Redis; Redis is killed (SIGKILL) and comes back, then
    the worker: every one of them runs. Meanwhile only melody creation needs Redis (503 redis)."""
    stack.processes["worker"].stop()

    def back() -> None:
        stack.restart_service("redis")
        restart(stack, "worker")()

    fault = Fault("Redis (+ worker)", "killed (SIGKILL), worker stopped", lambda: stack.kill_service("redis"), back,
                  "redis", REDIS_BOUND, ALL_BUT_MELODY, frozenset({MELODY}), ("redis",))
    table.append(run_fault(stack, api, user, fault, EMBEDDED_OPS, always, READINESS_TIMEOUT_S))


def test_redis_frozen(stack: Stack, api: httpx.Client, user: dict[str, str], table: list[Result]) -> None:
    fault = Fault("Redis", "frozen (SIGSTOP), worker running", lambda: stack.pause_service("redis"),
                  lambda: stack.resume_service("redis"), "redis", REDIS_BOUND, ALL_BUT_MELODY, frozenset({MELODY}),
                  ("redis",))
    table.append(run_fault(stack, api, user, fault, EMBEDDED_OPS, always, READINESS_TIMEOUT_S))


@pytest.mark.parametrize("kind", ["stopped", "frozen"])
def test_object_storage(stack: Stack, api: httpx.Client, user: dict[str, str], table: list[Result],
                        kind: str) -> None:
    """The API itself only presigns (no call); the worker uploads: its jobs wait, retry, or fail with a reason."""
    name = "s3"
    if kind == "stopped":
        fault = Fault("S3", "stopped (SIGTERM)", stack.processes[name].stop, restart(stack, name), "object storage",
                      S3_BOUND, EVERYTHING, frozenset(), ("object storage",))
    else:
        fault = Fault("S3", "frozen (SIGSTOP)", lambda: stack.pause_service(name), lambda: stack.resume_service(name),
                      "object storage", S3_BOUND, EVERYTHING, frozenset(), ("object storage",))
    table.append(run_fault(stack, api, user, fault, EMBEDDED_OPS, always, READINESS_TIMEOUT_S))


@pytest.mark.parametrize("kind", ["outage", "frozen"])
def test_spotify(stack: Stack, api: httpx.Client, user: dict[str, str], table: list[Result], kind: str) -> None:
    """Recommendations degrade as documented: the catalog answers, `sources.library` says why Spotify is
    missing. (The stand-in keeps its accounts in memory, so it is put into outage or frozen, not restarted.)"""
    assert stack.spotify_url is not None
    control = httpx.Client(base_url=stack.spotify_url, timeout=10)

    def outage(enabled: bool) -> Callable[[], None]:
        def switch() -> None:
            control.post("/_control/outage", json={"enabled": enabled}).raise_for_status()
        return switch

    if kind == "outage":
        fault = Fault("Spotify", "outage (every call 503)", outage(True), outage(False), None, SPOTIFY_BOUND,
                      EVERYTHING, frozenset(), ())
    else:
        fault = Fault("Spotify", "frozen (SIGSTOP)", lambda: stack.pause_service("spotify-standin"),
                      lambda: stack.resume_service("spotify-standin"), None, SPOTIFY_BOUND, EVERYTHING, frozenset(), ())
    with control:
        result = run_fault(stack, api, user, fault, EMBEDDED_OPS, lambda: spotify_used(api, user),
                           READINESS_TIMEOUT_S)
    degraded = [o for o in result.during if o.op == RECOMMEND]
    assert degraded, "no recommendations while Spotify was out"
    table.append(result)


def test_torchserve(torchserve_stack: Stack, table: list[Result]) -> None:
    """The session's TorchServe stack (default timeouts: INFERENCE_TIMEOUT_S 30 s, READINESS_TIMEOUT_S 3 s):
    frozen, then killed and started again. Face and text need it (503 model:…); history and jobs do not;
    melody jobs are accepted and their worker retries, or fails them with a reason until it is back."""
    stack = torchserve_stack
    # Its rate limits are the ones tests/conftest.py gives every stack, out of this traffic's reach: the
    # requests flow unpaced, as on the embedded stack.
    inference_timeout_s, readiness_timeout_s = 30.0, 3.0
    ops = (FACE, TEXT, HISTORY, MELODY, JOB)
    models = ("model:emotion", "model:sentiment", "model:melody")
    assert stack.torchserve is not None
    addresses = stack.torchserve

    async def predict_frozen() -> float:
        """The client alone, with a 3 s budget: TorchServe frozen fails the call after 3 s, not 30."""
        backend = TorchServeBackend(addresses.inference, addresses.management, timeout_s=3.0, connect_timeout_s=1.0,
                                    cooldown_s=5.0)
        await backend.start()
        try:
            return await give_up_time(stack, "torchserve",
                                      lambda: backend.predict("sentiment", b"a fine day"))
        finally:
            await backend.close()

    took = asyncio.run(predict_frozen())
    print(f"\nfrozen TorchServe → client (3 s budget) gave up after {took:.2f} s")
    assert 3.0 * 0.9 <= took <= 3.0 + MARGIN_S, took
    with httpx.Client(base_url=stack.orchestrator_url, timeout=120) as api:
        user = new_user(api)
        frozen = Fault("TorchServe", "frozen (SIGSTOP, JVM + workers)", lambda: stack.pause_service("torchserve"),
                       lambda: stack.resume_service("torchserve"), "model:emotion", inference_timeout_s + MARGIN_S,
                       frozenset({HISTORY, JOB}), frozenset({FACE, TEXT}), models, hold_s=inference_timeout_s + 8,
                       quota_ok=frozenset({MELODY}))
        table.append(run_fault(stack, api, user, frozen, ops, always, readiness_timeout_s))
        killed = Fault("TorchServe", "killed (SIGKILL), started again", lambda: stack.kill_service("torchserve"),
                       lambda: stack.restart_service("torchserve"), "model:emotion", 2.0 + MARGIN_S,
                       frozenset({HISTORY, JOB}), frozenset({FACE, TEXT}), models, quota_ok=frozenset({MELODY}))
        table.append(run_fault(stack, api, user, killed, ops, always, readiness_timeout_s))
