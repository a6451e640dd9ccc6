"""A small synthetic catalog for catalog tests: tracks built around four mood archetypes (typical audio
features of tracks people label calm, energetic, happy and sad), written in the 14k file's CSV layout."""

from __future__ import annotations

HEADER = (",artist,track,track_id,popularity,year,danceability,energy,key,loudness,mode,speechiness,acousticness,"
          "instrumentalness,liveness,valence,tempo,type,duration_ms,time_signature")
# mood → danceability, energy, loudness, speechiness, acousticness, instrumentalness, liveness, valence, tempo
ARCHETYPES: dict[str, tuple[float, ...]] = {
    "calm": (0.40, 0.14, -21.6, 0.040, 0.89, 0.89, 0.12, 0.14, 112.0),
    "energetic": (0.51, 0.87, -4.6, 0.080, 0.04, 0.04, 0.24, 0.42, 131.0),
    "happy": (0.61, 0.74, -7.2, 0.055, 0.13, 0.08, 0.19, 0.58, 126.0),
    "sad": (0.48, 0.40, -10.4, 0.043, 0.59, 0.22, 0.14, 0.27, 116.0),
}
PER_MOOD = 10
TRACKS = PER_MOOD * len(ARCHETYPES)


def synthetic_id(i: int) -> str:
    return f"synthTrack{i:012d}"  # 22 base62 characters


def mood_of(i: int) -> str:
    return list(ARCHETYPES)[i // PER_MOOD]


def synthetic_rows() -> list[dict[str, str]]:
    """40 tracks, 10 per archetype with small deterministic offsets, 13 artists, plus one track without a
    beat (tempo 0)."""
    rows = []
    for i in range(TRACKS):
        dance, energy, loud, speech, acoustic, instrumental, live, valence, tempo = ARCHETYPES[mood_of(i)]
        jitter = 0.01 * ((i * 7) % 5 - 2)
        rows.append({
            "": str(i), "artist": f"Artist {i % 13}", "track": f"Song {i}",
            "track_id": f"spotify:track:{synthetic_id(i)}" if i % 2 else synthetic_id(i),
            "popularity": str(40 + i), "year": "2019", "danceability": f"{dance + jitter:.4f}",
            "energy": f"{energy - jitter:.4f}", "key": str(i % 12), "loudness": f"{loud + 10 * jitter:.3f}",
            "mode": str(i % 2), "speechiness": f"{speech:.4f}", "acousticness": f"{acoustic + jitter:.4f}",
            "instrumentalness": f"{instrumental:.4f}", "liveness": f"{live:.4f}", "valence": f"{valence + jitter:.4f}",
            "tempo": f"{tempo + 100 * jitter:.3f}", "type": "audio_features", "duration_ms": "200000",
            "time_signature": "4",
        })
    rows.append({**rows[0], "": str(TRACKS), "artist": "Rain Sounds", "track": "Rain",
                 "track_id": synthetic_id(TRACKS), "tempo": "0", "time_signature": "0"})
    return rows


def to_csv(rows: list[dict[str, str]], columns: list[str] | None = None) -> str:
    columns = columns if columns is not None else HEADER.split(",")
    return "\n".join([",".join(columns), *(",".join(row[c] for c in columns) for row in rows)]) + "\n"
