"""Accounts service (normally https://accounts.spotify.com): ``/authorize`` with its consent page, and
``/api/token`` for the authorization-code (with or without PKCE), refresh-token and client-credentials grants.

Test hooks that are not Spotify's: ``/authorize?...&standin_user=<id>`` approves as that user at once and
``&standin_decision=deny`` refuses; otherwise the configured or ``/_control/authorize`` decision applies.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
import time
from collections.abc import Callable, Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.datastructures import QueryParams

from standins.spotify.catalog import SeedUser
from standins.spotify.config import SpotifyStandinConfig
from standins.spotify.deps import StateDep
from standins.spotify.errors import OAuthError
from standins.spotify.shapes import JSON
from standins.spotify.state import AuthCode, StandinState

# https://developer.spotify.com/documentation/web-api/concepts/scopes
KNOWN_SCOPES = frozenset({
    "ugc-image-upload", "user-read-playback-state", "user-modify-playback-state", "user-read-currently-playing",
    "app-remote-control", "streaming", "playlist-read-private", "playlist-read-collaborative",
    "playlist-modify-private", "playlist-modify-public", "user-follow-modify", "user-follow-read",
    "user-read-playback-position", "user-top-read", "user-read-recently-played", "user-library-modify",
    "user-library-read", "user-read-email", "user-read-private", "user-personalized", "user-soa-link",
    "user-soa-unlink", "soa-manage-entitlements", "soa-manage-partner", "soa-create-partner",
})
CODE_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43,128}$")

router = APIRouter()


# https://developer.spotify.com/documentation/web-api/tutorials/code-flow
# https://developer.spotify.com/documentation/web-api/tutorials/code-pkce-flow
@router.get("/authorize")
async def authorize(request: Request, state: StateDep) -> Response:
    """Validates like Spotify (client, exact redirect URI, response_type, PKCE S256, scopes), then decides:
    the query's standin_user/standin_decision (test hooks, not Spotify's), else the configured or
    /_control/authorize decision, else a page on which a person picks an account."""
    config = state.config
    query = request.query_params
    if query.get("client_id") != config.client_id:
        return PlainTextResponse("INVALID_CLIENT: Invalid client", 400)
    redirect_uri = query.get("redirect_uri", "")
    if redirect_uri not in config.redirect_uris:
        return PlainTextResponse("INVALID_CLIENT: Invalid redirect URI", 400)
    state_param = {"state": query["state"]} if "state" in query else {}
    error = _request_error(query)
    if error is not None:
        return _redirect(redirect_uri, {**error, **state_param})

    scopes = _scopes(query)
    user_id = query.get("standin_user") or state.decision_user
    decision = query.get("standin_decision") or ("approve" if query.get("standin_user") else state.decision)
    if decision == "deny":
        return _redirect(redirect_uri, {"error": "access_denied", **state_param})
    if decision == "approve" and user_id is not None:
        if user_id not in state.users:
            return PlainTextResponse(f"no such stand-in user: {user_id}", 400)
        code = "AQ" + secrets.token_urlsafe(96)
        state.codes[code] = AuthCode(config.client_id, redirect_uri, user_id, scopes,
                                     query.get("code_challenge"), time.monotonic() + config.code_ttl_s)
        return _redirect(redirect_uri, {"code": code, **state_param})
    return _consent_page(str(request.url), state.users.values(), scopes)


def _scopes(query: QueryParams) -> frozenset[str]:
    return frozenset(query.get("scope", "").replace(",", " ").split())


def _request_error(query: QueryParams) -> dict[str, str] | None:
    """What Spotify redirects back with for a malformed request (response_type, PKCE, scopes), or None."""
    if query.get("response_type") != "code":
        return {"error": "unsupported_response_type"}
    challenge = query.get("code_challenge")
    method = query.get("code_challenge_method")
    if challenge is not None or method is not None:
        if method != "S256":
            return {"error": "invalid_request", "error_description": "code_challenge_method must be S256"}
        if challenge is None or not CODE_CHALLENGE.match(challenge):
            return {"error": "invalid_request", "error_description": "code_challenge is invalid"}
    if not _scopes(query) <= KNOWN_SCOPES:
        return {"error": "invalid_scope"}
    return None


def _redirect(redirect_uri: str, params: dict[str, str]) -> Response:
    separator = "&" if urlsplit(redirect_uri).query else "?"
    return RedirectResponse(f"{redirect_uri}{separator}{urlencode(params)}", status_code=303)


def _consent_page(url: str, users: Iterable[SeedUser], scopes: frozenset[str]) -> Response:
    """Nobody decided beforehand: a page as a person would see at accounts.spotify.com, whose links come back
    to this URL with the standin_user or standin_decision hook added."""
    choices = "".join(
        f'<li><a href="{html.escape(url + "&" + urlencode({"standin_user": u.id}))}">'
        f"Agree as {html.escape(u.display_name)} ({html.escape(u.id)})</a></li>" for u in users)
    deny = html.escape(url + "&" + urlencode({"standin_decision": "deny"}))
    scope_list = "".join(f"<li>{html.escape(s)}</li>" for s in sorted(scopes)) or "<li>(no scopes)</li>"
    return HTMLResponse(
        "<!doctype html><title>Spotify stand-in: authorize</title><h1>Spotify stand-in</h1>"
        f"<p>An app wants access to your account:</p><ul>{scope_list}</ul>"
        f"<p>Sign in as:</p><ul>{choices}</ul><p><a href=\"{deny}\">Cancel</a></p>")


# https://developer.spotify.com/documentation/web-api/tutorials/code-flow (request an access token)
# https://developer.spotify.com/documentation/web-api/tutorials/code-pkce-flow
# https://developer.spotify.com/documentation/web-api/tutorials/refreshing-tokens
# https://developer.spotify.com/documentation/web-api/tutorials/client-credentials-flow
@router.post("/api/token")
async def token(request: Request, state: StateDep) -> Response:
    form = dict(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))
    confidential = _authenticate_client(form, request.headers.get("authorization", ""), state.config)
    grant = form.get("grant_type")
    if not grant:
        raise OAuthError("unsupported_grant_type", "grant_type parameter is missing")
    answer = _GRANTS.get(grant)
    if answer is None:
        raise OAuthError("unsupported_grant_type",
                         "grant_type must be client_credentials, authorization_code or refresh_token")
    return JSONResponse(answer(state, form, confidential))


def _authenticate_client(form: dict[str, str], authorization: str, config: SpotifyStandinConfig) -> bool:
    """Checks the client id (and secret, when one is sent, in the form or as HTTP Basic); True when the client
    sent a secret (a confidential client), False for a public (PKCE) one."""
    client_id, secret = form.get("client_id"), form.get("client_secret")
    if authorization.lower().startswith("basic "):
        try:
            client_id, _, secret = base64.b64decode(authorization[6:].strip()).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            raise OAuthError("invalid_client", "Invalid client") from None
    if client_id != config.client_id:
        raise OAuthError("invalid_client", "Invalid client")
    confidential = secret is not None
    if confidential and not secrets.compare_digest(secret or "", config.client_secret):
        raise OAuthError("invalid_client", "Invalid client secret")
    return confidential


def _authorization_code_grant(state: StandinState, form: dict[str, str], confidential: bool) -> JSON:
    code, redirect_uri = form.get("code"), form.get("redirect_uri")
    if not code:
        raise OAuthError("invalid_request", "code must be supplied")
    record = state.codes.pop(code, None)  # single use, whatever happens next
    if record is None or record.client_id != state.config.client_id:
        raise OAuthError("invalid_grant", "Invalid authorization code")
    if record.expires_at <= time.monotonic():
        raise OAuthError("invalid_grant", "Authorization code expired")
    if redirect_uri != record.redirect_uri:
        raise OAuthError("invalid_grant", "Invalid redirect URI")
    if record.code_challenge is not None:
        verifier = form.get("code_verifier")
        if not verifier:
            raise OAuthError("invalid_request", "code_verifier required")
        digest = hashlib.sha256(verifier.encode()).digest()
        if base64.urlsafe_b64encode(digest).decode().rstrip("=") != record.code_challenge:
            raise OAuthError("invalid_grant", "code_verifier was incorrect")
    elif not confidential:
        raise OAuthError("invalid_client", "Invalid client secret")
    return state.issue(record.user_id, record.client_id, record.scopes,
                       public_client=record.code_challenge is not None and not confidential)


def _refresh_token_grant(state: StandinState, form: dict[str, str], confidential: bool) -> JSON:
    old = form.get("refresh_token")
    if not old:
        raise OAuthError("invalid_request", "refresh_token must be supplied")
    grant = state.refresh_tokens.get(old)
    if grant is None or grant.client_id != state.config.client_id:
        raise OAuthError("invalid_grant", "Invalid refresh token")
    if not grant.public_client and not confidential:
        raise OAuthError("invalid_client", "Invalid client secret")
    rotate = state.config.rotate_refresh_tokens
    if rotate:
        del state.refresh_tokens[old]
    return state.issue(grant.user_id, grant.client_id, grant.scopes, grant.public_client, with_refresh=rotate)


def _client_credentials_grant(state: StandinState, form: dict[str, str], confidential: bool) -> JSON:
    if not confidential:
        raise OAuthError("invalid_client", "Invalid client secret")
    return state.issue(None, state.config.client_id, frozenset(), public_client=False, with_refresh=False)


_GRANTS: dict[str, Callable[[StandinState, dict[str, str], bool], JSON]] = {
    "authorization_code": _authorization_code_grant,
    "refresh_token": _refresh_token_grant,
    "client_credentials": _client_credentials_grant,
}
