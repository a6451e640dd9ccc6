"""Playlists a user saved: name, description, the mood it was made for, ordered tracks, Spotify link."""

from __future__ import annotations

from orchestrator.store.mongo import MongoStore
from orchestrator.store.owned import OwnedCollection


class PlaylistRepository(OwnedCollection):
    def __init__(self, store: MongoStore) -> None:
        super().__init__(store, "playlists", "playlist")
