"""Error answers of the whole app, in-process (no stack): 405's Allow, deep JSON, and an unhandled 500."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from orchestrator.app import create_app
from orchestrator.core.settings import Settings
from orchestrator.wiring import get_services


@pytest.fixture
def client() -> TestClient:
    app = create_app(Settings(log_level="WARNING"))
    # Routes that need services reach their body first; none of these requests gets further.
    app.dependency_overrides[get_services] = lambda: object()
    broken = APIRouter()

    @broken.get("/v1/test-broken")
    async def fail() -> None:
        raise RuntimeError("a bug")

    app.include_router(broken)
    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize("method, path, allow", [
    ("PUT", "/healthz", "GET"),
    ("PUT", "/v1/users/me", "DELETE, GET, PATCH"),
    ("DELETE", "/v1/auth/token", "POST"),
    ("PUT", "/try/index.html", "GET, HEAD"),
])
def test_a_405_lists_the_methods_the_path_allows(client: TestClient, method: str, path: str, allow: str) -> None:
    response = client.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allow


@pytest.mark.parametrize("path", ["/v1/auth/refresh", "/v1/users"])  # anonymous JSON routes
def test_json_nested_hundreds_deep_is_a_400_with_a_reason(client: TestClient, path: str) -> None:
    response = client.post(path, content="[" * 450 + "]" * 450, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json() == {"detail": "JSON body nests deeper than 64 levels"}


def test_an_unhandled_error_is_a_json_500_with_the_security_headers(client: TestClient) -> None:
    response = client.get("/v1/test-broken")
    assert response.status_code == 500
    assert response.json() == {"detail": "internal server error"}
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" in response.headers


def test_the_unicode_check_walks_any_depth_without_recursing() -> None:
    from orchestrator.http.bodies import _has_unpaired_surrogate

    deep: list[Any] = []
    inner = deep
    for _ in range(5000):
        inner.append([])
        inner = inner[0]
    assert not _has_unpaired_surrogate(deep)
    inner.append({"k": "\ud83d"})
    assert _has_unpaired_surrogate(deep)
