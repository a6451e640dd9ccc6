"""Recommendations without Spotify's closed `/recommendations` and `/audio-features` endpoints: a catalog of
tracks with their audio features kept in MongoDB, the one mood → audio-feature mapping, ranking with
explanations, and mood journeys.

- `features`: mood (valence, arousal) → `AudioTargets`; feature weights and normalisation.
- `csv_import`: the Spotify-features CSV layout → validated tracks, with a per-row report.
- `store`: `TrackCatalog` (MongoDB collection `tracks`) and the in-memory `FeatureMatrix` snapshot.
- `ranking`: nearest tracks to the targets, at most N per artist, each with its "why".
- `journey`: a playlist that starts at one mood and moves step by step to another (iso principle).
"""
