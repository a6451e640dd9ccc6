"""Security headers on every HTTP response (pure ASGI: one pass over the response start, no body buffering).

Two Content-Security-Policies:
- everything but the API docs (the try-it page at /try/, the API's JSON): scripts, styles and fonts from this
  origin only, no inline script or style element, no plugins, no framing. The page's images are its own files,
  `blob:` previews of the chosen photo and a `data:` favicon; its player streams the melody from the presigned
  object-storage URL, so that one origin is allowed for media.
- /docs and /redoc (FastAPI's Swagger UI and ReDoc pages): they load their bundles from cdn.jsdelivr.net and
  start them with an inline script (ReDoc: an inline style and Google Fonts, and a blob: web worker), so they
  get a looser policy of their own. Neither page shows anything but the OpenAPI schema.
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orchestrator.core.settings import Settings
from orchestrator.http.paths import route_path

# One year, the value HSTS preload lists ask for; sent only when the public URL is https (settings).
HSTS_MAX_AGE_S = 365 * 24 * 3600
# The try-it page takes a photo with the camera (getUserMedia); nothing else is ever asked for.
PERMISSIONS_POLICY = "camera=(self), microphone=(), geolocation=(), payment=(), usb=()"
DOCS_CDN = "https://cdn.jsdelivr.net"
API_PREFIX = "/v1/"  # answers with user data or tokens: never stored by a browser or proxy cache


def page_policy(media_origins: Iterable[str]) -> str:
    media = " ".join(["'self'", "blob:", *media_origins])
    return "; ".join([
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        f"media-src {media}",
        # 'self' covers ws:/wss: to this host too (CSP level 3): the job progress WebSocket.
        "connect-src 'self'",
        "font-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def docs_policy() -> str:
    return "; ".join([
        "default-src 'none'",
        # FastAPI's Swagger UI page starts the bundle with an inline <script>: unavoidable without our own page.
        f"script-src 'self' {DOCS_CDN} 'unsafe-inline'",
        f"style-src 'self' {DOCS_CDN} https://fonts.googleapis.com 'unsafe-inline'",
        "font-src https://fonts.gstatic.com",
        f"img-src 'self' data: https://fastapi.tiangolo.com {DOCS_CDN}",
        "connect-src 'self'",  # the schema and "Try it out" calls
        "worker-src blob:",  # ReDoc's search worker
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def object_storage_origin(settings: Settings) -> str:
    """Where presigned URLs point: the browser fetches melodies from there."""
    return f"{'https' if settings.s3_secure else 'http'}://{settings.s3_endpoint}"


class SecurityHeaders:
    def __init__(self, app: ASGIApp, media_origins: tuple[str, ...] = (), docs_paths: frozenset[str] = frozenset(),
                 hsts: bool = False) -> None:
        self.app = app
        self.docs_paths = docs_paths
        common = {
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",  # for browsers without CSP frame-ancestors
            "Referrer-Policy": "no-referrer",
            "Cross-Origin-Opener-Policy": "same-origin",
            "Cross-Origin-Resource-Policy": "same-origin",
            "Permissions-Policy": PERMISSIONS_POLICY,
        }
        if hsts:
            common["Strict-Transport-Security"] = f"max-age={HSTS_MAX_AGE_S}"
        self.page_headers = [*common.items(), ("Content-Security-Policy", page_policy(media_origins))]
        self.docs_headers = [*common.items(), ("Content-Security-Policy", docs_policy())]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = route_path(scope)
        chosen = self.docs_headers if path in self.docs_paths else self.page_headers
        no_store = path.startswith(API_PREFIX)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                headers = MutableHeaders(scope=message)
                for name, value in chosen:
                    headers.setdefault(name, value)  # a route that set its own value keeps it
                if no_store:
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install_security_headers(app: FastAPI, settings: Settings) -> None:
    """Outermost of the app's own middleware: also the 413s and CORS answers get the headers."""
    docs = frozenset(p for p in (app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url) if p)
    app.add_middleware(SecurityHeaders, media_origins=(object_storage_origin(settings),), docs_paths=docs,
                       hsts=settings.served_over_https)
