"""The middleware every request passes before routing: request log and injected faults."""

from __future__ import annotations

from fastapi.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from standins.spotify.errors import ApiError
from standins.spotify.shapes import JSON
from standins.spotify.state import StandinState

REQUEST_LOG_SIZE = 1000


class Gate:
    """Pure ASGI middleware: drops a trailing slash on /v1 paths (spotipy asks for "me/"), answers 503 while
    an outage is on and 429 for rate-limited Web API calls, and logs every request."""

    def __init__(self, app: ASGIApp, state: StandinState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith("/v1/") and len(path) > 4 and path.endswith("/"):
            scope["path"] = path = path.rstrip("/")
        entry: JSON = {"method": scope["method"], "path": path,
                       "query": scope.get("query_string", b"").decode("latin-1"), "status": None}
        if not path.startswith("/_control"):
            self.state.request_log.append(entry)
            del self.state.request_log[:-REQUEST_LOG_SIZE]
        faults = self.state.faults
        injected: Response | None = None
        if not path.startswith("/_control") and faults.outage:
            injected = ApiError(503, "Service unavailable").response()
        elif path.startswith("/v1/") and faults.rate_limited_calls > 0:
            faults.rate_limited_calls -= 1
            injected = ApiError(429, "API rate limit exceeded",
                                headers={"Retry-After": str(faults.retry_after_s)}).response()
        if injected is not None:
            entry["status"] = injected.status_code
            await injected(scope, receive, send)
            return

        async def logging_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                entry["status"] = message["status"]
            await send(message)

        await self.app(scope, receive, logging_send)
