"""Rate limits against real orchestrators and a real Redis: per address, per user, the tighter rules of costly
and account routes (costly ones per address too, however many accounts call), a refusal that spends no other
budget, one count shared by two instances, WebSocket upgrades, exempt probes, the metrics of refused requests,
and Redis going away (each process counts on its own) and coming back.

Runs on its own stack (own Redis, which one test stops; shared Mongo-wire server and S3) with low limits, plus
a second orchestrator on the same Redis. Each test calls from addresses of its own (127.0.x.y: all of
127.0.0.0/8 is loopback on Linux), so the per-address counts of one test never reach another."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from launcher import services
from launcher.process import ManagedProcess
from launcher.stack import Stack
from orchestrator.app import create_app
from orchestrator.core.settings import Settings
from orchestrator.limits.middleware import AUTH_ROUTES, COSTLY_ROUTES, EXEMPT_ROUTES
from tests.support.api_client import bearer, new_email, sign_up_and_login
from tests.support.stacks import SharedServices

PER_IP, PER_USER, COSTLY, COSTLY_PER_IP, AUTH, WINDOW_S = 10, 5, 3, 5, 4, 15
LIMITS = {
    "MUSEAIKA_RATE_LIMIT_PER_IP": f"{PER_IP}/{WINDOW_S} seconds",
    "MUSEAIKA_RATE_LIMIT_PER_USER": f"{PER_USER}/{WINDOW_S} seconds",
    "MUSEAIKA_RATE_LIMIT_COSTLY": f"{COSTLY}/{WINDOW_S} seconds",
    "MUSEAIKA_RATE_LIMIT_COSTLY_PER_IP": f"{COSTLY_PER_IP}/{WINDOW_S} seconds",
    "MUSEAIKA_RATE_LIMIT_AUTH_PER_IP": f"{AUTH}/{WINDOW_S} seconds",
    # A loaded test machine can be slow to answer; a spurious fallback to memory would skew the counts.
    "MUSEAIKA_RATE_LIMIT_REDIS_TIMEOUT_S": "2",
    "MUSEAIKA_RATE_LIMIT_REDIS_RETRY_S": "1",
}
REDIS_AWAY = "rate limiter: Redis unavailable"
REDIS_BACK = "rate limiter: Redis is back"
_addresses = itertools.count(2)


def fresh_address() -> str:
    n = next(_addresses)
    return f"127.0.{n // 200 + 1}.{n % 200 + 2}"


def client_from(base_url: str, address: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, timeout=60, transport=httpx.HTTPTransport(local_address=address))


@pytest.fixture(scope="module")
def stack(shared: SharedServices) -> Iterator[Stack]:
    """A Redis of its own (a test stops it)."""
    with shared.stack("rate_limits", models=[], extra_env=LIMITS) as started:
        yield started


@pytest.fixture(scope="module")
def second(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ManagedProcess, str]]:
    """Another orchestrator with the first one's settings: same Redis, same limits."""
    process, url = services.orchestrator(tmp_path_factory.mktemp("rate_limits_second"),
                                         stack.processes["orchestrator"].env)
    process.start()
    try:
        process.wait_ready()
        yield process, url
    finally:
        process.stop()


@pytest.fixture(scope="module")
def users(stack: Stack) -> list[dict[str, str]]:
    """Bearer headers of seven accounts (one or two per test), each signed up from an address of its own (the
    account rule)."""
    headers = []
    for _ in range(7):
        with client_from(stack.orchestrator_url, fresh_address()) as api:
            headers.append(bearer(sign_up_and_login(api)[1]))
    return headers


def limit_headers(response: httpx.Response) -> tuple[int, int, int]:
    return (int(response.headers["x-ratelimit-limit"]), int(response.headers["x-ratelimit-remaining"]),
            int(response.headers["x-ratelimit-reset"]))


