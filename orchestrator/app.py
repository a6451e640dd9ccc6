"""FastAPI application factory: `uvicorn orchestrator.app:create_app --factory`."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from orchestrator.accounts import routes as accounts
from orchestrator.accounts.service import AccountService, OwnedData
from orchestrator.accounts.throttle import LoginThrottle
from orchestrator.accounts.users import UserRepository
from orchestrator.catalog.store import TrackCatalog
from orchestrator.core.errors import DependencyUnavailableError
from orchestrator.core.logs import configure_logging
from orchestrator.core.settings import Settings, check_production_safety, get_settings
from orchestrator.core.tokens import TokenIssuer
from orchestrator.health import routes as health
from orchestrator.health.readiness import ReadinessService
from orchestrator.http.body_limits import RequestLimitsAndMetrics
from orchestrator.http.errors import install_error_handlers
from orchestrator.http.responses import complete_openapi
from orchestrator.http.security_headers import install_security_headers
from orchestrator.inference.factory import create_backend
from orchestrator.limits.middleware import install_rate_limits
from orchestrator.melodies import job_routes as jobs
from orchestrator.melodies import routes as melodies
from orchestrator.melodies.jobs import GenerationJobRepository
from orchestrator.melodies.progress import ProgressEvents
from orchestrator.melodies.queue import JobQueue
from orchestrator.melodies.service import MelodyService
from orchestrator.moods import history_routes as history
from orchestrator.moods import routes as moods
from orchestrator.moods.events import MoodEventRepository
from orchestrator.moods.face import FaceMoodService, UploadLimits
from orchestrator.moods.fusion import FusedMoodService
from orchestrator.moods.resolver import MoodResolver
from orchestrator.moods.text import TextMoodService
from orchestrator.playlists import routes as playlists_routes
from orchestrator.playlists.repository import PlaylistRepository
from orchestrator.recommendations import routes as recommendations
from orchestrator.recommendations.service import RecommendationService
from orchestrator.spotify import routes as spotify
from orchestrator.spotify.gateway import SpotifyGateway
from orchestrator.spotify.link import SpotifyLinkService
from orchestrator.spotify.oauth import SpotifyApp, SpotifyAuthorizer
from orchestrator.spotify.token_vault import TokenVault, derived_key
from orchestrator.storage.mongo import MongoStore
from orchestrator.storage.objects import ObjectStore
from orchestrator.storage.redis import RedisTimeouts, redis_client

# Multipart framing on top of the image itself.
UPLOAD_OVERHEAD_BYTES = 64 * 1024
# The try-it page (plain HTML, JS modules and CSS; no build step), served at /try/.
WEB_DIRECTORY = Path(__file__).resolve().parent / "web"


def build_spotify(settings: Settings, users: UserRepository) -> SpotifyLinkService:
    key = settings.spotify_token_key
    vault = TokenVault(key.get_secret_value() if key else derived_key(settings.jwt_secret.get_secret_value()))
    if not settings.spotify_client_id:
        return SpotifyLinkService(users, None, None, vault)
    app = SpotifyApp(settings.spotify_client_id, settings.spotify_redirect_uri,
                     settings.spotify_accounts_url.rstrip("/"), tuple(settings.spotify_scopes),
                     settings.spotify_timeout_s)
    authorizer = SpotifyAuthorizer(app, redis_client(settings.redis_url, RedisTimeouts.from_settings(settings)))
    gateway = SpotifyGateway(settings.spotify_api_url, authorizer, settings.spotify_timeout_s,
                             settings.spotify_max_wait_s)
    return SpotifyLinkService(users, authorizer, gateway, vault)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    check_production_safety(settings)
    configure_logging(settings.log_level)
    # One issuer: the accounts service signs with it, the rate limiter verifies callers' tokens with it.
    tokens = TokenIssuer(settings.jwt_secret.get_secret_value(), timedelta(seconds=settings.access_token_ttl_s),
                         timedelta(seconds=settings.refresh_token_ttl_s))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        inference = create_backend(settings)
        await inference.start()
        store = MongoStore.from_settings(settings)
        events = MoodEventRepository(store)
        users = UserRepository(store)
        playlists = PlaylistRepository(store)
        jobs = GenerationJobRepository(store)
        for repository in (events, users, playlists, jobs):
            with contextlib.suppress(DependencyUnavailableError):  # MongoDB may come up later; /readyz says so
                await repository.ensure_indexes()
        app.state.settings = settings
        objects = ObjectStore(settings)
        with contextlib.suppress(DependencyUnavailableError):  # like the indexes: /readyz says when it is missing
            await objects.ensure_bucket()
        app.state.accounts = AccountService(users, tokens, LoginThrottle(settings.login_failures_per_email,
                                                                               settings.login_failures_per_client),
                                            OwnedData(events, playlists, jobs, objects))
        app.state.playlists = playlists
        app.state.jobs = jobs
        face = FaceMoodService(inference, events, UploadLimits(settings.max_upload_bytes, settings.max_image_pixels))
        text = TextMoodService(inference, events, settings.max_text_chars, settings.text_languages)
        app.state.events = events
        app.state.face_mood = face
        app.state.text_mood = text
        app.state.fused_mood = FusedMoodService(face, text, events)
        queue = JobQueue.from_settings(settings)
        progress = ProgressEvents(settings.redis_url, RedisTimeouts.from_settings(settings))
        moods = MoodResolver(events)
        app.state.melodies = MelodyService(jobs, queue, objects, moods, settings.max_active_jobs_per_user)
        app.state.spotify = build_spotify(settings, users)
        catalog = TrackCatalog(store)
        with contextlib.suppress(DependencyUnavailableError):
            await catalog.ensure_indexes()
        app.state.recommendations = RecommendationService(catalog, moods, app.state.spotify, playlists,
                                                          settings.spotify_use_recommendations_endpoint)
        app.state.progress = progress
        app.state.readiness = ReadinessService(inference, store, settings.models, queue, objects,
                                               settings.readiness_timeout_s)
        try:
            yield
        finally:
            await inference.close()
            await store.close()
            await queue.close()
            await progress.close()
            await objects.close()
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
    app.include_router(playlists_routes.router)
    app.include_router(melodies.router)
    app.include_router(jobs.router)
    app.include_router(spotify.router)
    app.include_router(recommendations.router)
    app.mount("/try", StaticFiles(directory=WEB_DIRECTORY, html=True), name="try")
    complete_openapi(app, rate_limited=settings.rate_limit_enabled)

    app.add_middleware(RequestLimitsAndMetrics, max_body_bytes=settings.max_upload_bytes + UPLOAD_OVERHEAD_BYTES,
                       max_json_bytes=settings.max_json_bytes)
    # Outside the body limits: a throttled caller is refused before any of its body is read.
    rate_limiter = install_rate_limits(app, settings, tokens)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_credentials=True,
                           allow_methods=["*"], allow_headers=["Authorization", "Content-Type"])
    install_security_headers(app, settings)  # last added = outermost: every answer above gets them
    return app
