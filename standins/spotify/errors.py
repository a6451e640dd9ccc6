"""Errors in the shapes Spotify answers with, and the handlers that make every error leave in them.

- Web API: ``{"error": {"status": ..., "message": ...}}`` (https://developer.spotify.com/documentation/web-api/concepts/api-calls).
- Accounts: ``{"error": "invalid_grant", "error_description": ...}``.
- a Development Mode app used by an account that is not on its allow-list: 403 with the plain-text body
  ``User not registered in the Developer Dashboard`` (not JSON; https://developer.spotify.com/documentation/web-api/concepts/quota-modes).
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from standins.spotify.shapes import JSON

NOT_ALLOW_LISTED = "User not registered in the Developer Dashboard"


class ApiError(Exception):
    """A Web API error: Spotify's error object, or (text) a plain-text body."""

    def __init__(self, status: int, message: str | None, *, headers: dict[str, str] | None = None,
                 text: str | None = None) -> None:
        super().__init__(message or text or str(status))
        self.status = status
        self.message = message
        self.headers = headers or {}
        self.text = text

    def response(self) -> Response:
        if self.text is not None:
            return PlainTextResponse(self.text, self.status, headers=self.headers)
        error: JSON = {"status": self.status}
        if self.message is not None:
            error["message"] = self.message
        return JSONResponse({"error": error}, self.status, headers=self.headers)


class OAuthError(Exception):
    """An Accounts service error: {"error": ..., "error_description": ...}."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status

    def response(self) -> Response:
        return JSONResponse({"error": self.error, "error_description": self.description}, self.status)


def install_error_handlers(app: FastAPI) -> None:
    """Raised ApiError and OAuthError answer in their shapes; Starlette's own errors (unknown path, wrong method,
    a control endpoint's refusal) answer as Web API errors."""
    app.exception_handler(ApiError)(_answer)
    app.exception_handler(OAuthError)(_answer)
    app.exception_handler(StarletteHTTPException)(_http_error)


async def _answer(_: Request, exc: ApiError | OAuthError) -> Response:
    return exc.response()


async def _http_error(_: Request, exc: StarletteHTTPException) -> Response:
    message = {404: "Service not found", 405: "Method not allowed"}.get(exc.status_code, str(exc.detail))
    return ApiError(exc.status_code, message).response()
