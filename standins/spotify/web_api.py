"""Web API (normally https://api.spotify.com/v1): the current user's profile and library, and the catalogue
(search, tracks). Playlists are in playlists.py; the endpoints closed to new apps in legacy.py."""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from standins.spotify.catalog import BASE62_ID, TIME_RANGES, CatalogTrack
from standins.spotify.deps import AnyToken, ShapesDep, StateDep, UserToken
from standins.spotify.errors import ApiError
from standins.spotify.params import page_params
from standins.spotify.search import search_tracks
from standins.spotify.shapes import JSON, Shapes

SEARCH_TYPES = ("album", "artist", "playlist", "track", "show", "episode", "audiobook")

router = APIRouter()


# https://developer.spotify.com/documentation/web-api/reference/get-current-users-profile
@router.get("/v1/me")
async def me(state: StateDep, token: UserToken, s: ShapesDep) -> Response:
    user = state.user_of(token)
    enforce = state.config.enforce_scopes
    private = not enforce or "user-read-private" in token.scopes
    return JSONResponse(s.user(
        user.id, user.display_name, private=True,
        email=user.email if (not enforce or "user-read-email" in token.scopes) else None,
        country=user.country if private else None, product=user.product if private else None))


# https://developer.spotify.com/documentation/web-api/reference/get-users-saved-tracks
@router.get("/v1/me/tracks")
async def saved_tracks(request: Request, state: StateDep, token: UserToken, s: ShapesDep) -> Response:
    state.require_scope(token, "user-library-read")
    limit, offset = page_params(request, 20, 50)
    saved = state.libraries[state.user_of(token).id].saved
    items = [{"added_at": added_at, "track": s.track(track)} for added_at, track in saved[offset:offset + limit]]
    return JSONResponse(s.paging("/me/tracks", items, len(saved), limit, offset))


# https://developer.spotify.com/documentation/web-api/reference/get-users-top-artists-and-tracks
@router.get("/v1/me/top/{kind}")
async def top_items(kind: str, request: Request, state: StateDep, token: UserToken, s: ShapesDep) -> Response:
    if kind not in ("tracks", "artists"):
        raise ApiError(404, "Service not found")
    state.require_scope(token, "user-top-read")
    time_range = request.query_params.get("time_range") or "medium_term"
    if time_range not in TIME_RANGES:
        raise ApiError(400, "Invalid time range")
    limit, offset = page_params(request, 20, 50)
    top = state.libraries[state.user_of(token).id].top[time_range]
    items = [s.track(track) for track in top] if kind == "tracks" else _artists(s, top)
    return JSONResponse(s.paging(f"/me/top/{kind}", items[offset:offset + limit], len(items), limit, offset,
                                 {"time_range": time_range}))


# https://developer.spotify.com/documentation/web-api/reference/search
@router.get("/v1/search")
async def search(request: Request, state: StateDep, _token: AnyToken, s: ShapesDep) -> Response:
    # next/previous links carry the query as "query" and one type each, as Spotify's do.
    query = request.query_params.get("q") or request.query_params.get("query") or ""
    if not query.strip():
        raise ApiError(400, "No search query")
    raw_types = request.query_params.get("type")
    if not raw_types:
        raise ApiError(400, "Missing parameter type")
    types = [t.strip() for t in raw_types.split(",")]
    for kind in types:
        if kind not in SEARCH_TYPES:
            raise ApiError(400, f"Bad search type field {kind}")
    # February 2026, Development Mode: at most 10 results per type, 5 by default (was 50 and 20).
    dev = state.config.development_mode
    limit, offset = page_params(request, 5 if dev else 20, 10 if dev else 50, max_offset=1000)
    market = {"market": request.query_params["market"]} if "market" in request.query_params else {}
    found = search_tracks(query, state.tracks())
    body: JSON = {}
    for kind in types:
        results: list[JSON] = []  # the catalogue holds tracks only: other types answer an empty page
        if kind == "track":
            results = [s.track(track) for track in found]
        elif kind == "artist":
            results = _artists(s, found)
        body[f"{kind}s"] = s.paging("/search", results[offset:offset + limit], len(results), limit, offset,
                                    {"query": query, "type": kind, **market})
    return JSONResponse(body)


# https://developer.spotify.com/documentation/web-api/reference/get-track
@router.get("/v1/tracks/{track_id}")
async def track(track_id: str, state: StateDep, _token: AnyToken, s: ShapesDep) -> Response:
    if not BASE62_ID.match(track_id):
        raise ApiError(400, "Invalid base62 id")
    found = state.catalog.get(track_id)
    if found is None:
        raise ApiError(404, "Resource not found")
    return JSONResponse(s.track(found))


def _artists(s: Shapes, tracks: Iterable[CatalogTrack]) -> list[JSON]:
    """The tracks' artists, each once, in the order they first appear."""
    artists: dict[str, JSON] = {}
    for track in tracks:
        artists.setdefault(track.artist_id, s.simple_artist_result(track))
    return list(artists.values())
