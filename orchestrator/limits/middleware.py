"""Pure ASGI middleware in front of every route (WebSocket upgrades included) that applies the request
limits of orchestrator/limits/limiter.py.

Over a limit: 429 {"detail": ...} with Retry-After (seconds) and X-RateLimit-Limit / -Remaining / -Reset
(Reset: epoch seconds, as GitHub's API has it); a WebSocket is accepted and closed at once with code 4429
(the HTTP status + 4000, like the job-events route's other codes: a browser never sees a refused
handshake's status). Answers that pass carry the X-RateLimit-* headers of the rule closest to refusing.
The probes of orchestration (/healthz, /readyz, /metrics) are never counted nor refused (/readyz answers from a
one-second cache: orchestrator/health/readiness.py). The 429 is documented on every limited operation by
orchestrator/http/responses.py (complete_openapi).

The caller: the user when the request carries an access token that verifies (Authorization: Bearer, or
?access_token= on a WebSocket, as the job-events route reads it); a missing, expired or forged token counts
as anonymous (the route itself answers 401). The address is the ASGI client's: behind a proxy, uvicorn's
--forwarded-allow-ips makes it the caller's (X-Forwarded-For is never read here: anyone can write it)."""

from __future__ import annotations

import ipaddress
import json
import math
import re
import time
from urllib.parse import parse_qs

from fastapi import FastAPI
from limits import RateLimitItem
from starlette.datastructures import Headers
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orchestrator.core.metrics import HTTP_REQUEST_SECONDS
from orchestrator.core.settings import Settings
from orchestrator.core.tokens import InvalidTokenError, TokenIssuer
from orchestrator.http.paths import PROBE_ROUTES, RouteTemplates, route_path
from orchestrator.limits.limiter import Caller, Category, Decision, RequestRateLimiter

EXEMPT_ROUTES = PROBE_ROUTES
# Routes that run a model, queue work or write to Spotify: (method, route template).
COSTLY_ROUTES = frozenset({
    ("POST", "/v1/moods/face"), ("POST", "/v1/moods/text"), ("POST", "/v1/moods"), ("POST", "/v1/melodies"),
    ("POST", "/v1/jobs/{job_id}/retry"), ("POST", "/v1/recommendations"), ("POST", "/v1/playlists/journey"),
    ("POST", "/v1/playlists/{playlist_id}/spotify"),
})
AUTH_ROUTES = frozenset({("POST", "/v1/users"), ("POST", "/v1/auth/token"), ("POST", "/v1/auth/refresh")})
CLOSE_TOO_MANY_REQUESTS = 4429
# What the refusal says a rule counts per.
_PER = {"ip": "address", "auth": "address", "costly_ip": "address", "user": "user"}


_CATEGORY_ROUTES: tuple[tuple[frozenset[tuple[str, str]], Category], ...] = (
    (COSTLY_ROUTES, "costly"), (AUTH_ROUTES, "auth"))
_ROUTE_PATTERNS: list[tuple[str, re.Pattern[str], Category]] = [
    (method, compile_path(template)[0], category)
    for routes, category in _CATEGORY_ROUTES
    for method, template in sorted(routes)
]


def classify(method: str, path: str) -> Category:
    for route_method, pattern, category in _ROUTE_PATTERNS:
        if method == route_method and pattern.match(path):
            return category
    return "default"


def client_address(scope: Scope) -> str:
    client = scope.get("client")
    host = str(client[0]) if client else "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        # One host usually holds a whole /64: counting single IPv6 addresses would give it 2**64 budgets.
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def bearer_token(scope: Scope) -> str | None:
    if scope["type"] == "websocket":
        query_string: bytes = scope.get("query_string", b"")
        query = parse_qs(query_string.decode("latin-1")).get("access_token")
        if query:
            return query[0]
    header: str = Headers(scope=scope).get("authorization", "")
    return header[7:] if header[:7].lower() == "bearer " else None


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, limiter: RequestRateLimiter, tokens: TokenIssuer,
                 templates: RouteTemplates) -> None:
        self.app = app
        self.limiter = limiter
        self.tokens = tokens
        self.templates = templates  # to name the route of a refused request in the metrics

    def _user_of(self, scope: Scope) -> str | None:
        token = bearer_token(scope)
        if not token:
            return None
        try:
            return self.tokens.verify(token, "access").user_id
        except InvalidTokenError:
            return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path = route_path(scope)
        if path in EXEMPT_ROUTES:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        method = scope.get("method", "GET")
        category = classify(method, path)
        caller = Caller(client_address(scope), self._user_of(scope))
        decision = await self.limiter.check(caller, category)
        if scope["type"] == "websocket":
            if decision.allowed:
                await self.app(scope, receive, send)
            else:
                await self._close_websocket(receive, send, decision)
            return
        if not decision.allowed:
            await self._refuse(send, decision, caller)
            # Labelled like the answers the route gives itself (http/body_limits.py), not like a 404's "unmatched".
            template = self.templates.find(scope) or "unmatched"
            HTTP_REQUEST_SECONDS.labels(method, template, "429").observe(time.perf_counter() - started)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *rate_limit_headers(decision)]}
            await send(message)

        await self.app(scope, receive, send_with_headers)

    @staticmethod
    async def _refuse(send: Send, decision: Decision, caller: Caller) -> None:
        retry_after = decision.retry_after_s
        per = _PER.get(decision.rule, "user" if caller.user_id else "address")
        body = json.dumps({"detail": f"too many requests: {describe(decision.limit)} per {per}; "
                                     f"retry in {retry_after} s"}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                   (b"retry-after", str(retry_after).encode()), *rate_limit_headers(decision)]
        await send({"type": "http.response.start", "status": 429, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    async def _close_websocket(receive: Receive, send: Send, decision: Decision) -> None:
        if (await receive())["type"] != "websocket.connect":
            return  # gone before the handshake
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": CLOSE_TOO_MANY_REQUESTS,
                    "reason": f"too many requests; retry in {decision.retry_after_s} s"})


def describe(item: RateLimitItem) -> str:
    """ "600 per minute", "10 per 15 seconds". """
    unit = item.GRANULARITY.name
    return f"{item.amount} per {unit}" if item.multiples == 1 else f"{item.amount} per {item.multiples} {unit}s"


def rate_limit_headers(decision: Decision) -> list[tuple[bytes, bytes]]:
    return [(b"x-ratelimit-limit", str(decision.limit.amount).encode()),
            (b"x-ratelimit-remaining", str(decision.remaining).encode()),
            (b"x-ratelimit-reset", str(math.ceil(decision.reset_at)).encode())]


def install_rate_limits(app: FastAPI, settings: Settings, tokens: TokenIssuer) -> RequestRateLimiter | None:
    """Add the middleware (outside those added before it); the limiter returned is to be closed at shutdown.
    None when switched off."""
    if not settings.rate_limit_enabled:
        return None
    limiter = RequestRateLimiter.from_settings(settings)
    app.add_middleware(RateLimitMiddleware, limiter=limiter, tokens=tokens, templates=RouteTemplates(app))
    return limiter
