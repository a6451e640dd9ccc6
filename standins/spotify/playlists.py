"""Web API playlists: create, list, read, and add items.

Since February 2026, for Development Mode apps, ``POST /users/{id}/playlists`` and ``/playlists/{id}/tracks``
answer 403: playlists are created with ``POST /me/playlists`` and filled with ``POST /playlists/{id}/items``
(https://developer.spotify.com/documentation/web-api/tutorials/february-2026-migration-guide).
"""

from __future__ import annotations

import base64
import secrets
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from standins.spotify.catalog import BASE62_ID, CatalogTrack
from standins.spotify.deps import AnyToken, ShapesDep, StateDep, UserToken
from standins.spotify.errors import ApiError
from standins.spotify.params import json_body, page_params
from standins.spotify.seed import BASE62
from standins.spotify.shapes import JSON, Shapes
from standins.spotify.state import Playlist, PlaylistEntry, StandinState

router = APIRouter()


# https://developer.spotify.com/documentation/web-api/reference/create-playlist (POST /me/playlists)
@router.post("/v1/me/playlists")
async def create_my_playlist(request: Request, state: StateDep, token: UserToken, s: ShapesDep) -> Response:
    body = await json_body(request)
    if not isinstance(body, dict) or not isinstance(body.get("name"), str) or not body["name"].strip():
        raise ApiError(400, "Missing required field: name")
    public = body.get("public", True)
    collaborative = bool(body.get("collaborative", False))
    if public is None:
        public = True
    if not isinstance(public, bool):
        raise ApiError(400, "Invalid value for public")
    if collaborative and public:
        raise ApiError(400, "Collaborative playlists can only be private.")
    state.require_scope(token, "playlist-modify-public" if public else "playlist-modify-private")
    description = body.get("description")
    playlist = Playlist(id="".join(secrets.choice(BASE62) for _ in range(22)),
                        owner_id=state.user_of(token).id, name=body["name"],
                        description=description if isinstance(description, str) and description else None,
                        public=public, collaborative=collaborative, snapshot_id=_snapshot(),
                        created_at=_now_iso())
    state.playlists[playlist.id] = playlist
    return JSONResponse(_playlist_object(state, s, playlist, full=True), 201)


# https://developer.spotify.com/documentation/web-api/tutorials/february-2026-migration-guide
# (POST /users/{user_id}/playlists: removed for Development Mode apps; it answers 403)
@router.post("/v1/users/{user_id}/playlists")
async def create_user_playlist(user_id: str, request: Request, state: StateDep, token: UserToken,
                               s: ShapesDep) -> Response:
    if user_id != token.user_id:
        raise ApiError(403, "You cannot create a playlist for another user")
    _refuse_in_development_mode(state)
    return await create_my_playlist(request, state, token, s)


# https://developer.spotify.com/documentation/web-api/reference/get-a-list-of-current-users-playlists
@router.get("/v1/me/playlists")
async def my_playlists(request: Request, state: StateDep, token: UserToken, s: ShapesDep) -> Response:
    limit, offset = page_params(request, 20, 50)
    can_private = not state.config.enforce_scopes or "playlist-read-private" in token.scopes
    mine = [p for p in reversed(state.playlists.values())
            if p.owner_id == token.user_id and (p.public or p.collaborative or can_private)]
    return JSONResponse(s.paging("/me/playlists", [_playlist_object(state, s, p, full=False)
                                                   for p in mine[offset:offset + limit]],
                                 len(mine), limit, offset))


# https://developer.spotify.com/documentation/web-api/reference/get-playlist
@router.get("/v1/playlists/{playlist_id}")
async def get_playlist(playlist_id: str, state: StateDep, token: AnyToken, s: ShapesDep) -> Response:
    return JSONResponse(_playlist_object(state, s, state.playlist_for(playlist_id, token), full=True))


# https://developer.spotify.com/documentation/web-api/reference/get-playlists-items
@router.get("/v1/playlists/{playlist_id}/items")
async def get_items(playlist_id: str, request: Request, state: StateDep, token: AnyToken,
                    s: ShapesDep) -> Response:
    playlist = state.playlist_for(playlist_id, token)
    dev = state.config.development_mode
    if dev and token.user_id != playlist.owner_id and not playlist.collaborative:
        # February 2026: only for playlists the user owns or collaborates on.
        raise ApiError(403, "Forbidden")
    limit, offset = page_params(request, 20, 50)
    items = [_entry_object(state, s, e) for e in playlist.entries[offset:offset + limit]]
    path = f"/playlists/{playlist_id}/items" if dev else request.url.path.removeprefix("/v1")
    return JSONResponse(s.paging(path, items, len(playlist.entries), limit, offset))


