"""Bodies of the Spotify link routes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class SpotifyLoginOut(BaseModel):
    authorize_url: str = Field(description="Open in the user's browser; Spotify returns to /v1/spotify/callback")


class SpotifyLinkOut(BaseModel):
    linked: bool
    spotify_user_id: str | None = None
    display_name: str | None = None
    scope: str | None = None
    linked_at: datetime | None = None
