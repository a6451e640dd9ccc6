"""The error answers of the API, documented once: what each status means, its body and its headers.

Routes list the statuses they can answer (`error_responses(401, 404, ...)`), so the OpenAPI schema names every
status a client can get, with the body it then carries (orchestrator/http/errors.py writes them):
`{"detail": "<why>"}`, plus `errors` (each invalid field) on a 422 from request validation and `dependency` on a
503. 429 (rate limits: orchestrator/limits/middleware.py) is added to every limited operation by
complete_openapi; a route lists it itself where the route also refuses with it (login attempts, the melody
quota). The schema-driven fuzzing (tests/stack/test_api_fuzz.py) holds the server to all of it."""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from orchestrator.http.bodies import ErrorOut, UnavailableOut, ValidationErrorOut
from orchestrator.http.paths import HTTP_METHODS, PROBE_ROUTES

Responses = dict[int | str, dict[str, Any]]

_COUNT = {"type": "integer", "minimum": 0}
RETRY_AFTER: dict[str, Any] = {
    "Retry-After": {"description": "Seconds to wait before trying again", "required": True, "schema": _COUNT}}
# On every answer of a limited operation while rate limits are on (the 429s included): the rule closest to refusing.
RATE_LIMIT: dict[str, Any] = {
    "X-RateLimit-Limit": {"description": "Requests allowed in the window", "schema": _COUNT},
    "X-RateLimit-Remaining": {"description": "Requests left in the window", "schema": _COUNT},
    "X-RateLimit-Reset": {"description": "When the next request passes (epoch seconds)", "schema": _COUNT},
}
WWW_AUTHENTICATE: dict[str, Any] = {
    "WWW-Authenticate": {"description": "How to authenticate: `Bearer`", "required": True,
                         "schema": {"type": "string"}}}

_ERRORS: dict[int, tuple[type[BaseModel], str, dict[str, Any]]] = {
    400: (ErrorOut, "The request cannot be read (e.g. a body that is not UTF-8 or JSON, an empty upload)", {}),
    401: (ErrorOut, "Credentials missing, invalid or expired", WWW_AUTHENTICATE),
    403: (ErrorOut, "Refused for this account", {}),
    404: (ErrorOut, "No such item, or not one of yours", {}),
    409: (ErrorOut, "Conflicts with the current state of the item or account", {}),
    413: (ErrorOut, "The body, upload, image or text is larger than its limit", {}),
    415: (ErrorOut, "The upload is not an image we read (JPEG, PNG or WebP)", {}),
    422: (ValidationErrorOut, "Invalid parameters or body: `detail` says which and why", {}),
    429: (ErrorOut, "Too many requests or attempts: retry after Retry-After seconds", {**RETRY_AFTER, **RATE_LIMIT}),
    501: (ErrorOut, "Not configured on this server", {}),
    503: (UnavailableOut, "A dependency (named in `dependency`) is unavailable: retry after Retry-After seconds",
          RETRY_AFTER),
}
# Routes that need an account: the token is checked against the user store (MongoDB), which may be down.
# (A route with a body also gets 400 (complete_openapi) and 413 (http/body_limits.py).)
AUTHENTICATED = (401, 503)
# Security of the mood routes: a token is optional (without one, nothing is stored as the caller's), unless the
# server needs one (MUSEAIKA_ALLOW_ANONYMOUS_MOODS=false: then 401). FastAPI lists the bearer scheme; the empty
# requirement added here (lists are concatenated) says "or none".
OPTIONAL_AUTH: dict[str, Any] = {"security": [{}]}


def error_responses(*codes: int, descriptions: dict[int, str] | None = None) -> Responses:
    """The documented answers for `codes` (each with its model, description and headers); `descriptions`
    words a status for one route."""
    responses: Responses = {}
    for code in sorted(set(codes)):
        model, description, headers = _ERRORS[code]
        entry: dict[str, Any] = {"model": model, "description": (descriptions or {}).get(code, description)}
        if headers:
            entry["headers"] = headers
        responses[code] = entry
    return responses


def link(operation_id: str, parameters: dict[str, str] | None = None, request_body: Any = None) -> dict[str, Any]:
    """One OpenAPI link: the operation a success answer leads to, with values taken from that answer
    (runtime expressions such as `$response.body#/id`, also nested in `request_body`)."""
    definition: dict[str, Any] = {"operationId": operation_id}
    if parameters:
        definition["parameters"] = parameters
    if request_body is not None:
        definition["requestBody"] = request_body
    return definition


def links(**named: dict[str, Any]) -> dict[str, Any]:
    """The `links` of a success answer, by name: `responses={201: links(GetPlaylist=link(...))}`."""
    return {"links": named}


BODY_UNREADABLE: dict[str, Any] = {
    "description": "The body cannot be read (e.g. bytes that are not UTF-8, broken multipart)",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}}
_FASTAPI_VALIDATION = "#/components/schemas/HTTPValidationError"


def _nullable_binary_to_optional(schema: dict[str, Any]) -> None:
    """A multipart file part is sent or left out; it cannot be null (FastAPI writes `UploadFile | None` as
    anyOf [binary, null], and a client that sends "null" gets a 422)."""
    for component in schema.get("components", {}).get("schemas", {}).values():
        for name, field in component.get("properties", {}).items():
            options = field.get("anyOf", [])
            binary = [o for o in options if o.get("format") == "binary" or "contentMediaType" in o]
            if binary and all(o in binary or o == {"type": "null"} for o in options):
                rest = {k: v for k, v in field.items() if k not in ("anyOf", "default")}
                component["properties"][name] = {**binary[0], **rest}


def _error_response(code: int) -> dict[str, Any]:
    """One status of _ERRORS as the schema writes it (what FastAPI makes of error_responses' entries)."""
    model, description, headers = _ERRORS[code]
    response: dict[str, Any] = {"description": description, "content": {"application/json": {
        "schema": {"$ref": f"#/components/schemas/{model.__name__}"}}}}
    if headers:
        response["headers"] = copy.deepcopy(headers)
    return response


def complete_openapi(app: FastAPI, rate_limited: bool) -> None:
    """Answers that FastAPI gives but leaves out of the generated schema, or documents in another shape
    (413 for bodies over the limit: http/body_limits.py):
    - 400 on every operation with a body: FastAPI's answer to a body it cannot parse;
    - our 422 (`detail` + `errors`, http/errors.py) where FastAPI documents its own `HTTPValidationError`;
    - with `rate_limited`, 429 on every operation but the probes (limits/middleware.py): in the generated
      schema rather than on each route, so that none is missed however its router was included."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        schema = build()
        for path, item in schema.get("paths", {}).items():
            for method, operation in item.items():
                if method not in HTTP_METHODS:
                    continue
                responses = operation.setdefault("responses", {})
                if "requestBody" in operation:
                    responses.setdefault("400", BODY_UNREADABLE)
                validation = responses.get("422", {}).get("content", {}).get("application/json", {})
                if validation.get("schema", {}).get("$ref") == _FASTAPI_VALIDATION:
                    responses["422"] = _error_response(422)
                if rate_limited and path not in PROBE_ROUTES:
                    responses.setdefault("429", _error_response(429))
        _nullable_binary_to_optional(schema)
        for unused in ("HTTPValidationError", "ValidationError"):
            schema.get("components", {}).get("schemas", {}).pop(unused, None)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
