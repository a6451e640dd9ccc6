"""One FastAPI app serving both Spotify hosts' paths: Accounts (``/authorize``, ``/api/token``, normally
https://accounts.spotify.com) and the Web API (``/v1/...``, normally https://api.spotify.com), plus
``/_control/...`` for tests (fault injection, inspection) which the real service does not have.

Each handler carries the link of its Spotify reference page. Shapes and messages follow those pages and,
where the pages say nothing (error bodies), what Spotify has been seen to answer:

- errors: ``{"error": {"status": ..., "message": ...}}`` (https://developer.spotify.com/documentation/web-api/concepts/api-calls);
  Accounts errors: ``{"error": "invalid_grant", "error_description": ...}``.
- a Development Mode app used by an account that is not on its allow-list: 403 with the plain-text body
  ``User not registered in the Developer Dashboard`` (not JSON; https://developer.spotify.com/documentation/web-api/concepts/quota-modes).
- rate limiting: 429 with ``Retry-After`` in seconds (https://developer.spotify.com/documentation/web-api/concepts/rate-limits).
- since November 2024 new apps get 404 from ``/recommendations`` and 403 from ``/audio-features``, both
  with a message-less error object (https://developer.spotify.com/blog/2024-11-27-changes-to-the-web-api);
  ``legacy_endpoints=True`` answers them as for an app that kept access.
- since February 2026, for Development Mode apps, ``POST /users/{id}/playlists`` and
  ``/playlists/{id}/tracks`` answer 403: playlists are created with ``POST /me/playlists`` and filled with
  ``POST /playlists/{id}/items`` (https://developer.spotify.com/documentation/web-api/tutorials/february-2026-migration-guide).
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from standins.spotify.catalog import (
    BASE62_ID,
    FEATURE_FLOATS,
    FEATURE_INTS,
    TIME_RANGES,
    CatalogTrack,
    Library,
    SeedUser,
    build_library,
    default_users,
    load_tracks,
)
from standins.spotify.seed import BASE62
from standins.spotify.shapes import JSON, OPEN_URL, Shapes

# https://developer.spotify.com/documentation/web-api/concepts/scopes
KNOWN_SCOPES = frozenset({
    "ugc-image-upload", "user-read-playback-state", "user-modify-playback-state", "user-read-currently-playing",
    "app-remote-control", "streaming", "playlist-read-private", "playlist-read-collaborative",
    "playlist-modify-private", "playlist-modify-public", "user-follow-modify", "user-follow-read",
    "user-read-playback-position", "user-top-read", "user-read-recently-played", "user-library-modify",
    "user-library-read", "user-read-email", "user-read-private", "user-personalized", "user-soa-link",
    "user-soa-unlink", "soa-manage-entitlements", "soa-manage-partner", "soa-create-partner",
})
NOT_ALLOW_LISTED = "User not registered in the Developer Dashboard"
CODE_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43,128}$")
SEARCH_TYPES = ("album", "artist", "playlist", "track", "show", "episode", "audiobook")
Decision = Literal["approve", "deny", "ask"]


@dataclass
class SpotifyStandinConfig:
    client_id: str
    client_secret: str
    redirect_uris: list[str]  # registered redirect URIs; /authorize and /api/token want an exact match
    tracks_csv: Path | None = None  # None: the synthetic catalogue (= tests/fixtures/spotify_tracks_small.csv)
    users: list[SeedUser] = field(default_factory=default_users)
    token_ttl_s: float = 3600.0
    code_ttl_s: float = 600.0
    auto_approve_user: str | None = None  # /authorize approves as this user without asking
    allowed_users: list[str] | None = None  # the allow-list; None: no restriction
    development_mode: bool = True  # February 2026 Development Mode rules and shapes; False: Extended Quota Mode
    legacy_endpoints: bool = False  # /recommendations and /audio-features answer (apps with pre-2024 access)
    enforce_scopes: bool = True
    rotate_refresh_tokens: bool = True  # a refresh returns a new refresh token and retires the old one
    open_url: str = OPEN_URL  # base of external_urls.spotify


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


@dataclass
class AuthCode:
    client_id: str
    redirect_uri: str
    user_id: str
    scopes: frozenset[str]
    code_challenge: str | None
    expires_at: float


@dataclass
class AccessToken:
    user_id: str | None  # None: a client-credentials (app) token
    client_id: str
    scopes: frozenset[str]
    expires_at: float


@dataclass
class RefreshToken:
    user_id: str
    client_id: str
    scopes: frozenset[str]
    public_client: bool  # issued through PKCE (no secret needed to refresh)


@dataclass
class PlaylistEntry:
    added_at: str
    added_by: str
    track: CatalogTrack


@dataclass
class Playlist:
    id: str
    owner_id: str
    name: str
    description: str | None
    public: bool
    collaborative: bool
    snapshot_id: str
    created_at: str
    entries: list[PlaylistEntry] = field(default_factory=list)


@dataclass
class Faults:
    rate_limited_calls: int = 0
    retry_after_s: int = 1
    outage: bool = False


class StandinState:
    def __init__(self, config: SpotifyStandinConfig) -> None:
        self.config = config
        tracks = load_tracks(config.tracks_csv)
        self.catalog: dict[str, CatalogTrack] = {track.id: track for track in tracks}
        self.order = [track.id for track in tracks]
        self.users: dict[str, SeedUser] = {user.id: user for user in config.users}
        self.libraries: dict[str, Library] = {user.id: build_library(user, self.catalog, self.order)
                                              for user in config.users}
        if config.auto_approve_user is not None and config.auto_approve_user not in self.users:
            raise ValueError(f"auto_approve_user {config.auto_approve_user!r} is not a configured user")
        self.reset()

    def reset(self) -> None:
        self.codes: dict[str, AuthCode] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.playlists: dict[str, Playlist] = {}
        self.faults = Faults()
        self.allow_list: set[str] | None = (set(self.config.allowed_users)
                                            if self.config.allowed_users is not None else None)
        self.decision: Decision = "approve" if self.config.auto_approve_user else "ask"
        self.decision_user: str | None = self.config.auto_approve_user
        self.request_log: list[JSON] = []

    # --- tokens -----------------------------------------------------------------------------------

    def issue(self, user_id: str | None, client_id: str, scopes: frozenset[str], public_client: bool,
              with_refresh: bool = True) -> JSON:
        access = "BQ" + secrets.token_urlsafe(60)
        self.access_tokens[access] = AccessToken(user_id, client_id, scopes,
                                                 time.monotonic() + self.config.token_ttl_s)
        body: JSON = {"access_token": access, "token_type": "Bearer", "expires_in": int(self.config.token_ttl_s),
                      "scope": " ".join(sorted(scopes))}  # nosec B105  # "Bearer": a token type's name
        if with_refresh and user_id is not None:
            refresh = "AQ" + secrets.token_urlsafe(90)
            self.refresh_tokens[refresh] = RefreshToken(user_id, client_id, scopes, public_client)
            body["refresh_token"] = refresh
        return body

    def authenticate(self, request: Request, *, user: bool = True) -> AccessToken:
        """The request's bearer token, checked as the Web API does (401 missing/invalid/expired, 403 when the
        account is not on a Development Mode app's allow-list)."""
        header = request.headers.get("authorization")
        if not header:
            raise ApiError(401, "No token provided")
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise ApiError(400, "Only valid bearer authentication supported")
        token = self.access_tokens.get(value.strip())
        if token is None:
            raise ApiError(401, "Invalid access token", headers=_www_authenticate("Invalid access token"))
        if token.expires_at <= time.monotonic():
            raise ApiError(401, "The access token expired", headers=_www_authenticate("The access token expired"))
        if token.user_id is not None and self.allow_list is not None and token.user_id not in self.allow_list:
            raise ApiError(403, None, text=NOT_ALLOW_LISTED)
        if user and token.user_id is None:
            raise ApiError(401, "Valid user authentication required")
        return token

    def require_scope(self, token: AccessToken, *scopes: str) -> None:
        """At least one of scopes must have been granted."""
        if self.config.enforce_scopes and not token.scopes.intersection(scopes):
            raise ApiError(403, "Insufficient client scope")

    def user_of(self, token: AccessToken) -> SeedUser:
        assert token.user_id is not None
        return self.users[token.user_id]

    def playlist_for(self, playlist_id: str, token: AccessToken) -> Playlist:
        playlist = self.playlists.get(playlist_id)
        if playlist is None or (not playlist.public and playlist.owner_id != token.user_id
                                and not playlist.collaborative):
            raise ApiError(404, "Resource not found")
        return playlist


