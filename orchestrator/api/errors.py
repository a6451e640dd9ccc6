"""Map domain errors to HTTP answers: 4xx with a reason, 503 with Retry-After."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from orchestrator.errors import (
    DependencyUnavailableError,
    InvalidInputError,
    NotFoundError,
    TooManyAttemptsError,
    UnauthorizedError,
)

logger = logging.getLogger(__name__)


def install_error_handlers(app: FastAPI, retry_after_s: int) -> None:
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