# https://developer.spotify.com/documentation/web-api/reference/add-items-to-playlist
@router.post("/v1/playlists/{playlist_id}/items")
async def post_items(playlist_id: str, request: Request, state: StateDep, token: UserToken) -> Response:
    playlist = state.playlist_for(playlist_id, token)
    body = await json_body(request)
    position: Any = request.query_params.get("position")
    uris: Any = None
    if request.query_params.get("uris"):
        uris = request.query_params["uris"].split(",")  # query wins over the body, as documented
    elif isinstance(body, list):
        uris = body  # spotipy's playlist_add_items sends a bare JSON array
    elif isinstance(body, dict):
        uris = body.get("uris")
        position = body.get("position", position)
    if not isinstance(uris, list) or not uris or not all(isinstance(u, str) for u in uris):
        raise ApiError(400, "No uris provided")
    if len(uris) > 100:
        raise ApiError(400, "You can add a maximum of 100 tracks per request.")
    if playlist.owner_id != token.user_id and not playlist.collaborative:
        raise ApiError(403, "You cannot add tracks to a playlist you don't own.")
    state.require_scope(token, "playlist-modify-public" if playlist.public else "playlist-modify-private")
    tracks = [_catalog_track(state, uri) for uri in uris]
    at = _insert_at(position, len(playlist.entries))
    added_at = _now_iso()
    assert token.user_id is not None
    playlist.entries[at:at] = [PlaylistEntry(added_at, token.user_id, t) for t in tracks]
    playlist.snapshot_id = _snapshot()
    return JSONResponse({"snapshot_id": playlist.snapshot_id}, 201)


# https://developer.spotify.com/documentation/web-api/tutorials/february-2026-migration-guide
# (/playlists/{id}/tracks renamed /playlists/{id}/items; the old path answers 403 for Development Mode apps)
@router.get("/v1/playlists/{playlist_id}/tracks")
async def get_tracks_old(playlist_id: str, request: Request, state: StateDep, token: AnyToken,
                         s: ShapesDep) -> Response:
    _refuse_in_development_mode(state)
    return await get_items(playlist_id, request, state, token, s)


@router.post("/v1/playlists/{playlist_id}/tracks")
async def post_tracks_old(playlist_id: str, request: Request, state: StateDep, token: UserToken) -> Response:
    _refuse_in_development_mode(state)
    return await post_items(playlist_id, request, state, token)


def _refuse_in_development_mode(state: StandinState) -> None:
    if state.config.development_mode:
        raise ApiError(403, "Forbidden")


def _catalog_track(state: StandinState, uri: str) -> CatalogTrack:
    kind, _, track_id = uri.strip().removeprefix("spotify:").partition(":")
    if not uri.startswith("spotify:") or kind not in ("track", "episode") or not BASE62_ID.match(track_id):
        raise ApiError(400, f"Invalid track uri: {uri}")
    if kind != "track" or track_id not in state.catalog:
        raise ApiError(400, "Payload contains a non-existing ID")
    return state.catalog[track_id]


def _insert_at(position: Any, length: int) -> int:
    """Where new items go: position from the request (0..length), or the end."""
    if position is None or position == "":
        return length
    try:
        at = int(position)
    except (TypeError, ValueError):
        raise ApiError(400, "Invalid position") from None
    if not 0 <= at <= length:
        raise ApiError(400, "Index out of bounds")
    return at


def _playlist_object(state: StandinState, s: Shapes, playlist: Playlist, full: bool) -> JSON:
    """A playlist object; full (a single playlist) embeds the first page of items, else only their count."""
    owner = state.users[playlist.owner_id]
    key = "items" if s.dev else "tracks"
    if full:
        contents = s.paging(f"/playlists/{playlist.id}/{key}", [_entry_object(state, s, e)
                                                                for e in playlist.entries[:100]],
                            len(playlist.entries), 100, 0)
    else:
        contents = {"href": f"{s.api}/playlists/{playlist.id}/{key}", "total": len(playlist.entries)}
    obj: JSON = {
        "collaborative": playlist.collaborative,
        "description": playlist.description,
        "external_urls": s.external("playlist", playlist.id),
        "href": f"{s.api}/playlists/{playlist.id}",
        "id": playlist.id,
        "images": [],
        "name": playlist.name,
        "owner": s.owner(owner.id, owner.display_name),
        "primary_color": None,
        "public": playlist.public,
        "snapshot_id": playlist.snapshot_id,
        key: contents,
        "type": "playlist",
        "uri": f"spotify:playlist:{playlist.id}",
    }
    if full:
        obj["followers"] = {"href": None, "total": 0}
    return obj


def _entry_object(state: StandinState, s: Shapes, entry: PlaylistEntry) -> JSON:
    adder = state.users[entry.added_by]
    return {"added_at": entry.added_at, "added_by": s.owner(adder.id, adder.display_name), "is_local": False,
            "primary_color": None, "video_thumbnail": {"url": None},
            ("item" if s.dev else "track"): s.track(entry.track)}


def _snapshot() -> str:
    return base64.b64encode(secrets.token_bytes(24)).decode()


def _now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
