"""Pure ASGI middleware (no BaseHTTPMiddleware task groups on the hot path): refuses bodies whose
declared size is over the limit and records request latency per route."""

from __future__ import annotations

import json
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orchestrator.metrics import HTTP_REQUEST_SECONDS


class RequestLimitsAndMetrics:
    def __init__(self, app: ASGIApp, max_body_bytes: int, max_json_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_json_bytes = max_json_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            headers = dict(scope["headers"])
            declared = headers.get(b"content-length", b"")
            limit = self.max_json_bytes if headers.get(b"content-type", b"").startswith(b"application/json") \
                else self.max_body_bytes
            if declared.isdigit() and int(declared) > limit:
                await self._refuse(send_and_capture, int(declared), limit)
            else:
                await self.app(scope, receive, send_and_capture)
        finally:
            route = scope.get("route")
            HTTP_REQUEST_SECONDS.labels(scope["method"], getattr(route, "path", "unmatched"), str(status)).observe(
                time.perf_counter() - started)

    @staticmethod
    async def _refuse(send: Send, declared: int, limit: int) -> None:
        body = json.dumps({"detail": f"request body is {declared} bytes; the limit is {limit}"}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
