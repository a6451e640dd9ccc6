"""Builds the typed services the API and the worker run on, from settings, in one place.

The API's lifespan calls `start_api_services`; the worker's startup calls `start_worker_services`. Routes
reach the API's services through `ServicesDep`, typed, rather than reading `app.state` by name.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from orchestrator.accounts.service import AccountService, OwnedData
from orchestrator.accounts.throttle import LoginThrottle
from orchestrator.accounts.users import UserRepository
from orchestrator.catalog.store import TrackCatalog
from orchestrator.catalog.track_moods import TrackMoodModel
from orchestrator.core.errors import DependencyUnavailableError
from orchestrator.core.settings import Settings
from orchestrator.core.tokens import TokenIssuer
from orchestrator.health.readiness import ReadinessService
from orchestrator.inference.client import InferenceBackend
from orchestrator.inference.factory import create_backend
from orchestrator.melodies.jobs import GenerationJobRepository
from orchestrator.melodies.progress import ProgressEvents
from orchestrator.melodies.queue import JobQueue
from orchestrator.melodies.service import MelodyService
from orchestrator.moods.events import MoodEventRepository
from orchestrator.moods.face import FaceMoodService, UploadLimits
from orchestrator.moods.fusion import FusedMoodService
from orchestrator.moods.resolver import MoodResolver
from orchestrator.moods.text import TextMoodService
from orchestrator.playlists.repository import PlaylistRepository
from orchestrator.playlists.service import PlaylistService
from orchestrator.recommendations.feedback import FeedbackRepository
from orchestrator.recommendations.service import RecommendationService
from orchestrator.spotify.gateway import SpotifyGateway
from orchestrator.spotify.link import SpotifyLinkService
from orchestrator.spotify.oauth import SpotifyApp, SpotifyAuthorizer
from orchestrator.spotify.token_vault import TokenVault, derived_key
from orchestrator.storage.mongo import MongoStore
from orchestrator.storage.objects import ObjectStore
from orchestrator.storage.redis import RedisTimeouts, redis_client

logger = logging.getLogger(__name__)
Close = Callable[[], Awaitable[None]]

if TYPE_CHECKING:
    from orchestrator.melodies.pipeline import MelodyPipeline


@dataclass
class Closers:
    """What was opened, closed in reverse order; one failing close does not keep the others open."""

    closers: list[Close] = field(default_factory=list)

    def add(self, close: Close) -> None:
        self.closers.append(close)

    async def close(self) -> None:
        for close in reversed(self.closers):
            with contextlib.suppress(Exception):
                await close()


@dataclass(frozen=True)
class Services:
    """Everything a route needs, built once per API process."""

    settings: Settings
    accounts: AccountService
    face_mood: FaceMoodService
    text_mood: TextMoodService
    fused_mood: FusedMoodService
    mood_events: MoodEventRepository
    playlists: PlaylistService
    melodies: MelodyService
    progress: ProgressEvents
    spotify: SpotifyLinkService
    recommendations: RecommendationService
    readiness: ReadinessService
    closers: Closers

    async def close(self) -> None:
        await self.closers.close()


@dataclass(frozen=True)
class WorkerServices:
    pipeline: MelodyPipeline
    closers: Closers

    async def close(self) -> None:
        await self.closers.close()


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


async def _ensure_ready(*steps: Callable[[], Awaitable[None]]) -> None:
    # MongoDB or S3 may come up later: /readyz says what is missing, and the call is repeated by the next start.
    for step in steps:
        try:
            await step()
        except DependencyUnavailableError as error:
            logger.warning("not ready at start-up: %s", error)


async def _open_backends(settings: Settings, inference: InferenceBackend, closers: Closers
                         ) -> tuple[InferenceBackend, MongoStore, ObjectStore]:
    """What both processes use: their inference backend (started), MongoDB and the object store."""
    await inference.start()
    closers.add(inference.close)
    store = MongoStore.from_settings(settings)
    closers.add(store.close)
    objects = ObjectStore(settings)
    closers.add(objects.close)
    return inference, store, objects


async def start_api_services(settings: Settings, tokens: TokenIssuer) -> Services:
    closers = Closers()
    inference, store, objects = await _open_backends(settings, create_backend(settings), closers)
    queue = JobQueue.from_settings(settings)
    closers.add(queue.close)
    progress = ProgressEvents(settings.redis_url, RedisTimeouts.from_settings(settings))
    closers.add(progress.close)

    events, users = MoodEventRepository(store), UserRepository(store)
    playlists, jobs = PlaylistRepository(store), GenerationJobRepository(store)
    catalog = TrackCatalog(store, TrackMoodModel.load(settings.track_mood_model))
    feedback = FeedbackRepository(store)
    await _ensure_ready(events.ensure_indexes, users.ensure_indexes, playlists.ensure_indexes, jobs.ensure_indexes,
                        catalog.ensure_indexes, feedback.ensure_indexes, objects.ensure_bucket)

    spotify = build_spotify(settings, users)
    face = FaceMoodService(inference, events, UploadLimits(settings.max_upload_bytes, settings.max_image_pixels))
    text = TextMoodService(inference, events, settings.max_text_chars, settings.text_languages)
    moods = MoodResolver(events, text)
    throttle = LoginThrottle(settings.login_failures_per_email, settings.login_failures_per_client)
    return Services(
        settings=settings,
        accounts=AccountService(users, tokens, throttle, OwnedData(
            {"mood_events": events, "playlists": playlists, "generation_jobs": jobs, "track_feedback": feedback},
            objects)),
        face_mood=face, text_mood=text, fused_mood=FusedMoodService(face, text, events), mood_events=events,
        playlists=PlaylistService(playlists, catalog, moods, spotify),
        melodies=MelodyService(jobs, queue, objects, moods, settings.max_active_jobs_per_user),
        progress=progress, spotify=spotify,
        recommendations=RecommendationService(catalog, moods, spotify, feedback,
                                              settings.spotify_use_recommendations_endpoint),
        readiness=ReadinessService(inference, store, settings.models, queue, objects, settings.readiness_timeout_s),
        closers=closers,
    )


async def start_worker_services(settings: Settings) -> WorkerServices:
    """The worker's own inference backend (the melody model) with MongoDB, S3 and progress events."""
    # Imported here, not at the top: the pipeline brings the audio stack (pretty_midi, soundfile, scipy), which
    # the API process never needs.
    from orchestrator.melodies.pipeline import MelodyPipeline
    from orchestrator.melodies.rendering import PieceRenderer

    closers = Closers()
    renderer = PieceRenderer()
    closers.add(lambda: asyncio.to_thread(renderer.close))
    await asyncio.to_thread(renderer.warm)
    inference, store, objects = await _open_backends(settings, create_backend(
        settings, settings.worker_models, work_dir=settings.embedded_work_dir / "worker"), closers)
    await _ensure_ready(objects.ensure_bucket)  # jobs retry until storage is back
    events = ProgressEvents(settings.redis_url, RedisTimeouts.from_settings(settings))
    closers.add(events.close)
    return WorkerServices(MelodyPipeline(inference, GenerationJobRepository(store), objects, events, renderer),
                          closers)


def get_services(connection: HTTPConnection) -> Services:
    """The API's services, for HTTP routes and WebSockets alike."""
    services: Services = connection.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]
