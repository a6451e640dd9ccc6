"""Map domain errors to HTTP answers: 4xx with a reason, 503 with Retry-After. Every refusal has the same
shape, `{"detail": "<why>"}` (orchestrator/http/responses.py documents them)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.routing import Match, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orchestrator.core.errors import (
    DependencyUnavailableError,
    InvalidInputError,
    NotFoundError,
    TooManyAttemptsError,
    UnauthorizedError,
)
from orchestrator.http.paths import HTTP_METHODS, route_path

logger = logging.getLogger(__name__)

ROUTABLE_METHODS = frozenset(method.upper() for method in HTTP_METHODS)


def field_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Pydantic's errors without `input` and `ctx`: those echo what was sent (a password, a token)."""
    return [{"loc": [part if isinstance(part, int) else str(part) for part in error["loc"]], "msg": error["msg"],
             "type": error["type"]} for error in errors]


def describe_errors(errors: list[dict[str, Any]]) -> str:
    """One line for `detail`: "body.mood.label: String should have at most 40 characters; ..."."""
    return "; ".join(f"{'.'.join(map(str, error['loc']))}: {error['msg']}" for error in errors)


def allowed_methods(app: FastAPI, scope: Scope) -> list[str]:
    """Every method some route serves at this request's path (RFC 9110's `Allow`), found by asking each route
    whether it would take the request with that method: FastAPI wraps included routers in routes of their own,
    which name no path or methods. A static-files mount serves GET and HEAD."""
    methods: set[str] = set()
    for route in app.router.routes:
        if isinstance(route, Mount):
            if isinstance(route.app, StaticFiles) and route.matches(scope)[0] != Match.NONE:
                methods |= {"GET", "HEAD"}
            continue
        methods |= {method for method in ROUTABLE_METHODS
                    if route.matches({**scope, "method": method})[0] == Match.FULL}
    return sorted(methods)


def install_error_handlers(app: FastAPI, retry_after_s: int) -> None:
    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> Response:
        if error.status_code == 405:
            allow = ", ".join(allowed_methods(app, request.scope))
            # Starlette's own header names only the first matching route; keep it when ours finds none.
            headers = {**(error.headers or {}), **({"Allow": allow} if allow else {})}
            error = HTTPException(405, error.detail, headers=headers)
        return await http_exception_handler(request, error)

    # FastAPI's own answer puts a list in `detail`; ours keeps `detail` a sentence, like every other refusal,
    # and lists the fields in `errors`.
    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, error: RequestValidationError) -> JSONResponse:
        errors = field_errors(error.errors())
        return JSONResponse({"detail": describe_errors(errors), "errors": errors}, status_code=422)

    @app.exception_handler(InvalidInputError)
    async def invalid_input(_: Request, error: InvalidInputError) -> JSONResponse:
        return JSONResponse({"detail": error.reason}, status_code=error.status)

    @app.exception_handler(NotFoundError)
    async def not_found(_: Request, error: NotFoundError) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=404)

    @app.exception_handler(UnauthorizedError)
    async def unauthorized(_: Request, error: UnauthorizedError) -> JSONResponse:
        return JSONResponse({"detail": error.reason}, status_code=401, headers={"WWW-Authenticate": "Bearer"})

    @app.exception_handler(TooManyAttemptsError)
    async def too_many(_: Request, error: TooManyAttemptsError) -> JSONResponse:
        return JSONResponse({"detail": error.reason}, status_code=429,
                            headers={"Retry-After": str(error.retry_after_s)})

    @app.exception_handler(DependencyUnavailableError)
    async def unavailable(_: Request, error: DependencyUnavailableError) -> JSONResponse:
        logger.warning("dependency unavailable", extra={"dependency": error.dependency, "reason": error.reason})
        return JSONResponse(
            {"detail": f"{error.dependency} is unavailable: {error.reason}", "dependency": error.dependency},
            status_code=503,
            # A dependency that says how long to wait (Spotify's 429) is believed over our default.
            headers={"Retry-After": str(getattr(error, "retry_after_s", None) or retry_after_s)},
        )


class UnhandledErrors:
    """The answer to a bug: `{"detail": "internal server error"}`, 500. Starlette's own catch-all (and an
    `Exception` handler, which it calls) sits outside every middleware, so its answer would miss the security
    headers; this one runs inside them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_and_note(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        except Exception:
            if started:
                raise  # too late for an answer: the server drops the connection
            logger.exception("unhandled error", extra={"method": scope["method"], "path": route_path(scope)})
            await JSONResponse({"detail": "internal server error"}, status_code=500)(scope, receive, send)
