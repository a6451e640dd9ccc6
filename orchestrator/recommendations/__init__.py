"""Tracks for a mood, ranked from the catalog and the linked user's library, each with why it fits."""
