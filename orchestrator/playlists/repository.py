"""Playlists a user saved: name, description, the mood it was made for, ordered tracks, Spotify link."""

from __future__ import annotations

from orchestrator.storage.mongo import MongoStore
from orchestrator.storage.owned import OwnedCollection


class PlaylistRepository(OwnedCollection):
    def __init__(self, store: MongoStore) -> None:
        super().__init__(store, "playlists", "playlist")
