"""``/_control/...``: test control that the real service does not have (fault injection, the allow-list, the
authorize decision, inspection, reset). The gate leaves these paths out of the request log and the faults."""

from __future__ import annotations

import time

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from standins.spotify.deps import StateDep
from standins.spotify.shapes import JSON
from standins.spotify.state import Decision, StandinState


class RateLimitBody(BaseModel):
    count: int = Field(1, ge=0)
    retry_after_s: int = Field(1, ge=0)


class AllowListBody(BaseModel):
    users: list[str] | None


class OutageBody(BaseModel):
    enabled: bool = True


class AuthorizeBody(BaseModel):
    decision: Decision = "approve"
    user_id: str | None = None


router = APIRouter(prefix="/_control")


@router.get("/health")
async def health(state: StateDep) -> JSON:
    return {"status": "ok", "development_mode": state.config.development_mode, "tracks": len(state.catalog),
            "users": list(state.users)}


@router.post("/rate-limit")
async def rate_limit(body: RateLimitBody, state: StateDep) -> JSON:
    """The next `count` Web API calls answer 429 with Retry-After: retry_after_s."""
    state.faults.rate_limited_calls = body.count
    state.faults.retry_after_s = body.retry_after_s
    return {"rate_limited_calls": body.count, "retry_after_s": body.retry_after_s}


@router.post("/expire-tokens")
async def expire_tokens(state: StateDep) -> JSON:
    """Every access token issued so far answers 401 "The access token expired" from now on."""
    now = time.monotonic()
    for access in state.access_tokens.values():
        access.expires_at = min(access.expires_at, now)
    return {"expired": len(state.access_tokens)}


@router.post("/revoke-refresh-tokens")
async def revoke_refresh_tokens(state: StateDep) -> JSON:
    """Every refresh token answers invalid_grant from now on (the user removed the app's access)."""
    count = len(state.refresh_tokens)
    state.refresh_tokens.clear()
    return {"revoked": count}


@router.get("/allow-list")
async def get_allow_list(state: StateDep) -> JSON:
    return _allow_list(state)


@router.put("/allow-list")
async def put_allow_list(body: AllowListBody, state: StateDep) -> JSON:
    """Accounts not on the list get 403 on every Web API call; null lifts the restriction."""
    state.allow_list = set(body.users) if body.users is not None else None
    return _allow_list(state)


@router.post("/outage")
async def outage(body: OutageBody, state: StateDep) -> JSON:
    """While enabled every non-control path answers 503."""
    state.faults.outage = body.enabled
    return {"outage": body.enabled}


@router.post("/authorize")
async def authorize_policy(body: AuthorizeBody, state: StateDep) -> JSON:
    """How /authorize decides from now on: approve as user_id, deny (error=access_denied), or ask (page)."""
    if body.decision == "approve" and (body.user_id is None or body.user_id not in state.users):
        raise StarletteHTTPException(400, "approve needs the user_id of a configured user")
    state.decision, state.decision_user = body.decision, body.user_id
    return {"decision": body.decision, "user_id": body.user_id}


@router.post("/reset")
async def reset(state: StateDep) -> JSON:
    """Back to the configured state: no faults, no playlists, no tokens or codes, configured allow-list and
    authorize decision, empty request log."""
    state.reset()
    return {"status": "reset"}


@router.get("/playlists")
async def list_playlists(state: StateDep) -> JSON:
    return {"playlists": [{"id": p.id, "owner_id": p.owner_id, "name": p.name, "description": p.description,
                           "public": p.public, "collaborative": p.collaborative, "snapshot_id": p.snapshot_id,
                           "created_at": p.created_at, "uris": [e.track.uri for e in p.entries]}
                          for p in state.playlists.values()]}


@router.get("/requests")
async def request_log(state: StateDep) -> JSON:
    """Non-control requests so far (method, path, query, status), oldest first, the last 1000."""
    return {"requests": state.request_log}


@router.get("/users")
async def list_users(state: StateDep) -> JSON:
    return {"users": [{"id": u.id, "display_name": u.display_name, "email": u.email, "country": u.country,
                       "product": u.product, "saved_tracks": len(state.libraries[u.id].saved),
                       "allowed": state.allow_list is None or u.id in state.allow_list}
                      for u in state.users.values()]}


def _allow_list(state: StandinState) -> JSON:
    return {"users": sorted(state.allow_list) if state.allow_list is not None else None}
