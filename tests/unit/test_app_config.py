"""CORS, configured from settings: answered by middleware, so no dependency needs to run."""

from __future__ import annotations

from fastapi.testclient import TestClient

from orchestrator.app import create_app
from orchestrator.core.settings import Settings


def test_cors_allows_only_configured_origins() -> None:
    app = create_app(Settings(cors_origins=["https://app.museaika.example"], log_level="WARNING"))
    client = TestClient(app)  # no `with`: preflight is answered by middleware, before any dependency
    allowed = client.options("/v1/moods/text", headers={"Origin": "https://app.museaika.example",
                                                        "Access-Control-Request-Method": "POST",
                                                        "Access-Control-Request-Headers": "authorization"})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://app.museaika.example"
    denied = client.options("/v1/moods/text", headers={"Origin": "https://evil.example",
                                                       "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in denied.headers


def test_no_cors_headers_without_configured_origins() -> None:
    client = TestClient(create_app(Settings(log_level="WARNING")))
    response = client.options("/v1/moods/text", headers={"Origin": "https://app.museaika.example",
                                                         "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in response.headers
