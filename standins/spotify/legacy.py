"""Web API endpoints closed to new apps in November 2024: ``/recommendations`` answers 404 and
``/audio-features`` 403, both with a message-less error object
(https://developer.spotify.com/blog/2024-11-27-changes-to-the-web-api). ``legacy_endpoints=True`` answers them
as for an app that kept access."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from standins.spotify.catalog import FEATURE_FLOATS, FEATURE_INTS, CatalogTrack
from standins.spotify.deps import AnyToken, ShapesDep, StateDep
from standins.spotify.errors import ApiError
from standins.spotify.params import int_param
from standins.spotify.shapes import JSON, Shapes
from standins.spotify.state import StandinState

# Each attribute's range, so that distances to the targets add up comparably (unlisted ones span about 0..1).
_SCALES = {"tempo": 250.0, "loudness": 60.0, "key": 11.0, "time_signature": 7.0, "popularity": 100.0,
           "duration_ms": 600_000.0}

router = APIRouter()


# https://developer.spotify.com/documentation/web-api/reference/get-recommendations (closed to new apps)
@router.get("/v1/recommendations")
async def recommendations(request: Request, state: StateDep, _token: AnyToken, s: ShapesDep) -> Response:
    _require_legacy(state, 404)
    query = request.query_params
    seeds = {kind: [v for v in (query.get(f"seed_{kind}s") or "").split(",") if v]
             for kind in ("artist", "genre", "track")}
    count = sum(len(v) for v in seeds.values())
    if count == 0:
        raise ApiError(400, "At least one seed must be provided")
    if count > 5:
        raise ApiError(400, "Number of seeds must not exceed 5")
    limit = int_param(request, "limit", 20, 1, 100)
    seed_tracks = [state.catalog[t] for t in seeds["track"] if t in state.catalog]
    names = [*FEATURE_FLOATS, *FEATURE_INTS, "popularity", "duration_ms"]
    targets: dict[str, float] = {}
    bounds: dict[str, tuple[float, float]] = {}
    for name in names:
        try:
            if f"target_{name}" in query:
                targets[name] = float(query[f"target_{name}"])
            low = float(query.get(f"min_{name}", "-inf"))
            high = float(query.get(f"max_{name}", "inf"))
        except ValueError:
            raise ApiError(400, f"Invalid value for {name}") from None
        bounds[name] = (low, high)
    if seed_tracks:
        # Seed tracks pull towards their mood where the request sets no target.
        for name in ("valence", "energy", "danceability"):
            targets.setdefault(name, sum(_attribute(t, name) for t in seed_tracks) / len(seed_tracks))
    seed_ids = {t.id for t in seed_tracks}
    pool = [t for t in state.tracks() if t.id not in seed_ids
            and all(low <= _attribute(t, n) <= high for n, (low, high) in bounds.items())]
    if seeds["artist"]:
        pool.sort(key=lambda t: t.artist_id not in seeds["artist"])

    def distance(t: CatalogTrack) -> float:
        return sum(abs(_attribute(t, n) - v) / _SCALES.get(n, 1.0) for n, v in targets.items())

    chosen = sorted(pool, key=distance)[:limit]
    seed_objects = [{"afterFilteringSize": len(pool), "afterRelinkingSize": len(pool), "href": None,
                     "id": value, "initialPoolSize": len(state.order), "type": kind.upper()}
                    for kind, values in seeds.items() for value in values]
    return JSONResponse({"seeds": seed_objects, "tracks": [s.track(t) for t in chosen]})


# https://developer.spotify.com/documentation/web-api/reference/get-several-audio-features (closed to new apps)
@router.get("/v1/audio-features")
async def audio_features(request: Request, state: StateDep, _token: AnyToken, s: ShapesDep) -> Response:
    _require_legacy(state, 403)
    ids = [i for i in (request.query_params.get("ids") or "").split(",") if i]
    if not ids or len(ids) > 100:
        raise ApiError(400, "invalid request")
    return JSONResponse({"audio_features": [_audio_features(s, state.catalog[i]) if i in state.catalog else None
                                            for i in ids]})


# https://developer.spotify.com/documentation/web-api/reference/get-audio-features (closed to new apps)
@router.get("/v1/audio-features/{track_id}")
async def audio_feature(track_id: str, state: StateDep, _token: AnyToken, s: ShapesDep) -> Response:
    _require_legacy(state, 403)
    found = state.catalog.get(track_id)
    if found is None:
        raise ApiError(404, "analysis not found")
    return JSONResponse(_audio_features(s, found))


def _require_legacy(state: StandinState, status: int) -> None:
    """An app without pre-2024 access gets status with no message, as Spotify answers it."""
    if not state.config.legacy_endpoints:
        raise ApiError(status, None)


def _attribute(track: CatalogTrack, name: str) -> float:
    if name == "popularity":
        return float(track.popularity)
    if name == "duration_ms":
        return float(track.duration_ms)
    return float(track.features[name])


def _audio_features(shapes: Shapes, track: CatalogTrack) -> JSON:
    return {**track.features, "analysis_url": f"{shapes.api}/audio-analysis/{track.id}",
            "duration_ms": track.duration_ms, "id": track.id, "track_href": f"{shapes.api}/tracks/{track.id}",
            "type": "audio_features", "uri": track.uri}
