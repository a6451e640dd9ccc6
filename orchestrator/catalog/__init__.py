"""Recommendations without Spotify's closed `/recommendations` and `/audio-features` endpoints: a catalog of
tracks with their audio features kept in MongoDB, a track-mood model learned from people's mood labels,
ranking with explanations and feedback, and mood journeys.

- `features`: the audio features a track may carry, and what "unknown" means.
- `csv_import`: Spotify-features CSV files (both layouts met in practice) → validated tracks, with a report.
- `store`: `TrackCatalog` (MongoDB collection `tracks`) and the in-memory `FeatureMatrix` snapshot.
- `track_moods`: the model (models/track-moods) that places each track among the moods people name.
- `ranking`: the best tracks for a mood point, at most N per artist, each with its "why".
- `taste`: a listener's 👍/👎 as a direction in feature space (Rocchio's relevance feedback).
- `journey`: a playlist that starts at one mood and moves step by step to another (iso principle).
"""