def assert_throttled(response: httpx.Response, limit: int, per: str) -> int:
    """A proper 429; returns its Retry-After."""
    assert response.status_code == 429, response.text[:300]
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= WINDOW_S
    assert limit_headers(response)[:2] == (limit, 0)
    # The server read its clock between sending the request and now; Retry-After and the reset header each round
    # that reading up to a whole second.
    now = time.time()
    sent = now - response.elapsed.total_seconds()
    assert sent + retry_after - 2 <= limit_headers(response)[2] <= now + retry_after + 2
    detail = response.json()["detail"]
    assert f"{limit} per {WINDOW_S} seconds per {per}" in detail and f"retry in {retry_after} s" in detail
    return retry_after


def log_lines(path: Path, text: str) -> int:
    return sum(text in line for line in path.read_text(errors="replace").splitlines())


def test_limit_tables_name_real_routes_and_every_limited_operation_documents_429() -> None:
    schema = create_app(Settings(log_level="WARNING")).openapi()
    operations = {(method.upper(), path) for path, item in schema["paths"].items() for method in item}
    assert not (COSTLY_ROUTES | AUTH_ROUTES | {("GET", path) for path in EXEMPT_ROUTES}) - operations
    for method, path in operations:
        documented = "429" in schema["paths"][path][method.lower()]["responses"]
        assert documented == (path not in EXEMPT_ROUTES), (method, path)


def test_an_address_over_its_limit_gets_429_with_retry_after(stack: Stack) -> None:
    with client_from(stack.orchestrator_url, fresh_address()) as api:
        remaining = [limit_headers(api.get("/openapi.json"))[1] for _ in range(PER_IP)]
        assert remaining == list(range(PER_IP - 1, -1, -1))
        assert_throttled(api.get("/openapi.json"), PER_IP, "address")
        assert_throttled(api.get("/v1/users/me"), PER_IP, "address")  # every route shares the address's budget
    with client_from(stack.orchestrator_url, fresh_address()) as other:
        assert other.get("/openapi.json").status_code == 200, "another address has a budget of its own"
        # The refusals are in the metrics under their routes (not "unmatched", like a 404).
        metrics = other.get("/metrics").text
    for route in ("/openapi.json", "/v1/users/me"):
        assert f'museaika_http_request_duration_seconds_count{{method="GET",route="{route}",status="429"}}' in metrics


def test_waiting_retry_after_is_enough(stack: Stack) -> None:
    with client_from(stack.orchestrator_url, fresh_address()) as api:
        for _ in range(PER_IP):
            assert api.get("/openapi.json").status_code == 200
        retry_after = assert_throttled(api.get("/openapi.json"), PER_IP, "address")
        time.sleep(retry_after / 2)
        assert api.get("/openapi.json").status_code == 429, "released before Retry-After"
        time.sleep(retry_after / 2 + 0.2)
        assert api.get("/openapi.json").status_code == 200


def test_a_user_limit_follows_the_user_not_the_address(stack: Stack, users: list[dict[str, str]]) -> None:
    ada, bob = users[0], users[1]
    shared = fresh_address()
    with client_from(stack.orchestrator_url, shared) as api:
        for left in range(PER_USER - 1, -1, -1):
            response = api.get("/v1/users/me", headers=ada)
            assert response.status_code == 200 and limit_headers(response)[:2] == (PER_USER, left)
        assert_throttled(api.get("/v1/users/me", headers=ada), PER_USER, "user")
        # Bob, from the same address, still has his whole budget.
        assert [api.get("/v1/users/me", headers=bob).status_code for _ in range(PER_USER)] == [200] * PER_USER
        # Ada's refused call did not spend the address's budget, Bob's calls did: it is used up now.
        assert_throttled(api.get("/openapi.json"), PER_IP, "address")
    with client_from(stack.orchestrator_url, fresh_address()) as elsewhere:
        assert_throttled(elsewhere.get("/v1/users/me", headers=ada), PER_USER, "user")
        assert elsewhere.get("/openapi.json").status_code == 200


