"""The stand-in's catalogue (tracks from a features CSV) and its seeded users.

Track rows carry only an artist name, a title, an id, popularity, a year and audio features; the Web API's
track object needs more (artist and album ids, an album). Those are derived deterministically: an artist's
id from its name, and every track sits on a single of the same name released in its row's year
(``album_type: "single"``, ``release_date_precision: "year"``), which is what the row can honestly say.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from standins.spotify.seed import BASE62, synthetic_csv

BASE62_ID = re.compile(r"^[0-9A-Za-z]{22}$")
FEATURE_FLOATS = ("danceability", "energy", "loudness", "speechiness", "acousticness", "instrumentalness",
                  "liveness", "valence", "tempo")
FEATURE_INTS = ("key", "mode", "time_signature")
TIME_RANGES = ("short_term", "medium_term", "long_term")


def derived_id(text: str) -> str:
    """A stable 22-character base62 id for a derived object (artist, album)."""
    number = int.from_bytes(hashlib.sha256(text.encode()).digest(), "big")
    chars = []
    for _ in range(22):
        number, digit = divmod(number, 62)
        chars.append(BASE62[digit])
    return "".join(chars)


@dataclass(frozen=True)
class CatalogTrack:
    id: str
    name: str
    artist_name: str
    artist_id: str
    album_id: str
    popularity: int
    year: int
    duration_ms: int
    explicit: bool
    isrc: str
    features: dict[str, float | int]

    @property
    def uri(self) -> str:
        return f"spotify:track:{self.id}"


def parse_tracks_csv(text: str) -> list[CatalogTrack]:
    """Rows of the common Spotify-features layout (see standins.spotify.seed) → catalogue tracks."""
    tracks: list[CatalogTrack] = []
    seen: set[str] = set()
    for line_number, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        raw_id = (row.get("track_id") or "").strip()
        track_id = raw_id.removeprefix("spotify:track:")
        if not BASE62_ID.match(track_id):
            raise ValueError(f"line {line_number}: track_id {raw_id!r} is not a Spotify track id or URI")
        if track_id in seen:
            continue
        seen.add(track_id)
        artist = row["artist"].strip()
        features: dict[str, float | int] = {name: float(row[name]) for name in FEATURE_FLOATS}
        features.update({name: int(float(row[name])) for name in FEATURE_INTS})
        digest = hashlib.sha256(track_id.encode()).digest()
        tracks.append(CatalogTrack(
            id=track_id,
            name=row["track"].strip(),
            artist_name=artist,
            artist_id=derived_id(f"artist:{artist}"),
            album_id=derived_id(f"album:{track_id}"),
            popularity=int(float(row.get("popularity") or 0)),
            year=int(float(row.get("year") or 2000)),
            duration_ms=int(float(row["duration_ms"])),
            # The layout has no explicit flag; about one track in eight is marked, deterministically.
            explicit=digest[0] < 32,
            isrc=f"QZ{'ABCDEFGHJK'[digest[1] % 10]}{digest[2] % 100:02d}{int(row.get('year') or 0) % 100:02d}"
                 f"{int.from_bytes(digest[3:6], 'big') % 100000:05d}",
            features=features,
        ))
    if not tracks:
        raise ValueError("the tracks CSV has no rows")
    return tracks


def load_tracks(path: Path | None) -> list[CatalogTrack]:
    """The CSV at path, or (None) the synthetic catalogue that tests/fixtures/spotify_tracks_small.csv holds."""
    return parse_tracks_csv(path.read_text(encoding="utf-8") if path is not None else synthetic_csv())


@dataclass
class SeedUser:
    """A Spotify account of the stand-in. Saved and top tracks are track ids; None derives them from the
    user's id (a stable, user-specific sample of the catalogue)."""

    id: str
    display_name: str
    email: str
    country: str = "SE"
    product: str = "premium"  # "premium" | "free" | "open"
    saved_tracks: list[str] | None = None
    top_tracks: dict[str, list[str]] | None = None  # time_range → ids, most listened first
    saved_count: int = 30
    top_count: int = 25

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SeedUser:
        known = {"id", "display_name", "email", "country", "product", "saved_tracks", "top_tracks", "saved_count",
                 "top_count"}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown user fields: {sorted(unknown)}")
        return cls(**data)


def default_users() -> list[SeedUser]:
    return [
        SeedUser("museaika-ada", "Ada Listener", "ada@example.test", "SE", "premium", saved_count=45),
        SeedUser("museaika-bo", "Bo Tester", "bo@example.test", "DE", "free", saved_count=12, top_count=10),
        SeedUser("museaika-cy", "Cy Newcomer", "cy@example.test", "US", "premium", saved_count=0, top_count=0),
    ]


def load_users(path: Path) -> list[SeedUser]:
    """A JSON list of objects with SeedUser's fields."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, list) or not data:
        raise ValueError(f"{path}: expected a non-empty JSON list of users")
    return [SeedUser.from_json(item) for item in data]


@dataclass
class Library:
    """A user's saved tracks (newest first, with the time each was saved) and top tracks per time range."""

    saved: list[tuple[str, CatalogTrack]] = field(default_factory=list)
    top: dict[str, list[CatalogTrack]] = field(default_factory=dict)


def build_library(user: SeedUser, catalog: dict[str, CatalogTrack], order: Sequence[str]) -> Library:
    def resolve(ids: Iterable[str]) -> list[CatalogTrack]:
        resolved = []
        for track_id in ids:
            track_id = track_id.removeprefix("spotify:track:")
            if track_id not in catalog:
                raise ValueError(f"user {user.id}: track {track_id} is not in the catalogue")
            resolved.append(catalog[track_id])
        return resolved

    rng = random.Random(f"library:{user.id}")  # nosec B311  # seeded for reproducibility, not a secret
    if user.saved_tracks is not None:
        saved = resolve(user.saved_tracks)
    else:
        saved = [catalog[i] for i in rng.sample(list(order), min(user.saved_count, len(order)))]
    library = Library()
    newest = dt.datetime(2026, 1, 31, 20, 15, tzinfo=dt.UTC)
    for index, track in enumerate(saved):
        added_at = newest - dt.timedelta(days=index * 3, hours=index * 5 % 24, minutes=index * 17 % 60)
        library.saved.append((added_at.strftime("%Y-%m-%dT%H:%M:%SZ"), track))
    for time_range in TIME_RANGES:
        if user.top_tracks is not None:
            library.top[time_range] = resolve(user.top_tracks.get(time_range, []))
        else:
            range_rng = random.Random(f"top:{user.id}:{time_range}")  # nosec B311  # seeded: reproducible, no secret
            count = min(user.top_count, len(order))
            library.top[time_range] = [catalog[i] for i in range_rng.sample(list(order), count)]
    return library
