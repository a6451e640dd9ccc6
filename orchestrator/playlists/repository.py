"""Playlists a user saved: name, description, the mood it was made for, ordered tracks, Spotify link.
Documents become `Playlist` records here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from orchestrator.storage.mongo import MongoStore
from orchestrator.storage.owned import Document, OwnedCollection

SPOTIFY_TRACK_PREFIX = "spotify:track:"


@dataclass(frozen=True)
class PlaylistTrack:
    title: str
    artist: str
    uri: str | None = None
    duration_ms: int | None = None

    @property
    def on_spotify(self) -> bool:
        return (self.uri or "").startswith(SPOTIFY_TRACK_PREFIX)


@dataclass(frozen=True)
class TargetMood:
    label: str
    valence: float
    arousal: float


@dataclass(frozen=True)
class Playlist:
    id: str
    owner_id: str
    name: str
    created_at: datetime
    updated_at: datetime
    description: str | None = None
    mood: TargetMood | None = None
    tracks: list[PlaylistTrack] = field(default_factory=list)
    spotify_id: str | None = None
    spotify_url: str | None = None
    kind: str | None = None  # "journey" for a mood journey
    journey: dict[str, Any] | None = None  # from, to, each step's mood and track, the largest step

    @classmethod
    def from_document(cls, document: Document) -> Playlist:
        # Read leniently: a document written before a rule was added must still come back.
        mood = document.get("mood")
        return cls(id=str(document["_id"]), owner_id=str(document["owner_id"]), name=str(document.get("name", "")),
                   created_at=document["created_at"], updated_at=document.get("updated_at") or document["created_at"],
                   description=document.get("description"),
                   mood=TargetMood(str(mood["label"]), float(mood["valence"]), float(mood["arousal"]))
                   if mood else None,
                   tracks=[PlaylistTrack(str(t.get("title", "")), str(t.get("artist", "")), t.get("uri"),
                                         t.get("duration_ms")) for t in document.get("tracks") or []],
                   spotify_id=document.get("spotify_id"), spotify_url=document.get("spotify_url"),
                   kind=document.get("kind"), journey=document.get("journey"))


class PlaylistRepository(OwnedCollection[Playlist]):
    def __init__(self, store: MongoStore) -> None:
        super().__init__(store, "playlists", "playlist", Playlist.from_document)
