"""The app's own ASGI middleware, called directly (no server): what a request without a body goes through, and the
path every middleware matches when the app is served under a root path. tests/stack/test_body_limits.py,
tests/e2e/test_security_headers.py and tests/faults/test_rate_limits.py test the same middleware on a running server."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest
from starlette.types import Message, Receive, Scope, Send

from orchestrator.http.body_limits import RequestLimitsAndMetrics
from orchestrator.http.paths import route_path
from orchestrator.http.security_headers import SecurityHeaders, docs_policy

LIMIT = 1000


@dataclass
class Client:
    """The server's side of one request: the body messages it hands out, and what the app answers."""
    body: list[bytes]
    received: int = 0
    sent: list[Message] = field(default_factory=list)

    async def receive(self) -> Message:
        self.received += 1
        if self.body:
            chunk = self.body.pop(0)
            return {"type": "http.request", "body": chunk, "more_body": bool(self.body)}
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        self.sent.append(message)

    @property
    def status(self) -> int:
        return int(self.sent[0]["status"])


@dataclass
class Route:
    """An app that reads its whole body and answers with its size, noting which `receive` it was given."""
    receives: list[Receive] = field(default_factory=list)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.receives.append(receive)
        size = 0
        if scope["method"] != "GET":
            while True:
                message = await receive()
                size += len(message.get("body", b""))
                if not message.get("more_body"):
                    break
        body = json.dumps({"size": size}).encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})


def http_scope(method: str, headers: dict[str, str], http_version: str = "1.1", path: str = "/v1/x",
               root_path: str = "") -> Scope:
    return {"type": "http", "method": method, "path": path, "root_path": root_path, "http_version": http_version,
            "headers": [(k.encode(), v.encode()) for k, v in headers.items()]}


async def test_a_request_without_a_body_goes_to_the_route_untouched() -> None:
    route = Route()
    client = Client(body=[b""])
    await RequestLimitsAndMetrics(route, LIMIT, LIMIT)(http_scope("GET", {}), client.receive, client.send)
    assert client.status == 200
    assert route.receives == [client.receive], "the route reads from the server itself: nothing read or replayed"
    assert client.received == 0


@pytest.mark.parametrize("headers, http_version", [
    ({"transfer-encoding": "chunked"}, "1.1"),
    ({}, "2"),  # HTTP/2 frames a body without either header: it is counted too
])
async def test_a_body_without_a_declared_length_is_still_counted(headers: dict[str, str], http_version: str) -> None:
    client = Client(body=[b"x" * 600, b"x" * 600])
    await RequestLimitsAndMetrics(Route(), LIMIT, LIMIT)(http_scope("POST", headers, http_version), client.receive,
                                                         client.send)
    assert client.status == 413
    within = Client(body=[b"x" * 400, b"x" * 400])
    await RequestLimitsAndMetrics(Route(), LIMIT, LIMIT)(http_scope("POST", headers, http_version), within.receive,
                                                         within.send)
    assert within.status == 200 and json.loads(within.sent[1]["body"]) == {"size": 800}


@pytest.mark.parametrize("path, root_path, expected", [
    ("/v1/users/me", "", "/v1/users/me"),
    ("/api/v1/users/me", "/api", "/v1/users/me"),
    ("/api", "/api", "/"),
    ("/apiv1/users/me", "/api", "/apiv1/users/me"),  # not under the root path
])
def test_route_path_drops_the_root_path(path: str, root_path: str, expected: str) -> None:
    assert route_path(http_scope("GET", {}, path=path, root_path=root_path)) == expected


async def test_the_docs_policy_follows_the_docs_under_a_root_path() -> None:
    client = Client(body=[b""])
    headers = SecurityHeaders(Route(), docs_paths=frozenset({"/docs"}))
    await headers(http_scope("GET", {}, path="/api/docs", root_path="/api"), client.receive, client.send)
    assert (b"content-security-policy", docs_policy().encode()) in client.sent[0]["headers"]


@pytest.mark.parametrize("headers", [{"content-type": "application/json", "content-length": "900"},
                                     {"transfer-encoding": "chunked"}])
async def test_json_nested_too_deep_is_refused_before_the_route_sees_it(headers: dict[str, str]) -> None:
    route = Route()
    client = Client(body=[b"[" * 450 + b"]" * 450])
    await RequestLimitsAndMetrics(route, LIMIT, LIMIT)(http_scope("POST", headers), client.receive, client.send)
    assert client.status == 400 and route.receives == []
    assert json.loads(client.sent[1]["body"]) == {"detail": "JSON body nests deeper than 64 levels"}


async def test_brackets_in_strings_and_non_json_bodies_are_not_nesting() -> None:
    for content_type, body in [("application/json", b'{"a": "' + b"[" * 500 + b'"}'),
                               ("application/x-www-form-urlencoded", b"password=" + b"[" * 500)]:
        client = Client(body=[body])
        headers = {"content-type": content_type, "content-length": str(len(body))}
        await RequestLimitsAndMetrics(Route(), LIMIT, LIMIT)(http_scope("POST", headers), client.receive, client.send)
        assert client.status == 200 and json.loads(client.sent[1]["body"]) == {"size": len(body)}
