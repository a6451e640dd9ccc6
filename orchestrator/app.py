"""FastAPI application factory: `uvicorn orchestrator.app:create_app --factory`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from orchestrator.accounts import routes as accounts
from orchestrator.core.logs import configure_logging
from orchestrator.core.settings import Settings, check_production_safety, get_settings
from orchestrator.core.tokens import TokenIssuer
from orchestrator.health import routes as health
from orchestrator.http.body_limits import RequestLimitsAndMetrics
from orchestrator.http.errors import UnhandledErrors, install_error_handlers
from orchestrator.http.responses import complete_openapi
from orchestrator.http.security_headers import install_security_headers
from orchestrator.limits.middleware import install_rate_limits
from orchestrator.melodies import routes as melodies
from orchestrator.moods import history_routes as history
from orchestrator.moods import routes as moods
from orchestrator.playlists import routes as playlists
from orchestrator.recommendations import routes as recommendations
from orchestrator.spotify import routes as spotify
from orchestrator.wiring import start_api_services

# Multipart framing on top of the image itself.
UPLOAD_OVERHEAD_BYTES = 64 * 1024
# The try-it page (plain HTML, JS modules and CSS; no build step), served at /try/.
WEB_DIRECTORY = Path(__file__).resolve().parent / "web"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    check_production_safety(settings)
    configure_logging(settings.log_level)
    # One issuer: the accounts service signs with it, the rate limiter verifies callers' tokens with it.
    tokens = TokenIssuer(settings.jwt_secret.get_secret_value(), timedelta(seconds=settings.access_token_ttl_s),
                         timedelta(seconds=settings.refresh_token_ttl_s))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.services = services = await start_api_services(settings, tokens)
        try:
            yield
        finally:
            await services.close()
            if rate_limiter is not None:
                await rate_limiter.close()

    app = FastAPI(
        title="MuseAIka",
        version="0.1.0",
        description="Turns how a person feels into music: a face photo and/or a sentence → emotions → mood.\n\n"
                    "Try the whole flow in a browser at [/try/](/try/): mood from a photo and words, tracks, "
                    "an account, a melody with live progress and the mood history, using only this API.",
        lifespan=lifespan,
    )
    install_error_handlers(app, settings.retry_after_s)
    app.include_router(health.router)
    app.include_router(moods.router)
    app.include_router(history.router)
    app.include_router(accounts.router)
    app.include_router(playlists.router)
    app.include_router(melodies.router)
    app.include_router(spotify.router)
    app.include_router(recommendations.router)
    app.mount("/try", StaticFiles(directory=WEB_DIRECTORY, html=True), name="try")
    complete_openapi(app, rate_limited=settings.rate_limit_enabled)

    app.add_middleware(RequestLimitsAndMetrics, max_body_bytes=settings.max_upload_bytes + UPLOAD_OVERHEAD_BYTES,
                       max_json_bytes=settings.max_json_bytes)
    # Outside the body limits: a throttled caller is refused before any of its body is read.
    rate_limiter = install_rate_limits(app, settings, tokens)
    # Inside CORS and the security headers: a bug's 500 carries both.
    app.add_middleware(UnhandledErrors)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_credentials=True,
                           allow_methods=["*"], allow_headers=["Authorization", "Content-Type"])
    install_security_headers(app, settings)  # last added = outermost: every answer above gets them
    return app
