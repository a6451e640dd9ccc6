"""A Web API request's query parameters and JSON body, read as Spotify reads them.

Handlers read these by hand rather than declaring them to FastAPI, so that a bad value answers Spotify's 400
error object (``Invalid limit``, ``Error parsing json``) instead of FastAPI's 422 validation error.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request

from standins.spotify.errors import ApiError


def int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    """The integer query parameter name (default when absent or empty); 400 outside [low, high]."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"Invalid {name}") from None
    if not low <= value <= high:
        raise ApiError(400, f"Invalid {name}")
    return value


def page_params(request: Request, default_limit: int, max_limit: int, max_offset: int = 100_000) -> tuple[int, int]:
    """(limit, offset) of a paged endpoint."""
    return (int_param(request, "limit", default_limit, 1, max_limit),
            int_param(request, "offset", 0, 0, max_offset))


async def json_body(request: Request) -> Any:
    """The parsed JSON body; None when the body is empty."""
    raw = await request.body()
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise ApiError(400, "Error parsing json") from None