def _www_authenticate(description: str) -> dict[str, str]:
    return {"WWW-Authenticate": f'Bearer realm="spotify", error="invalid_token", error_description="{description}"'}


def _now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
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


def _page_params(request: Request, default_limit: int, max_limit: int, max_offset: int = 100_000) -> tuple[int, int]:
    return (_int_param(request, "limit", default_limit, 1, max_limit),
            _int_param(request, "offset", 0, 0, max_offset))


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise ApiError(400, "Error parsing json") from None


# --- search -------------------------------------------------------------------------------------------

_QUERY_TOKEN = re.compile(r'(\w+):"([^"]*)"|(\w+):(\S+)|"([^"]*)"|(\S+)')


def _search_tracks(query: str, tracks: list[CatalogTrack]) -> list[CatalogTrack]:
    """Spotify's query syntax, as far as the catalogue can answer it: free words and "phrases" match the
    track, artist or album name; field filters artist:, track:, album:, year:2019 / year:2015-2020, isrc:.
    Filters on what the catalogue does not have (genre:, tag:, upc:) match nothing."""
    filters: list[tuple[str | None, str]] = []
    for match in _QUERY_TOKEN.finditer(query):
        quoted_field, quoted_value, plain_field, plain_value, phrase, word = match.groups()
        field_name = quoted_field or plain_field
        value = next(v for v in (quoted_value, plain_value, phrase, word) if v is not None)
        if field_name is None and value in {"AND", "OR", "NOT"}:
            continue
        filters.append((field_name.lower() if field_name else None, value.lower()))

    def matches(track: CatalogTrack) -> bool:
        for field_name, value in filters:
            if field_name is None:
                if value not in track.name.lower() and value not in track.artist_name.lower():
                    return False
            elif field_name in ("track", "album"):
                if value not in track.name.lower():
                    return False
            elif field_name == "artist":
                if value not in track.artist_name.lower():
                    return False
            elif field_name == "year":
                low, _, high = value.partition("-")
                try:
                    if not int(low) <= track.year <= int(high or low):
                        return False
                except ValueError:
                    return False
            elif field_name == "isrc":
                if value != track.isrc.lower():
                    return False
            else:
                return False
        return True

    found = [track for track in tracks if matches(track)]
    exact = {value for field_name, value in filters if field_name in (None, "track")}
    return sorted(found, key=lambda t: (t.name.lower() not in exact, -t.popularity))


