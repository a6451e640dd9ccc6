"""What a stand-in is configured with: the registered app, its accounts and which of Spotify's rules apply."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from standins.spotify.catalog import SeedUser, default_users
from standins.spotify.shapes import OPEN_URL


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
