"""Playlists a user saved, and mood journeys stored as playlists."""