# --- recommendations (legacy) -----------------------------------------------------------------------

_SCALES = {"tempo": 250.0, "loudness": 60.0, "key": 11.0, "time_signature": 7.0, "popularity": 100.0,
           "duration_ms": 600_000.0}


def _attribute(track: CatalogTrack, name: str) -> float:
    if name == "popularity":
        return float(track.popularity)
    if name == "duration_ms":
        return float(track.duration_ms)
    return float(track.features[name])


def _audio_features(shapes: Shapes, track: CatalogTrack) -> JSON:
    return {**track.features, "analysis_url": f"{shapes.api}/audio-analysis/{track.id}",
            "duration_ms": track.duration_ms, "id": track.id, "track_href": f"{shapes.api}/tracks/{track.id}",
            "type": "audio_features", "uri": track.uri}


# --- control bodies -------------------------------------------------------------------------------------

class RateLimitBody(BaseModel):
    count: int = Field(1, ge=0)
    retry_after_s: int = Field(1, ge=0)


class AllowListBody(BaseModel):
    users: list[str] | None


class OutageBody(BaseModel):
    enabled: bool = True


class AuthorizeBody(BaseModel):
    decision: Decision = "approve"
    user_id: str | None = None


class _Gate:
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
            del self.state.request_log[:-1000]
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


def _cover_svg(object_id: str) -> str:
    digest = hashlib.sha256(object_id.encode()).hexdigest()
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" '
            f'fill="#{digest[:6]}"/><circle cx="32" cy="32" r="18" fill="#{digest[6:12]}"/>'
            f'<circle cx="32" cy="32" r="4" fill="#{digest[12:18]}"/></svg>')


