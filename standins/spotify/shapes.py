"""JSON objects in the Web API's shapes.

Object model: https://developer.spotify.com/documentation/web-api/reference/get-track (track object),
https://developer.spotify.com/documentation/web-api/reference/get-current-users-profile (user object),
https://developer.spotify.com/documentation/web-api/reference/get-playlist (playlist object),
https://developer.spotify.com/documentation/web-api/concepts/api-calls (paging, errors).

``development_mode`` applies the February 2026 changes for Development Mode apps
(https://developer.spotify.com/documentation/web-api/tutorials/february-2026-migration-guide): the user
object loses country, email, explicit_content, followers and product; tracks and albums lose
available_markets and popularity; a playlist's ``tracks`` becomes ``items`` and each playlist entry's
``track`` becomes ``item``. Extended Quota Mode apps keep the older shapes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from standins.spotify.catalog import CatalogTrack

JSON = dict[str, Any]
MARKETS = ["DE", "ES", "FR", "GB", "NL", "SE", "US"]
OPEN_URL = "https://open.spotify.com"


class Shapes:
    """Builds objects whose hrefs point at this stand-in (``api_base``, e.g. http://127.0.0.1:8123)."""

    def __init__(self, api_base: str, development_mode: bool, open_url: str = OPEN_URL) -> None:
        self.api = api_base.rstrip("/") + "/v1"
        self.base = api_base.rstrip("/")
        self.dev = development_mode
        self.open_url = open_url.rstrip("/")

    def external(self, kind: str, object_id: str) -> JSON:
        return {"spotify": f"{self.open_url}/{kind}/{object_id}"}

    def images(self, object_id: str) -> list[JSON]:
        # Served by the stand-in itself (/_standin/cover/...), so a demo page has something to show offline.
        return [{"url": f"{self.base}/_standin/cover/{object_id}.svg?size={size}", "height": size, "width": size}
                for size in (640, 300, 64)]

    def artist(self, track: CatalogTrack) -> JSON:
        return {
            "external_urls": self.external("artist", track.artist_id),
            "href": f"{self.api}/artists/{track.artist_id}",
            "id": track.artist_id,
            "name": track.artist_name,
            "type": "artist",
            "uri": f"spotify:artist:{track.artist_id}",
        }

    def album(self, track: CatalogTrack) -> JSON:
        album: JSON = {
            "album_type": "single",
            "total_tracks": 1,
            "available_markets": MARKETS,
            "external_urls": self.external("album", track.album_id),
            "href": f"{self.api}/albums/{track.album_id}",
            "id": track.album_id,
            "images": self.images(track.album_id),
            "name": track.name,
            "release_date": str(track.year),
            "release_date_precision": "year",
            "type": "album",
            "uri": f"spotify:album:{track.album_id}",
            "artists": [self.artist(track)],
            "is_playable": True,
        }
        if self.dev:
            del album["available_markets"]
        return album

    def track(self, track: CatalogTrack) -> JSON:
        obj: JSON = {
            "album": self.album(track),
            "artists": [self.artist(track)],
            "available_markets": MARKETS,
            "disc_number": 1,
            "duration_ms": track.duration_ms,
            "explicit": track.explicit,
            "external_ids": {"isrc": track.isrc},
            "external_urls": self.external("track", track.id),
            "href": f"{self.api}/tracks/{track.id}",
            "id": track.id,
            "is_playable": True,
            "name": track.name,
            "popularity": track.popularity,
            "preview_url": None,  # no longer returned since November 2024
            "track_number": 1,
            "type": "track",
            "uri": track.uri,
            "is_local": False,
        }
        if self.dev:
            del obj["available_markets"], obj["popularity"]
        return obj

    def simple_artist_result(self, track: CatalogTrack) -> JSON:
        """A full artist object (search type=artist)."""
        obj = self.artist(track)
        obj.update({"genres": [], "images": self.images(track.artist_id),
                    "followers": {"href": None, "total": 1000 + track.popularity * 37},
                    "popularity": track.popularity})
        if self.dev:
            del obj["followers"], obj["popularity"]
        return obj

    def user(self, user_id: str, display_name: str, *, email: str | None = None, country: str | None = None,
             product: str | None = None, private: bool = False) -> JSON:
        """A user object; ``private`` adds what user-read-private / user-read-email grant (outside development
        mode), given as the non-None keyword arguments."""
        obj: JSON = {
            "display_name": display_name,
            "external_urls": self.external("user", user_id),
            "followers": {"href": None, "total": 0},
            "href": f"{self.api}/users/{user_id}",
            "id": user_id,
            "images": [],
            "type": "user",
            "uri": f"spotify:user:{user_id}",
        }
        if private and not self.dev:
            if country is not None:
                obj["country"] = country
                obj["explicit_content"] = {"filter_enabled": False, "filter_locked": False}
            if product is not None:
                obj["product"] = product
            if email is not None:
                obj["email"] = email
        if self.dev:
            del obj["followers"]
        return obj

    def owner(self, user_id: str, display_name: str) -> JSON:
        obj = self.user(user_id, display_name)
        obj.pop("images", None)
        obj.pop("followers", None)
        return obj

    def paging(self, path: str, items: Sequence[JSON], total: int, limit: int, offset: int,
               params: dict[str, str] | None = None) -> JSON:
        """Spotify's paging object; next/previous are absolute URLs (spotipy's next() follows them)."""

        def url(at: int) -> str:
            return f"{self.api}{path}?{urlencode({**(params or {}), 'offset': at, 'limit': limit})}"

        return {
            "href": url(offset),
            "items": list(items),
            "limit": limit,
            "next": url(offset + limit) if offset + limit < total else None,
            "offset": offset,
            "previous": url(max(0, offset - limit)) if offset > 0 else None,
            "total": total,
        }
