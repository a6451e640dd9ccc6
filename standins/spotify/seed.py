"""Synthetic tracks in the common Spotify-features CSV layout (made-up artists, titles and ids).

The layout is the one of the public "Spotify tracks + audio features" dumps:
``,artist,track,track_id,popularity,year,danceability,energy,key,loudness,mode,speechiness,acousticness,``
``instrumentalness,liveness,valence,tempo,type,duration_ms,time_signature`` with ``track_id`` a Spotify URI
(``spotify:track:<22 base62 characters>``). Nothing here comes from a real dataset: names are drawn from
word lists, ids from a seeded generator, and the audio features from per-mood ranges, so that the catalogue
spans moods (euphoric, calm, sad, tense, ambient, hype, romantic, nostalgic) with several tracks per artist.

``tests/fixtures/spotify_tracks_small.csv`` is this module's output with the default seed::

    python -m standins.spotify.seed > tests/fixtures/spotify_tracks_small.csv
"""

from __future__ import annotations

import csv
import io
import random
import string
import sys
from dataclasses import dataclass

BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
DEFAULT_SEED = 20260211
CSV_COLUMNS = ["", "artist", "track", "track_id", "popularity", "year", "danceability", "energy", "key", "loudness",
               "mode", "speechiness", "acousticness", "instrumentalness", "liveness", "valence", "tempo", "type",
               "duration_ms", "time_signature"]

Range = tuple[float, float]


@dataclass(frozen=True)
class Mood:
    name: str
    valence: Range
    energy: Range
    danceability: Range
    acousticness: Range
    instrumentalness: Range
    speechiness: Range
    tempo: Range
    major_probability: float


MOODS = [
    Mood("euphoric", (0.75, 0.97), (0.75, 0.95), (0.65, 0.90), (0.01, 0.15), (0.0, 0.05), (0.03, 0.08),
         (118, 135), 0.85),
    Mood("calm", (0.55, 0.80), (0.22, 0.48), (0.45, 0.65), (0.50, 0.90), (0.0, 0.30), (0.03, 0.06),
         (80, 105), 0.75),
    Mood("sad", (0.05, 0.28), (0.10, 0.38), (0.30, 0.50), (0.60, 0.95), (0.0, 0.25), (0.03, 0.05),
         (60, 90), 0.25),
    Mood("tense", (0.08, 0.35), (0.82, 0.99), (0.35, 0.55), (0.0, 0.05), (0.0, 0.20), (0.05, 0.15),
         (140, 182), 0.30),
    Mood("ambient", (0.15, 0.45), (0.05, 0.30), (0.20, 0.45), (0.40, 0.95), (0.60, 0.95), (0.03, 0.05),
         (65, 100), 0.50),
    Mood("hype", (0.40, 0.70), (0.55, 0.82), (0.75, 0.95), (0.02, 0.20), (0.0, 0.02), (0.20, 0.45),
         (85, 150), 0.50),
    Mood("romantic", (0.45, 0.70), (0.35, 0.60), (0.50, 0.72), (0.30, 0.65), (0.0, 0.05), (0.03, 0.07),
         (70, 110), 0.65),
    Mood("nostalgic", (0.30, 0.55), (0.40, 0.65), (0.45, 0.65), (0.20, 0.60), (0.0, 0.15), (0.03, 0.06),
         (90, 125), 0.55),
]

_ARTIST_FIRST = ["Velvet", "Neon", "Paper", "Silver", "Hollow", "Amber", "Glass", "Quiet", "Static", "Lunar",
                 "Cinder", "Marble", "Copper", "Violet", "Northern", "Salt", "Midnight", "Coral", "Iron", "Saffron"]
_ARTIST_SECOND = ["Harbor", "Orchard", "Lanterns", "Parade", "Signal", "Tides", "Foxes", "Assembly", "Machines",
                  "Collective", "Gardens", "Avenue", "Choir", "Rivers", "Satellites", "Atlas", "Engines", "Season"]