def create_app(config: SpotifyStandinConfig) -> FastAPI:
    state = StandinState(config)
    app = FastAPI(title="Spotify stand-in", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.standin = state
    app.add_middleware(_Gate, state=state)
    # Outermost, so 429 and 503 carry CORS headers too; both Spotify hosts answer browsers (PKCE in a page).
    app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["*"], allow_headers=["*"],
                       expose_headers=["Retry-After"])
    dev = config.development_mode

    def shapes(request: Request) -> Shapes:
        return Shapes(str(request.base_url), dev, config.open_url)

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> Response:
        return exc.response()

    @app.exception_handler(OAuthError)
    async def oauth_error(_: Request, exc: OAuthError) -> Response:
        return JSONResponse({"error": exc.error, "error_description": exc.description}, exc.status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> Response:
        message = {404: "Service not found", 405: "Method not allowed"}.get(exc.status_code, str(exc.detail))
        return ApiError(exc.status_code, message).response()

    # === Accounts service ===============================================================================

    def _redirect(redirect_uri: str, params: dict[str, str]) -> Response:
        separator = "&" if urlsplit(redirect_uri).query else "?"
        return RedirectResponse(f"{redirect_uri}{separator}{urlencode(params)}", status_code=303)

    # https://developer.spotify.com/documentation/web-api/tutorials/code-flow
    # https://developer.spotify.com/documentation/web-api/tutorials/code-pkce-flow
    @app.get("/authorize")
    async def authorize(request: Request) -> Response:
        """Validates like Spotify (client, exact redirect URI, response_type, PKCE S256, scopes), then decides:
        the query's standin_user/standin_decision (test hooks, not Spotify's), else the configured or
        /_control/authorize decision, else a page on which a person picks an account."""
        query = request.query_params
        if query.get("client_id") != config.client_id:
            return PlainTextResponse("INVALID_CLIENT: Invalid client", 400)
        redirect_uri = query.get("redirect_uri", "")
        if redirect_uri not in config.redirect_uris:
            return PlainTextResponse("INVALID_CLIENT: Invalid redirect URI", 400)
        state_param = {"state": query["state"]} if "state" in query else {}
        if query.get("response_type") != "code":
            return _redirect(redirect_uri, {"error": "unsupported_response_type", **state_param})
        challenge = query.get("code_challenge")
        method = query.get("code_challenge_method")
        if challenge is not None or method is not None:
            if method != "S256":
                return _redirect(redirect_uri, {"error": "invalid_request",
                                                "error_description": "code_challenge_method must be S256",
                                                **state_param})
            if challenge is None or not CODE_CHALLENGE.match(challenge):
                return _redirect(redirect_uri, {"error": "invalid_request",
                                                "error_description": "code_challenge is invalid", **state_param})
        scopes = frozenset(query.get("scope", "").replace(",", " ").split())
        if not scopes <= KNOWN_SCOPES:
            return _redirect(redirect_uri, {"error": "invalid_scope", **state_param})

        user_id = query.get("standin_user") or state.decision_user
        decision = query.get("standin_decision") or ("approve" if query.get("standin_user") else state.decision)
        if decision == "deny":
            return _redirect(redirect_uri, {"error": "access_denied", **state_param})
        if decision == "approve" and user_id is not None:
            if user_id not in state.users:
                return PlainTextResponse(f"no such stand-in user: {user_id}", 400)
            code = "AQ" + secrets.token_urlsafe(96)
            state.codes[code] = AuthCode(config.client_id, redirect_uri, user_id, scopes, challenge,
                                         time.monotonic() + config.code_ttl_s)
            return _redirect(redirect_uri, {"code": code, **state_param})
        # Nobody decided beforehand: a consent page, as a person would see at accounts.spotify.com.
        base = str(request.url)
        choices = "".join(
            f'<li><a href="{html.escape(base + "&" + urlencode({"standin_user": u.id}))}">'
            f"Agree as {html.escape(u.display_name)} ({html.escape(u.id)})</a></li>" for u in state.users.values())
        deny = html.escape(base + "&" + urlencode({"standin_decision": "deny"}))
        scope_list = "".join(f"<li>{html.escape(s)}</li>" for s in sorted(scopes)) or "<li>(no scopes)</li>"
        return HTMLResponse(
            "<!doctype html><title>Spotify stand-in: authorize</title><h1>Spotify stand-in</h1>"
            f"<p>An app wants access to your account:</p><ul>{scope_list}</ul>"
            f"<p>Sign in as:</p><ul>{choices}</ul><p><a href=\"{deny}\">Cancel</a></p>")

    # https://developer.spotify.com/documentation/web-api/tutorials/code-flow (request an access token)
    # https://developer.spotify.com/documentation/web-api/tutorials/code-pkce-flow
    # https://developer.spotify.com/documentation/web-api/tutorials/refreshing-tokens
    # https://developer.spotify.com/documentation/web-api/tutorials/client-credentials-flow
    @app.post("/api/token")
    async def token(request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))
        client_id, secret = form.get("client_id"), form.get("client_secret")
        header = request.headers.get("authorization", "")
        if header.lower().startswith("basic "):
            try:
                client_id, _, secret = base64.b64decode(header[6:].strip()).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                raise OAuthError("invalid_client", "Invalid client") from None
        if client_id != config.client_id:
            raise OAuthError("invalid_client", "Invalid client")
        confidential = secret is not None
        if confidential and not secrets.compare_digest(secret or "", config.client_secret):
            raise OAuthError("invalid_client", "Invalid client secret")
        grant = form.get("grant_type")
        if not grant:
            raise OAuthError("unsupported_grant_type", "grant_type parameter is missing")

        if grant == "authorization_code":
            code, redirect_uri = form.get("code"), form.get("redirect_uri")
            if not code:
                raise OAuthError("invalid_request", "code must be supplied")
            record = state.codes.pop(code, None)  # single use, whatever happens next
            if record is None or record.client_id != client_id:
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
            body = state.issue(record.user_id, client_id, record.scopes,
                               public_client=record.code_challenge is not None and not confidential)
            return JSONResponse(body)

        if grant == "refresh_token":
            old = form.get("refresh_token")
            if not old:
                raise OAuthError("invalid_request", "refresh_token must be supplied")
            grant_record = state.refresh_tokens.get(old)
            if grant_record is None or grant_record.client_id != client_id:
                raise OAuthError("invalid_grant", "Invalid refresh token")
            if not grant_record.public_client and not confidential:
                raise OAuthError("invalid_client", "Invalid client secret")
            rotate = config.rotate_refresh_tokens
            if rotate:
                del state.refresh_tokens[old]
            body = state.issue(grant_record.user_id, client_id, grant_record.scopes, grant_record.public_client,
                               with_refresh=rotate)
            return JSONResponse(body)

        if grant == "client_credentials":
            if not confidential:
                raise OAuthError("invalid_client", "Invalid client secret")
            return JSONResponse(state.issue(None, client_id, frozenset(), public_client=False, with_refresh=False))

        raise OAuthError("unsupported_grant_type",
                         "grant_type must be client_credentials, authorization_code or refresh_token")

    # === Web API: users and library =====================================================================

    # https://developer.spotify.com/documentation/web-api/reference/get-current-users-profile
    @app.get("/v1/me")
    async def me(request: Request) -> Response:
        token = state.authenticate(request)
        user = state.user_of(token)
        private = not config.enforce_scopes or "user-read-private" in token.scopes
        return JSONResponse(shapes(request).user(
            user.id, user.display_name, private=True,
            email=user.email if (not config.enforce_scopes or "user-read-email" in token.scopes) else None,
            country=user.country if private else None, product=user.product if private else None))

    # https://developer.spotify.com/documentation/web-api/reference/get-users-saved-tracks
    @app.get("/v1/me/tracks")
    async def saved_tracks(request: Request) -> Response:
        token = state.authenticate(request)
        state.require_scope(token, "user-library-read")
        limit, offset = _page_params(request, 20, 50)
        saved = state.libraries[state.user_of(token).id].saved
        s = shapes(request)
        items = [{"added_at": added_at, "track": s.track(track)} for added_at, track in saved[offset:offset + limit]]
        return JSONResponse(s.paging("/me/tracks", items, len(saved), limit, offset))

    # https://developer.spotify.com/documentation/web-api/reference/get-users-top-artists-and-tracks
    @app.get("/v1/me/top/{kind}")
    async def top_items(kind: str, request: Request) -> Response:
        token = state.authenticate(request)
        if kind not in ("tracks", "artists"):
            raise ApiError(404, "Service not found")
        state.require_scope(token, "user-top-read")
        time_range = request.query_params.get("time_range") or "medium_term"
        if time_range not in TIME_RANGES:
            raise ApiError(400, "Invalid time range")
        limit, offset = _page_params(request, 20, 50)
        s = shapes(request)
        top = state.libraries[state.user_of(token).id].top[time_range]
        items: list[JSON]
        if kind == "tracks":
            items = [s.track(track) for track in top]
        else:
            seen: dict[str, JSON] = {}
            for track in top:
                seen.setdefault(track.artist_id, s.simple_artist_result(track))
            items = list(seen.values())
        return JSONResponse(s.paging(f"/me/top/{kind}", items[offset:offset + limit], len(items), limit, offset,
                                     {"time_range": time_range}))

    # === Web API: catalogue =============================================================================

    # https://developer.spotify.com/documentation/web-api/reference/search
    @app.get("/v1/search")
    async def search(request: Request) -> Response:
        state.authenticate(request, user=False)
        # next/previous links carry the query as "query" and one type each, as Spotify's do.
        query = request.query_params.get("q") or request.query_params.get("query") or ""
        if not query.strip():
            raise ApiError(400, "No search query")
        raw_types = request.query_params.get("type")
        if not raw_types:
            raise ApiError(400, "Missing parameter type")
        types = [t.strip() for t in raw_types.split(",")]
        for kind in types:
            if kind not in SEARCH_TYPES:
                raise ApiError(400, f"Bad search type field {kind}")
        # February 2026, Development Mode: at most 10 results per type, 5 by default (was 50 and 20).
        limit, offset = _page_params(request, 5 if dev else 20, 10 if dev else 50, max_offset=1000)
        s = shapes(request)
        market = {"market": request.query_params["market"]} if "market" in request.query_params else {}
        found = _search_tracks(query, [state.catalog[i] for i in state.order])
        body: JSON = {}
        for kind in types:
            results: list[JSON] = []
            if kind == "track":
                results = [s.track(track) for track in found]
            elif kind == "artist":
                artists: dict[str, JSON] = {}
                for track in found:
                    artists.setdefault(track.artist_id, s.simple_artist_result(track))
                results = list(artists.values())
            body[f"{kind}s"] = s.paging("/search", results[offset:offset + limit], len(results), limit, offset,
                                        {"query": query, "type": kind, **market})
        return JSONResponse(body)

    # https://developer.spotify.com/documentation/web-api/reference/get-track
    @app.get("/v1/tracks/{track_id}")
    async def track(track_id: str, request: Request) -> Response:
        state.authenticate(request, user=False)
        if not BASE62_ID.match(track_id):
            raise ApiError(400, "Invalid base62 id")
        found = state.catalog.get(track_id)
        if found is None:
            raise ApiError(404, "Resource not found")
        return JSONResponse(shapes(request).track(found))

    # https://developer.spotify.com/documentation/web-api/reference/get-recommendations (closed to new apps)
    @app.get("/v1/recommendations")
    async def recommendations(request: Request) -> Response:
        state.authenticate(request, user=False)
        if not config.legacy_endpoints:
            raise ApiError(404, None)
        query = request.query_params
        seeds = {kind: [v for v in (query.get(f"seed_{kind}s") or "").split(",") if v]
                 for kind in ("artist", "genre", "track")}
        count = sum(len(v) for v in seeds.values())
        if count == 0:
            raise ApiError(400, "At least one seed must be provided")
        if count > 5:
            raise ApiError(400, "Number of seeds must not exceed 5")
        limit = _int_param(request, "limit", 20, 1, 100)
        seed_tracks = [state.catalog[t] for t in seeds["track"] if t in state.catalog]
        names = [*FEATURE_FLOATS, *FEATURE_INTS, "popularity", "duration_ms"]
        targets: dict[str, float] = {}
        bounds: dict[str, tuple[float, float]] = {}
        for name in names:
            try:
                if f"target_{name}" in query:
                    targets[name] = float(query[f"target_{name}"])
                low = float(query.get(f"min_{name}", "-inf"))
                high = float(query.get(f"max_{name}", "inf"))
            except ValueError:
                raise ApiError(400, f"Invalid value for {name}") from None
            bounds[name] = (low, high)
        if seed_tracks:
            for name in ("valence", "energy", "danceability"):
                targets.setdefault(name, sum(_attribute(t, name) for t in seed_tracks) / len(seed_tracks))
        seed_ids = {t.id for t in seed_tracks}
        pool = [t for t in (state.catalog[i] for i in state.order) if t.id not in seed_ids
                and all(low <= _attribute(t, n) <= high for n, (low, high) in bounds.items())]
        if seeds["artist"]:
            pool.sort(key=lambda t: t.artist_id not in seeds["artist"])

        def distance(t: CatalogTrack) -> float:
            return sum(abs(_attribute(t, n) - v) / _SCALES.get(n, 1.0) for n, v in targets.items())

        chosen = sorted(pool, key=distance)[:limit]
        s = shapes(request)
        seed_objects = [{"afterFilteringSize": len(pool), "afterRelinkingSize": len(pool), "href": None,
                         "id": value, "initialPoolSize": len(state.order), "type": kind.upper()}
                        for kind, values in seeds.items() for value in values]
        return JSONResponse({"seeds": seed_objects, "tracks": [s.track(t) for t in chosen]})

    # https://developer.spotify.com/documentation/web-api/reference/get-several-audio-features (closed to new apps)
    @app.get("/v1/audio-features")
    async def audio_features(request: Request) -> Response:
        state.authenticate(request, user=False)
        if not config.legacy_endpoints:
            raise ApiError(403, None)
        ids = [i for i in (request.query_params.get("ids") or "").split(",") if i]
        if not ids or len(ids) > 100:
            raise ApiError(400, "invalid request")
        s = shapes(request)
        return JSONResponse({"audio_features": [_audio_features(s, state.catalog[i]) if i in state.catalog else None
                                                for i in ids]})

    # https://developer.spotify.com/documentation/web-api/reference/get-audio-features (closed to new apps)
    @app.get("/v1/audio-features/{track_id}")
    async def audio_feature(track_id: str, request: Request) -> Response:
        state.authenticate(request, user=False)
        if not config.legacy_endpoints:
            raise ApiError(403, None)
        found = state.catalog.get(track_id)
        if found is None:
            raise ApiError(404, "analysis not found")
        return JSONResponse(_audio_features(shapes(request), found))

    # === Web API: playlists =============================================================================

    def playlist_object(s: Shapes, playlist: Playlist, full: bool) -> JSON:
        owner = state.users[playlist.owner_id]
        key = "items" if dev else "tracks"
        if full:
            contents = s.paging(f"/playlists/{playlist.id}/items" if dev else f"/playlists/{playlist.id}/tracks",
                                [entry_object(s, e) for e in playlist.entries[:100]], len(playlist.entries), 100, 0)
        else:
            contents = {"href": f"{s.api}/playlists/{playlist.id}/{key}", "total": len(playlist.entries)}
        obj: JSON = {
            "collaborative": playlist.collaborative,
            "description": playlist.description,
            "external_urls": s.external("playlist", playlist.id),
            "href": f"{s.api}/playlists/{playlist.id}",
            "id": playlist.id,
            "images": [],
            "name": playlist.name,
            "owner": s.owner(owner.id, owner.display_name),
            "primary_color": None,
            "public": playlist.public,
            "snapshot_id": playlist.snapshot_id,
            key: contents,
            "type": "playlist",
            "uri": f"spotify:playlist:{playlist.id}",
        }
        if full:
            obj["followers"] = {"href": None, "total": 0}
        return obj

    def entry_object(s: Shapes, entry: PlaylistEntry) -> JSON:
        adder = state.users[entry.added_by]
        return {"added_at": entry.added_at, "added_by": s.owner(adder.id, adder.display_name), "is_local": False,
                "primary_color": None, "video_thumbnail": {"url": None},
                ("item" if dev else "track"): s.track(entry.track)}

    async def create_playlist(request: Request, token: AccessToken) -> Response:
        body = await _json_body(request)
        if not isinstance(body, dict) or not isinstance(body.get("name"), str) or not body["name"].strip():
            raise ApiError(400, "Missing required field: name")
        public = body.get("public", True)
        collaborative = bool(body.get("collaborative", False))
        if public is None:
            public = True
        if not isinstance(public, bool):
            raise ApiError(400, "Invalid value for public")
        if collaborative and public:
            raise ApiError(400, "Collaborative playlists can only be private.")
        state.require_scope(token, "playlist-modify-public" if public else "playlist-modify-private")
        description = body.get("description")
        playlist = Playlist(id="".join(secrets.choice(BASE62) for _ in range(22)),
                            owner_id=state.user_of(token).id, name=body["name"],
                            description=description if isinstance(description, str) and description else None,
                            public=public, collaborative=collaborative, snapshot_id=_snapshot(),
                            created_at=_now_iso())
        state.playlists[playlist.id] = playlist
        return JSONResponse(playlist_object(shapes(request), playlist, full=True), 201)

    # https://developer.spotify.com/documentation/web-api/reference/create-playlist (POST /me/playlists)
    @app.post("/v1/me/playlists")
    async def create_my_playlist(request: Request) -> Response:
        return await create_playlist(request, state.authenticate(request))

    # https://developer.spotify.com/documentation/web-api/tutorials/february-2026-migration-guide
    # (POST /users/{user_id}/playlists: removed for Development Mode apps; it answers 403)
    @app.post("/v1/users/{user_id}/playlists")
    async def create_user_playlist(user_id: str, request: Request) -> Response:
        token = state.authenticate(request)
        if user_id != token.user_id:
            raise ApiError(403, "You cannot create a playlist for another user")
        if dev:
            raise ApiError(403, "Forbidden")
        return await create_playlist(request, token)

    # https://developer.spotify.com/documentation/web-api/reference/get-a-list-of-current-users-playlists
    @app.get("/v1/me/playlists")
    async def my_playlists(request: Request) -> Response:
        token = state.authenticate(request)
        limit, offset = _page_params(request, 20, 50)
        can_private = not config.enforce_scopes or "playlist-read-private" in token.scopes
        mine = [p for p in reversed(state.playlists.values())
                if p.owner_id == token.user_id and (p.public or p.collaborative or can_private)]
        s = shapes(request)
        return JSONResponse(s.paging("/me/playlists", [playlist_object(s, p, full=False)
                                                       for p in mine[offset:offset + limit]],
                                     len(mine), limit, offset))

    # https://developer.spotify.com/documentation/web-api/reference/get-playlist
    @app.get("/v1/playlists/{playlist_id}")
    async def get_playlist(playlist_id: str, request: Request) -> Response:
        token = state.authenticate(request, user=False)
        return JSONResponse(playlist_object(shapes(request), state.playlist_for(playlist_id, token), full=True))

    async def list_items(playlist_id: str, request: Request) -> Response:
        token = state.authenticate(request, user=False)
        playlist = state.playlist_for(playlist_id, token)
        if dev and token.user_id != playlist.owner_id and not playlist.collaborative:
            # February 2026: only for playlists the user owns or collaborates on.
            raise ApiError(403, "Forbidden")
        limit, offset = _page_params(request, 20, 50)
        s = shapes(request)
        items = [entry_object(s, e) for e in playlist.entries[offset:offset + limit]]
        path = f"/playlists/{playlist_id}/items" if dev else request.url.path.removeprefix("/v1")
        return JSONResponse(s.paging(path, items, len(playlist.entries), limit, offset))

    async def add_items(playlist_id: str, request: Request) -> Response:
        token = state.authenticate(request)
        playlist = state.playlist_for(playlist_id, token)
        body = await _json_body(request)
        position: Any = request.query_params.get("position")
        uris: Any = None
        if request.query_params.get("uris"):
            uris = request.query_params["uris"].split(",")  # query wins over the body, as documented
        elif isinstance(body, list):
            uris = body  # spotipy's playlist_add_items sends a bare JSON array
        elif isinstance(body, dict):
            uris = body.get("uris")
            position = body.get("position", position)
        if not isinstance(uris, list) or not uris or not all(isinstance(u, str) for u in uris):
            raise ApiError(400, "No uris provided")
        if len(uris) > 100:
            raise ApiError(400, "You can add a maximum of 100 tracks per request.")
        if playlist.owner_id != token.user_id and not playlist.collaborative:
            raise ApiError(403, "You cannot add tracks to a playlist you don't own.")
        state.require_scope(token, "playlist-modify-public" if playlist.public else "playlist-modify-private")
        tracks: list[CatalogTrack] = []
        for uri in uris:
            kind, _, track_id = uri.strip().removeprefix("spotify:").partition(":")
            if not uri.startswith("spotify:") or kind not in ("track", "episode") or not BASE62_ID.match(track_id):
                raise ApiError(400, f"Invalid track uri: {uri}")
            if kind != "track" or track_id not in state.catalog:
                raise ApiError(400, "Payload contains a non-existing ID")
            tracks.append(state.catalog[track_id])
        if position is None or position == "":
            at = len(playlist.entries)
        else:
            try:
                at = int(position)
            except (TypeError, ValueError):
                raise ApiError(400, "Invalid position") from None
            if not 0 <= at <= len(playlist.entries):
                raise ApiError(400, "Index out of bounds")
        added_at = _now_iso()
        assert token.user_id is not None
        playlist.entries[at:at] = [PlaylistEntry(added_at, token.user_id, t) for t in tracks]
        playlist.snapshot_id = _snapshot()
        return JSONResponse({"snapshot_id": playlist.snapshot_id}, 201)

    # https://developer.spotify.com/documentation/web-api/reference/get-playlists-items
    @app.get("/v1/playlists/{playlist_id}/items")
    async def get_items(playlist_id: str, request: Request) -> Response:
        return await list_items(playlist_id, request)

    # https://developer.spotify.com/documentation/web-api/reference/add-items-to-playlist
    @app.post("/v1/playlists/{playlist_id}/items")
    async def post_items(playlist_id: str, request: Request) -> Response:
        return await add_items(playlist_id, request)

    # https://developer.spotify.com/documentation/web-api/tutorials/february-2026-migration-guide
    # (/playlists/{id}/tracks renamed /playlists/{id}/items; the old path answers 403 for Development Mode apps)
    @app.get("/v1/playlists/{playlist_id}/tracks")
    async def get_tracks_old(playlist_id: str, request: Request) -> Response:
        state.authenticate(request, user=False)
        if dev:
            raise ApiError(403, "Forbidden")
        return await list_items(playlist_id, request)

    @app.post("/v1/playlists/{playlist_id}/tracks")
    async def post_tracks_old(playlist_id: str, request: Request) -> Response:
        state.authenticate(request)
        if dev:
            raise ApiError(403, "Forbidden")
        return await add_items(playlist_id, request)

    # === not Spotify: album covers for the synthetic catalogue ==============================================

    @app.get("/_standin/cover/{name}")
    async def cover(name: str) -> Response:
        return Response(_cover_svg(name.removesuffix(".svg")), media_type="image/svg+xml")

    # === not Spotify: control endpoints for tests ==========================================================

    @app.get("/_control/health")
    async def health() -> JSON:
        return {"status": "ok", "development_mode": dev, "tracks": len(state.catalog), "users": list(state.users)}

    @app.post("/_control/rate-limit")
    async def rate_limit(body: RateLimitBody) -> JSON:
        """The next `count` Web API calls answer 429 with Retry-After: retry_after_s."""
        state.faults.rate_limited_calls = body.count
        state.faults.retry_after_s = body.retry_after_s
        return {"rate_limited_calls": body.count, "retry_after_s": body.retry_after_s}

    @app.post("/_control/expire-tokens")
    async def expire_tokens() -> JSON:
        """Every access token issued so far answers 401 "The access token expired" from now on."""
        now = time.monotonic()
        for access in state.access_tokens.values():
            access.expires_at = min(access.expires_at, now)
        return {"expired": len(state.access_tokens)}

    @app.post("/_control/revoke-refresh-tokens")
    async def revoke_refresh_tokens() -> JSON:
        """Every refresh token answers invalid_grant from now on (the user removed the app's access)."""
        count = len(state.refresh_tokens)
        state.refresh_tokens.clear()
        return {"revoked": count}

    @app.get("/_control/allow-list")
    async def get_allow_list() -> JSON:
        return {"users": sorted(state.allow_list) if state.allow_list is not None else None}

    @app.put("/_control/allow-list")
    async def put_allow_list(body: AllowListBody) -> JSON:
        """Accounts not on the list get 403 on every Web API call; null lifts the restriction."""
        state.allow_list = set(body.users) if body.users is not None else None
        return {"users": sorted(state.allow_list) if state.allow_list is not None else None}

    @app.post("/_control/outage")
    async def outage(body: OutageBody) -> JSON:
        """While enabled every non-control path answers 503."""
        state.faults.outage = body.enabled
        return {"outage": body.enabled}

    @app.post("/_control/authorize")
    async def authorize_policy(body: AuthorizeBody) -> JSON:
        """How /authorize decides from now on: approve as user_id, deny (error=access_denied), or ask (page)."""
        if body.decision == "approve" and (body.user_id is None or body.user_id not in state.users):
            raise StarletteHTTPException(400, "approve needs the user_id of a configured user")
        state.decision, state.decision_user = body.decision, body.user_id
        return {"decision": body.decision, "user_id": body.user_id}

    @app.post("/_control/reset")
    async def reset() -> JSON:
        """Back to the configured state: no faults, no playlists, no tokens or codes, configured allow-list and
        authorize decision, empty request log."""
        state.reset()
        return {"status": "reset"}

    @app.get("/_control/playlists")
    async def control_playlists() -> JSON:
        return {"playlists": [{"id": p.id, "owner_id": p.owner_id, "name": p.name, "description": p.description,
                               "public": p.public, "collaborative": p.collaborative, "snapshot_id": p.snapshot_id,
                               "created_at": p.created_at, "uris": [e.track.uri for e in p.entries]}
                              for p in state.playlists.values()]}

    @app.get("/_control/requests")
    async def control_requests() -> JSON:
        """Non-control requests so far (method, path, query, status), oldest first, the last 1000."""
        return {"requests": state.request_log}

    @app.get("/_control/users")
    async def control_users() -> JSON:
        return {"users": [{"id": u.id, "display_name": u.display_name, "email": u.email, "country": u.country,
                           "product": u.product, "saved_tracks": len(state.libraries[u.id].saved),
                           "allowed": state.allow_list is None or u.id in state.allow_list}
                          for u in state.users.values()]}

    return app



def _snapshot() -> str:
    return base64.b64encode(secrets.token_bytes(24)).decode()