def test_costly_and_account_routes_have_tighter_limits(stack: Stack) -> None:
    with client_from(stack.orchestrator_url, fresh_address()) as api:
        # No text model is served here (503), which does not matter: the request is counted before it runs.
        answers = [api.post("/v1/moods/text", json={"text": "what a day"}) for _ in range(COSTLY)]
        assert all(a.status_code != 429 for a in answers), [a.text for a in answers]
        assert_throttled(api.post("/v1/moods/text", json={"text": "what a day"}), COSTLY, "address")
        assert_throttled(api.post("/v1/moods/face", files={"image": ("a.png", b"x", "image/png")}), COSTLY,
                         "address")
        assert api.get("/openapi.json").status_code == 200, "the other routes keep the address's budget"
    with client_from(stack.orchestrator_url, fresh_address()) as api:
        def login() -> httpx.Response:
            return api.post("/v1/auth/token", data={"username": new_email(), "password": "wrong password 1"})

        assert [login().status_code for _ in range(AUTH)] == [401] * AUTH
        assert_throttled(login(), AUTH, "address")
        assert_throttled(api.post("/v1/users", json={"email": new_email(), "password": "correct horse 42"}), AUTH,
                         "address")


def test_an_address_has_a_costly_budget_however_many_accounts_it_uses(stack: Stack,
                                                                     users: list[dict[str, str]]) -> None:
    first, second = users[4], users[5]
    with client_from(stack.orchestrator_url, fresh_address()) as api:
        def infer(user: dict[str, str]) -> httpx.Response:
            return api.post("/v1/moods/text", headers=user, json={"text": "what a day"})

        assert all(infer(first).status_code != 429 for _ in range(COSTLY))
        # The second account has its whole costly budget, the address only what the first one left of its own.
        assert all(infer(second).status_code != 429 for _ in range(COSTLY_PER_IP - COSTLY))
        assert_throttled(infer(second), COSTLY_PER_IP, "address")
        assert api.get("/v1/users/me", headers=second).status_code == 200, "only the costly routes"
    with client_from(stack.orchestrator_url, fresh_address()) as elsewhere:
        answer = elsewhere.post("/v1/moods/text", headers=second, json={"text": "what a day"})
        assert answer.status_code != 429, "the second account kept the rest of its own budget"


def test_a_refused_request_spends_no_other_budget(stack: Stack, users: list[dict[str, str]]) -> None:
    user = users[6]
    with client_from(stack.orchestrator_url, fresh_address()) as crowded:
        for _ in range(PER_IP):
            assert crowded.get("/openapi.json").status_code == 200
        # Refused by the address's rule: the user's own budget is untouched...
        for _ in range(PER_USER):
            assert_throttled(crowded.get("/v1/users/me", headers=user), PER_IP, "address")
    with client_from(stack.orchestrator_url, fresh_address()) as elsewhere:
        # ... so all of it is there from another address.
        assert [elsewhere.get("/v1/users/me", headers=user).status_code for _ in range(PER_USER)] == [200] * PER_USER


def test_instances_share_one_count_in_redis(stack: Stack, second: tuple[ManagedProcess, str]) -> None:
    address = fresh_address()
    with client_from(stack.orchestrator_url, address) as first, client_from(second[1], address) as other:
        for i in range(PER_IP):
            assert (first if i % 2 else other).get("/openapi.json").status_code == 200
        # Counted per process, each would still have half its budget.
        assert_throttled(first.get("/openapi.json"), PER_IP, "address")
        assert_throttled(other.get("/openapi.json"), PER_IP, "address")


