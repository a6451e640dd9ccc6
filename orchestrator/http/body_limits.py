"""Pure ASGI middleware (no BaseHTTPMiddleware task groups on the hot path): request body limits on every
route, and request latency per route.

Body limits: multipart uploads (the photo routes) may carry up to `max_body_bytes`; any other body (JSON,
forms, anything else) at most `max_json_bytes`, whatever its declared type, so a big body sent as
text/plain to a JSON route is refused as surely as one declared as JSON. A body whose declared
Content-Length is over the limit is refused with 413 before anything reads it. A body without one (chunked
transfer encoding) is read here, at most one chunk past the limit, before the route sees it: over the limit
it is cut off with the same 413 (the rest is never buffered); within it, the route gets it as one piece. A
request with neither (a plain GET: HTTP/1.1 then has no body) goes to the route untouched.

JSON nesting: a body FastAPI would parse as JSON is read here (it is within the JSON limit) and refused with 400
when its arrays and objects nest deeper than `MAX_JSON_DEPTH`; no request schema comes close, and deep nesting
only exhausts the recursion of whatever walks the parsed value."""

from __future__ import annotations

import json
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orchestrator.core.metrics import HTTP_REQUEST_SECONDS

MAX_JSON_DEPTH = 64


def is_json(content_type: bytes) -> bool:
    """What FastAPI parses as JSON: no content type, application/json, or application/<anything>+json."""
    media = content_type.split(b";", 1)[0].strip().lower()
    return media in (b"", b"application/json") or (media.startswith(b"application/") and media.endswith(b"+json"))


def json_depth_exceeds(body: bytes, limit: int) -> bool:
    """Whether arrays and objects in `body` nest deeper than `limit` (brackets inside strings do not count).
    Most bodies hold fewer brackets than the limit in all, which needs no scan."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # closing quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return False


class _ClientGone(Exception):
    """The client disconnected before its whole body arrived: nobody to answer."""


class RequestLimitsAndMetrics:
    def __init__(self, app: ASGIApp, max_body_bytes: int, max_json_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_json_bytes = max_json_bytes

    def limit_for(self, content_type: bytes) -> int:
        return self.max_body_bytes if content_type.lower().startswith(b"multipart/form-data") else self.max_json_bytes

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
            content_type = headers.get(b"content-type", b"")
            limit = self.limit_for(content_type)
            declared = headers.get(b"content-length")
            chunked = b"chunked" in headers.get(b"transfer-encoding", b"").lower()
            # HTTP/1.x frames a body with one of the two, so without them there is none (HTTP/2 needs neither).
            if declared is None and not chunked and scope.get("http_version", "1.1") in ("1.0", "1.1"):
                await self.app(scope, receive, send_and_capture)
                return
            if declared is not None:
                # The server holds the body to its declared length, so checking the declaration is enough.
                if declared.isdigit() and int(declared) > limit:
                    await self._refuse(send_and_capture, f"request body is {int(declared)} bytes; the limit is {limit}")
                    return
                if not is_json(content_type):
                    await self.app(scope, receive, send_and_capture)
                    return
            try:
                body = await self._read_at_most(receive, limit)
            except _ClientGone:
                return
            if body is None:
                await self._refuse(send_and_capture, f"request body is over the limit of {limit} bytes")
            elif is_json(content_type) and json_depth_exceeds(body, MAX_JSON_DEPTH):
                await self._refuse(send_and_capture, f"JSON body nests deeper than {MAX_JSON_DEPTH} levels", 400)
            else:
                await self.app(scope, _replay(body, receive), send_and_capture)
        finally:
            route = scope.get("route")
            HTTP_REQUEST_SECONDS.labels(scope["method"], getattr(route, "path", "unmatched"), str(status)).observe(
                time.perf_counter() - started)

    @staticmethod
    async def _read_at_most(receive: Receive, limit: int) -> bytes | None:
        """The whole body, or None as soon as it passes `limit` bytes."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _ClientGone
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    @staticmethod
    async def _refuse(send: Send, detail: str, status: int = 413) -> None:
        body = json.dumps({"detail": detail}).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def _replay(body: bytes, receive: Receive) -> Receive:
    """`receive` for the app: the body read already, then whatever the server says next (a disconnect)."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
