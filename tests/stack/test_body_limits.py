"""Every route refuses a body over its limit with 413, whether the body declares its size (Content-Length)
or streams without one (chunked): multipart uploads up to MAX_UPLOAD_BYTES (+ multipart framing), any other
body up to MAX_JSON_BYTES. Bodies within the limit, chunked ones included, still reach the routes.

Runs on its own small stack (no models, no worker) with a small upload limit, so oversize bodies stay cheap."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from launcher.stack import Stack
from orchestrator.app import UPLOAD_OVERHEAD_BYTES
from tests.support.api_client import PASSWORD, new_email
from tests.support.stacks import SharedServices

MAX_UPLOAD = 100_000
MAX_JSON = 20_000
UPLOAD_LIMIT = MAX_UPLOAD + UPLOAD_OVERHEAD_BYTES
BOUNDARY = "museaika-test-boundary"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


@pytest.fixture(scope="module")
def stack(shared: SharedServices) -> Iterator[Stack]:
    with shared.stack("body_limits", models=[], extra_env={"MUSEAIKA_MAX_UPLOAD_BYTES": str(MAX_UPLOAD),
                                                           "MUSEAIKA_MAX_JSON_BYTES": str(MAX_JSON)}) as started:
        yield started


@pytest.fixture(scope="module")
def operations(api: httpx.Client) -> list[tuple[str, str]]:
    """Every operation of the schema, path parameters filled in, and two paths outside it."""
    paths = api.get("/openapi.json").json()["paths"]
    found = [(method.upper(), re.sub(r"\{[^}]+\}", "0123456789abcdef01234567", path))
             for path, item in paths.items() for method in item]
    assert len(found) >= 30
    return [*found, ("GET", "/try/"), ("POST", "/no/such/route")]


def chunked(size: int, piece: int = 16 * 1024) -> Iterator[bytes]:
    """A body without Content-Length: httpx sends an iterator with Transfer-Encoding: chunked."""
    sent = 0
    while sent < size:
        chunk = b"x" * min(piece, size - sent)
        sent += len(chunk)
        yield chunk


def assert_too_large(response: httpx.Response, operation: tuple[str, str]) -> None:
    assert response.status_code == 413, (operation, response.status_code, response.text[:200])
    assert "limit" in response.json()["detail"]


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", "application/octet-stream"])
def test_every_route_refuses_a_declared_oversize_body(api: httpx.Client, operations: list[tuple[str, str]],
                                                      content_type: str) -> None:
    body = b"x" * (MAX_JSON + 1)
    for method, path in operations:
        response = api.request(method, path, content=body, headers={"Content-Type": content_type})
        assert "content-length" in response.request.headers
        assert_too_large(response, (method, path))


@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded"])
def test_every_route_cuts_off_a_chunked_oversize_body(api: httpx.Client, operations: list[tuple[str, str]],
                                                      content_type: str) -> None:
    for method, path in operations:
        response = api.request(method, path, content=chunked(MAX_JSON + 1), headers={"Content-Type": content_type})
        assert response.request.headers.get("transfer-encoding") == "chunked"
        assert_too_large(response, (method, path))


def test_uploads_have_their_own_larger_limit_declared_or_chunked(api: httpx.Client) -> None:
    for path in ("/v1/moods/face", "/v1/moods"):
        assert_too_large(api.post(path, content=b"x" * (UPLOAD_LIMIT + 1), headers={"Content-Type": MULTIPART}),
                         ("POST", path))
        assert_too_large(api.post(path, content=chunked(UPLOAD_LIMIT + 1), headers={"Content-Type": MULTIPART}),
                         ("POST", path))
        # Over the JSON limit but within the upload one: the route reads it (and finds no image in it).
        within = api.post(path, content=chunked(MAX_JSON * 2), headers={"Content-Type": MULTIPART})
        assert within.status_code not in (413, 500), within.text


def test_bodies_within_the_limit_reach_the_route_chunked_or_not(api: httpx.Client) -> None:
    email = new_email()
    body = f'{{"email": "{email}", "password": "{PASSWORD}"}}'.encode()
    created = api.post("/v1/users", content=iter([body[:10], body[10:]]), headers={"Content-Type": "application/json"})
    assert created.request.headers.get("transfer-encoding") == "chunked"
    assert created.status_code == 201, created.text
    form = f"username={email}&password={PASSWORD.replace(' ', '+')}".encode()
    login = api.post("/v1/auth/token", content=iter([form]),
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert login.status_code == 200, login.text
    me = api.get("/v1/users/me", headers={"Authorization": f"Bearer {login.json()['access_token']}"})
    assert me.json()["email"] == email
    at_limit = api.post("/v1/moods/text", content=chunked(MAX_JSON), headers={"Content-Type": "application/json"})
    assert at_limit.status_code == 400, "exactly the limit is allowed (and is not JSON)"