_TITLE_FIRST = ["Golden", "Falling", "Electric", "Slow", "Broken", "Distant", "Bright", "Silent", "Endless",
                "Paper", "Wild", "Tender", "Restless", "Hidden", "Burning", "Weightless", "Crimson", "Summer",
                "Winter", "Faded"]
_TITLE_SECOND = ["Hours", "Skyline", "Letters", "Heartbeat", "Weather", "Motion", "Shoreline", "Echoes", "Static",
                 "Daydream", "Horizon", "Window", "Gravity", "Fever", "Lullaby", "Highway", "Mirrors", "Bloom",
                 "Rain", "Signal"]


def random_base62_id(rng: random.Random, length: int = 22) -> str:
    return "".join(rng.choice(BASE62) for _ in range(length))


def _draw(rng: random.Random, bounds: Range, digits: int = 3) -> float:
    return round(rng.uniform(*bounds), digits)


def synthetic_rows(seed: int = DEFAULT_SEED, artists: int = 20, tracks_per_artist: int = 4) -> list[dict[str, str]]:
    """Rows keyed by CSV_COLUMNS; deterministic for a given seed."""
    rng = random.Random(seed)  # nosec B311  # seeded for reproducibility, not a secret
    artist_names: list[str] = []
    while len(artist_names) < artists:
        name = f"The {rng.choice(_ARTIST_FIRST)} {rng.choice(_ARTIST_SECOND)}" if rng.random() < 0.3 else \
            f"{rng.choice(_ARTIST_FIRST)} {rng.choice(_ARTIST_SECOND)}"
        if name not in artist_names:
            artist_names.append(name)
    titles: set[str] = set()
    rows: list[dict[str, str]] = []
    for artist_index, artist in enumerate(artist_names):
        home_mood = MOODS[artist_index % len(MOODS)]
        base_popularity = rng.randint(25, 85)
        for track_index in range(tracks_per_artist):
            # Most of an artist's tracks share its mood; one in four wanders to a neighbouring one.
            mood = home_mood if track_index < 3 else MOODS[(artist_index + rng.choice([1, -1])) % len(MOODS)]
            title = f"{rng.choice(_TITLE_FIRST)} {rng.choice(_TITLE_SECOND)}"
            while title in titles:
                title = f"{rng.choice(_TITLE_FIRST)} {rng.choice(_TITLE_SECOND)}"
            titles.add(title)
            energy = _draw(rng, mood.energy)
            loudness = round(-22 + 19 * energy + rng.uniform(-2.0, 1.5), 3)
            row = {
                "": str(len(rows)),
                "artist": artist,
                "track": title,
                "track_id": f"spotify:track:{random_base62_id(rng)}",
                "popularity": str(max(1, min(100, base_popularity + rng.randint(-12, 12)))),
                "year": str(rng.randint(2012, 2025)),
                "danceability": str(_draw(rng, mood.danceability)),
                "energy": str(energy),
                "key": str(rng.randint(0, 11)),
                "loudness": str(min(loudness, -1.0)),
                "mode": "1" if rng.random() < mood.major_probability else "0",
                "speechiness": str(_draw(rng, mood.speechiness, 4)),
                "acousticness": str(_draw(rng, mood.acousticness, 4)),
                "instrumentalness": str(_draw(rng, mood.instrumentalness, 4)),
                "liveness": str(_draw(rng, (0.05, 0.35), 4)),
                "valence": str(_draw(rng, mood.valence)),
                "tempo": str(_draw(rng, mood.tempo)),
                "type": "audio_features",
                "duration_ms": str(rng.randint(125_000, 330_000)),
                "time_signature": "3" if rng.random() < 0.1 else "4",
            }
            rows.append(row)
    return rows


def synthetic_csv(seed: int = DEFAULT_SEED) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(synthetic_rows(seed))
    return buffer.getvalue()


if __name__ == "__main__":
    sys.stdout.write(synthetic_csv(int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SEED))