def test_websocket_upgrades_count(stack: Stack, users: list[dict[str, str]]) -> None:
    headers = users[2]
    token = headers["Authorization"].removeprefix("Bearer ")
    url = stack.orchestrator_url.replace("http://", "ws://") + f"/v1/jobs/no-such-job/events?access_token={token}"

    def close_code() -> int | None:
        with connect(url, open_timeout=30, close_timeout=5) as socket:
            try:
                socket.recv(timeout=30)
            except ConnectionClosed as closed:
                return closed.rcvd.code if closed.rcvd else None
        raise AssertionError("the socket was not closed")

    with client_from(stack.orchestrator_url, fresh_address()) as api:
        for _ in range(PER_USER - 1):
            assert api.get("/v1/users/me", headers=headers).status_code == 200
        assert close_code() == 4404, "the route itself answers the last call of the budget"
        assert_throttled(api.get("/v1/users/me", headers=headers), PER_USER, "user")
        assert close_code() == 4429


def test_health_readiness_and_metrics_are_never_limited(stack: Stack) -> None:
    with client_from(stack.orchestrator_url, fresh_address()) as api:
        for _ in range(3 * PER_IP):
            for path in sorted(EXEMPT_ROUTES):
                response = api.get(path)
                assert response.status_code == 200, (path, response.text)
                assert "x-ratelimit-limit" not in response.headers
        assert limit_headers(api.get("/openapi.json"))[1] == PER_IP - 1, "the probes were not counted"


def test_without_redis_each_instance_limits_on_its_own_and_recovers(
        stack: Stack, second: tuple[ManagedProcess, str], users: list[dict[str, str]]) -> None:
    first_log = stack.processes["orchestrator"].log_path
    second_process, second_url = second
    assert log_lines(first_log, REDIS_AWAY) == 0
    stack.kill_service("redis")
    try:
        address = fresh_address()
        with client_from(stack.orchestrator_url, address) as api, client_from(second_url, address) as other:
            assert api.get("/v1/users/me", headers=users[3]).status_code == 200, "served without Redis"
            for _ in range(PER_IP - 1):
                started = time.monotonic()
                assert api.get("/openapi.json").status_code == 200
                assert time.monotonic() - started < 10
                time.sleep(0.2)  # past RATE_LIMIT_REDIS_RETRY_S in all: Redis is tried again, and fails again
            assert_throttled(api.get("/openapi.json"), PER_IP, "address")
            # The other instance counts in its own memory now: the same address has its whole budget there.
            assert [other.get("/openapi.json").status_code for _ in range(PER_IP)] == [200] * PER_IP
            assert other.get("/openapi.json").status_code == 429
        assert log_lines(first_log, REDIS_AWAY) == 1, "said once, not per request nor per retry"
        assert log_lines(second_process.log_path, REDIS_AWAY) == 1
    finally:
        stack.restart_service("redis")
    # Each instance tries Redis again on its first request RATE_LIMIT_REDIS_RETRY_S after the last failure.
    deadline = time.monotonic() + 60
    with client_from(stack.orchestrator_url, fresh_address()) as api, client_from(second_url, fresh_address()) as other:
        while log_lines(first_log, REDIS_BACK) + log_lines(second_process.log_path, REDIS_BACK) < 2:
            assert time.monotonic() < deadline, "the limiter did not go back to Redis"
            api.get("/openapi.json")  # a counted request is what tries Redis
            other.get("/openapi.json")
            time.sleep(0.5)
    address = fresh_address()
    with client_from(stack.orchestrator_url, address) as api, client_from(second_url, address) as other:
        for i in range(PER_IP):
            assert (api if i % 2 else other).get("/openapi.json").status_code == 200
        assert_throttled(api.get("/openapi.json"), PER_IP, "address")
        assert_throttled(other.get("/openapi.json"), PER_IP, "address")
    assert log_lines(first_log, REDIS_BACK) == 1 and log_lines(second_process.log_path, REDIS_BACK) == 1
    store = redis.Redis.from_url(stack.redis_url)
    try:
        assert store.keys(f"museaika:ratelimit:*/ip/{address}/*"), "the counts are in Redis again"
    finally:
        store.close()
