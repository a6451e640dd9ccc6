"""Dependencies injected into routes (built once in the app's lifespan, kept on app.state)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from orchestrator.accounts.service import AccountService
from orchestrator.core.errors import UnauthorizedError
from orchestrator.core.settings import Settings
from orchestrator.health.readiness import ReadinessService
from orchestrator.melodies.jobs import GenerationJobRepository
from orchestrator.melodies.service import MelodyService
from orchestrator.moods.events import MoodEventRepository
from orchestrator.moods.face import FaceMoodService
from orchestrator.moods.fusion import FusedMoodService
from orchestrator.moods.text import TextMoodService
from orchestrator.playlists.repository import PlaylistRepository
from orchestrator.recommendations.service import RecommendationService
from orchestrator.spotify.link import SpotifyLinkService


def _from_state(attribute: str) -> Callable[[Request], Any]:
    def dependency(request: Request) -> Any:
        return getattr(request.app.state, attribute)

    return dependency


SettingsDep = Annotated[Settings, Depends(_from_state("settings"))]
FaceMoodDep = Annotated[FaceMoodService, Depends(_from_state("face_mood"))]
TextMoodDep = Annotated[TextMoodService, Depends(_from_state("text_mood"))]
FusedMoodDep = Annotated[FusedMoodService, Depends(_from_state("fused_mood"))]
MoodEventsDep = Annotated[MoodEventRepository, Depends(_from_state("events"))]
PlaylistsDep = Annotated[PlaylistRepository, Depends(_from_state("playlists"))]
JobsDep = Annotated[GenerationJobRepository, Depends(_from_state("jobs"))]
MelodiesDep = Annotated[MelodyService, Depends(_from_state("melodies"))]
SpotifyDep = Annotated[SpotifyLinkService, Depends(_from_state("spotify"))]
RecommendationsDep = Annotated[RecommendationService, Depends(_from_state("recommendations"))]
AccountsDep = Annotated[AccountService, Depends(_from_state("accounts"))]
ReadinessDep = Annotated[ReadinessService, Depends(_from_state("readiness"))]

_bearer = OAuth2PasswordBearer(tokenUrl="/v1/auth/token", auto_error=False)
User = dict[str, Any]


async def optional_user(accounts: AccountsDep, settings: SettingsDep,
                        token: Annotated[str | None, Depends(_bearer)]) -> User | None:
    """The caller's account when a token is sent (a bad token is a 401, never silently anonymous)."""
    if token is None:
        if not settings.allow_anonymous_moods:
            raise UnauthorizedError("this server needs a token for mood calls")
        return None
    return await accounts.authenticate(token)


async def current_user(accounts: AccountsDep, token: Annotated[str | None, Depends(_bearer)]) -> User:
    if token is None:
        raise UnauthorizedError("not authenticated")
    return await accounts.authenticate(token)


OptionalUserDep = Annotated[User | None, Depends(optional_user)]
CurrentUserDep = Annotated[User, Depends(current_user)]


def owner_of(user: User | None) -> str | None:
    return str(user["_id"]) if user else None
