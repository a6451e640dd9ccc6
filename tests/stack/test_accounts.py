"""Accounts, tokens, mood history, playlists and jobs through the real orchestrator and Mongo-wire server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from bson import ObjectId
from cryptography.fernet import Fernet
from pymongo import MongoClient

from launcher.stack import Stack
from orchestrator.core.settings import DEVELOPMENT_SECRET, Settings, check_production_safety
from tests.support import images
from tests.support.api_client import PASSWORD, bearer, new_email, sign_up_and_login


@pytest.fixture(scope="module")
def api(embedded_stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=embedded_stack.orchestrator_url, timeout=60) as client:
        yield client


def test_sign_up_login_me_and_refresh_rotation(api: httpx.Client) -> None:
    email = new_email()
    created = api.post("/v1/users", json={"email": email.upper(), "password": PASSWORD, "display_name": "Ada"})
    assert created.status_code == 201 and created.json()["email"] == email, "emails are stored lower-case"
    tokens = api.post("/v1/auth/token", data={"username": email, "password": PASSWORD}).json()
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 900
    me = api.get("/v1/users/me", headers=bearer(tokens)).json()
    assert me["display_name"] == "Ada" and "password_hash" not in me

    renewed = api.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert renewed.status_code == 200
    assert api.get("/v1/users/me", headers=bearer(renewed.json())).status_code == 200
    replay = api.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert replay.status_code == 401, "a refresh token works once"
    after_replay = api.post("/v1/auth/refresh", json={"refresh_token": renewed.json()["refresh_token"]})
    assert after_replay.status_code == 401, "a replayed token ends every session of that user"


@pytest.mark.parametrize(("password", "rule"), [
    ("short1!", "at least 10 characters"),
    ("onlyletterslong", "digit or symbol"),
    ("12345678901234", "digit or symbol"),
])
def test_weak_passwords_are_422_with_the_rule(api: httpx.Client, password: str, rule: str) -> None:
    response = api.post("/v1/users", json={"email": new_email(), "password": password})
    assert response.status_code == 422 and rule in response.json()["detail"]


def test_duplicate_email_is_409_and_bad_email_422(api: httpx.Client) -> None:
    email, _ = sign_up_and_login(api)
    assert api.post("/v1/users", json={"email": email, "password": PASSWORD}).status_code == 409
    assert api.post("/v1/users", json={"email": "not-an-email", "password": PASSWORD}).status_code == 422


def test_wrong_password_and_unknown_email_look_the_same_and_are_throttled(api: httpx.Client) -> None:
    email, _ = sign_up_and_login(api)
    wrong = api.post("/v1/auth/token", data={"username": email, "password": "wrong password 1"})
    unknown = api.post("/v1/auth/token", data={"username": new_email(), "password": "wrong password 1"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    for _ in range(4):
        api.post("/v1/auth/token", data={"username": email, "password": "wrong password 1"})
    throttled = api.post("/v1/auth/token", data={"username": email, "password": PASSWORD})
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) >= 1


def test_expired_forged_and_wrong_type_tokens_are_401(api: httpx.Client) -> None:
    _, tokens = sign_up_and_login(api)
    user_id = api.get("/v1/users/me", headers=bearer(tokens)).json()["id"]
    now = datetime.now(UTC)
    # The same claims and secret as a valid token (the control), but `exp` passed: refused for expiry alone.
    valid = jwt.encode({"sub": user_id, "jti": "x", "typ": "access", "iat": now - timedelta(seconds=60),
                        "exp": now + timedelta(seconds=60)}, DEVELOPMENT_SECRET, algorithm="HS256")
    assert api.get("/v1/users/me", headers={"Authorization": f"Bearer {valid}"}).status_code == 200
    expired = jwt.encode({"sub": user_id, "jti": "x", "typ": "access", "iat": now - timedelta(seconds=60),
                          "exp": now - timedelta(seconds=1)}, DEVELOPMENT_SECRET, algorithm="HS256")
    forged = jwt.encode({"sub": user_id, "jti": "x", "typ": "access", "exp": now + timedelta(hours=1)},
                        "another secret of at least 32 bytes!!", algorithm="HS256")
    for token in (expired, forged, tokens["refresh_token"], "garbage"):
        response = api.get("/v1/users/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401 and response.headers["WWW-Authenticate"] == "Bearer"
    assert api.get("/v1/users/me").status_code == 401
    bad_mood = api.post("/v1/moods/text", json={"text": "hello there"}, headers={"Authorization": "Bearer garbage"})
    assert bad_mood.status_code == 401, "a bad token is never silently anonymous"


def test_profile_update_needs_the_current_password_for_a_new_one(api: httpx.Client) -> None:
    email, tokens = sign_up_and_login(api)
    assert api.patch("/v1/users/me", json={"display_name": "B"}, headers=bearer(tokens)).json()["display_name"] == "B"
    refused = api.patch("/v1/users/me", json={"password": "another pass 7"}, headers=bearer(tokens))
    assert refused.status_code == 403
    changed = api.patch("/v1/users/me", json={"password": "another pass 7", "current_password": PASSWORD},
                        headers=bearer(tokens))
    assert changed.status_code == 200
    assert api.post("/v1/auth/token", data={"username": email, "password": "another pass 7"}).status_code == 200
    assert api.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).status_code == 401


def test_history_pages_filters_and_summary(api: httpx.Client) -> None:
    _, tokens = sign_up_and_login(api)
    auth = bearer(tokens)
    texts = ["i am so happy today", "i feel sad and alone", "this makes me so angry", "what a joyful morning",
             "i am terrified of tomorrow"]
    for text in texts:
        assert api.post("/v1/moods/text", json={"text": text}, headers=auth).status_code == 200
    face = api.post("/v1/moods/face", files={"image": ("a.jpg", images.astronaut_bytes(), "image/jpeg")},
                    headers=auth)
    assert face.status_code == 200
    anonymous = api.post("/v1/moods/text", json={"text": "nobody's mood"})
    assert anonymous.status_code == 200

    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = api.get("/v1/moods/history", params={"limit": 2, **({"cursor": cursor} if cursor else {})},
                       headers=auth).json()
        seen.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 6, "three pages of two; the anonymous call is stored under nobody"
    stamps = [item["created_at"] for item in seen]
    assert stamps == sorted(stamps, reverse=True) and len({i["id"] for i in seen}) == 6
    assert seen[0]["source"] == "face"

    only_text = api.get("/v1/moods/history", params={"source": "text", "limit": 100}, headers=auth).json()
    assert len(only_text["items"]) == 5 and only_text["next_cursor"] is None
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert api.get("/v1/moods/history", params={"since": future}, headers=auth).json()["items"] == []

    summary = api.get("/v1/moods/summary", params={"period": "7d"}, headers=auth).json()
    labels = [item["mood"]["label"] for item in seen]
    assert summary["events"] == 6 and summary["counts"] == {label: labels.count(label) for label in set(labels)}
    assert len(summary["days"]) == 1 and summary["days"][0]["events"] == 6
    valences = [item["mood"]["valence"] for item in seen]
    assert summary["days"][0]["mean_valence"] == pytest.approx(sum(valences) / 6, abs=1e-3)


@pytest.mark.parametrize("params", [{"cursor": "not-a-cursor"}, {"limit": 0}, {"limit": 101},
                                    {"source": "dream"}, {"since": "yesterday"}])
def test_malformed_history_queries_are_422(api: httpx.Client, params: dict[str, Any]) -> None:
    _, tokens = sign_up_and_login(api)
    assert api.get("/v1/moods/history", params=params, headers=bearer(tokens)).status_code == 422


def test_playlist_crud(api: httpx.Client) -> None:
    _, tokens = sign_up_and_login(api)
    auth = bearer(tokens)
    track = {"title": "Here Comes the Sun", "artist": "The Beatles", "uri": "spotify:track:6dGnYIeXmHdcikdzNNDMm2"}
    body = {"name": "Sunny", "description": "for good days", "mood": {"label": "joy", "valence": 0.9, "arousal": 0.3},
            "tracks": [track]}
    created = api.post("/v1/playlists", json=body, headers=auth)
    assert created.status_code == 201
    playlist = created.json()
    assert api.get(f"/v1/playlists/{playlist['id']}", headers=auth).json()["tracks"] == [{**track, "duration_ms": None}]
    patched = api.patch(f"/v1/playlists/{playlist['id']}", json={"name": "Sunnier"}, headers=auth).json()
    assert patched["name"] == "Sunnier" and patched["description"] == "for good days"
    assert patched["updated_at"] >= playlist["updated_at"]
    assert [p["id"] for p in api.get("/v1/playlists", headers=auth).json()["items"]] == [playlist["id"]]
    assert api.delete(f"/v1/playlists/{playlist['id']}", headers=auth).status_code == 204
    assert api.get(f"/v1/playlists/{playlist['id']}", headers=auth).status_code == 404
    assert api.post("/v1/playlists", json={"name": ""}, headers=auth).status_code == 422


def test_nobody_reads_changes_or_deletes_anyone_elses_things(api: httpx.Client, embedded_stack: Stack) -> None:
    _, alice = sign_up_and_login(api)
    _, bob = sign_up_and_login(api)
    playlist = api.post("/v1/playlists", json={"name": "Alice's"}, headers=bearer(alice)).json()
    event = api.post("/v1/moods/text", json={"text": "i am happy"}, headers=bearer(alice)).json()
    job_id = _seed_job(embedded_stack, api.get("/v1/users/me", headers=bearer(alice)).json()["id"])

    attempts: tuple[tuple[str, str, dict[str, Any]], ...] = (("GET", f"/v1/playlists/{playlist['id']}", {}),
                                 ("PATCH", f"/v1/playlists/{playlist['id']}", {"json": {"name": "Bob's now"}}),
                                 ("DELETE", f"/v1/playlists/{playlist['id']}", {}),
                                 ("GET", f"/v1/mood-events/{event['event_id']}", {}),
                                 ("GET", f"/v1/jobs/{job_id}", {}))
    for method, path, kwargs in attempts:
        response = api.request(method, path, headers=bearer(bob), **kwargs)
        assert response.status_code == 404, f"{method} {path} answered {response.status_code}"
    assert api.get("/v1/playlists", headers=bearer(bob)).json()["items"] == []
    assert api.get("/v1/moods/history", headers=bearer(bob)).json()["items"] == []
    assert api.get(f"/v1/playlists/{playlist['id']}", headers=bearer(alice)).json()["name"] == "Alice's"
    assert api.get(f"/v1/jobs/{job_id}", headers=bearer(alice)).json()["state"] == "running"
    assert api.get(f"/v1/mood-events/{event['event_id']}").status_code == 404, "owned events need their owner"


def _seed_job(stack: Stack, owner_id: str) -> str:
    """The melody issue creates jobs; until then the test writes one the way that worker will."""
    now = datetime.now(UTC)
    client: MongoClient[dict[str, Any]]
    with MongoClient(stack.mongo_url) as client:
        job: dict[str, Any] = {
            "owner_id": owner_id, "kind": "melody", "state": "running", "progress": 0.5,
            "parameters": {"mood": "joy"}, "result_keys": [], "error": None, "created_at": now, "updated_at": now}
        result = client[stack.config.mongo_database].generation_jobs.insert_one(job)  # type: ignore[arg-type]
    return str(result.inserted_id)


def test_deleting_the_account_removes_everything_it_owns(api: httpx.Client, embedded_stack: Stack) -> None:
    email, tokens = sign_up_and_login(api)
    auth = bearer(tokens)
    user_id = api.get("/v1/users/me", headers=auth).json()["id"]
    api.post("/v1/moods/text", json={"text": "i am happy"}, headers=auth)
    api.post("/v1/playlists", json={"name": "Mine"}, headers=auth)
    _seed_job(embedded_stack, user_id)
    deleted = api.delete("/v1/users/me", headers=auth)
    assert deleted.status_code == 200
    assert deleted.json()["deleted"] == {"mood_events": 1, "playlists": 1, "generation_jobs": 1, "track_feedback": 0,
                                         "files": 0}
    client: MongoClient[dict[str, Any]]
    with MongoClient(embedded_stack.mongo_url) as client:
        db = client[embedded_stack.config.mongo_database]
        for name in ("mood_events", "playlists", "generation_jobs"):
            assert db[name].count_documents({"owner_id": user_id}) == 0
        assert db.users.count_documents({"email": email}) == 0
        assert db.refresh_tokens.count_documents({"user_id": user_id}) == 0
    assert api.get("/v1/users/me", headers=auth).status_code == 401
    assert api.post("/v1/auth/token", data={"username": email, "password": PASSWORD}).status_code == 401


def test_oversized_json_body_is_413(api: httpx.Client) -> None:
    response = api.post("/v1/users", content=b'{"email": "' + b"a" * 300_000 + b'"}',
                        headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_production_refuses_a_default_or_short_secret() -> None:
    with pytest.raises(RuntimeError, match="JWT_SECRET"):
        check_production_safety(Settings(environment="production"))
    with pytest.raises(RuntimeError, match="at least 32"):
        check_production_safety(Settings(environment="production", jwt_secret="short"))
    with pytest.raises(RuntimeError, match="S3_SECRET_KEY"):
        check_production_safety(Settings(environment="production", jwt_secret="x" * 40))
    check_production_safety(Settings(environment="production", jwt_secret="x" * 40, s3_secret_key="y" * 40))
    # Spotify's tokens are sealed with their own key outside development, never one derived from the JWT secret.
    with pytest.raises(RuntimeError, match="SPOTIFY_TOKEN_KEY"):
        check_production_safety(Settings(environment="production", jwt_secret="x" * 40, s3_secret_key="y" * 40,
                                         spotify_client_id="museaika-app"))
    check_production_safety(Settings(environment="production", jwt_secret="x" * 40, s3_secret_key="y" * 40,
                                     spotify_client_id="museaika-app",
                                     spotify_token_key=Fernet.generate_key().decode()))


def test_anonymous_mood_events_have_unguessable_ids(api: httpx.Client) -> None:
    """Anyone with an anonymous event's id may read it, so its neighbours must not be derivable from it."""
    first, second = (api.post("/v1/moods/text", json={"text": text}).json()["event_id"]
                     for text in ("what a happy day", "i feel so sad"))
    a, b = ObjectId(first).binary, ObjectId(second).binary
    # Plain ObjectIds made back to back share 9 bytes (time + process) and differ by 1 in the counter.
    assert a[:9] != b[:9] or abs(int.from_bytes(a[9:], "big") - int.from_bytes(b[9:], "big")) > 1000
    neighbour = ObjectId(a[:9] + ((int.from_bytes(a[9:], "big") + 1) % 2**24).to_bytes(3, "big"))
    assert api.get(f"/v1/mood-events/{neighbour}").status_code == 404
    assert api.get(f"/v1/mood-events/{first}").status_code == 200


def test_a_stored_playlist_outside_the_input_rules_is_still_read(api: httpx.Client, embedded_stack: Stack) -> None:
    """Answers have their own lenient models: a playlist stored before an input rule existed (or made by a journey
    from catalog data) is read, listed and changed as stored, never answered with a 500."""
    _, tokens = sign_up_and_login(api)
    auth = bearer(tokens)
    odd_track = {"title": "t" * 400, "artist": "", "uri": None, "duration_ms": 2 * 24 * 3600 * 1000}
    refused = api.post("/v1/playlists", json={"name": "Too long", "tracks": [odd_track]}, headers=auth)
    assert refused.status_code == 422, "each of these breaks an input rule"
    now = datetime.now(UTC)
    document: dict[str, Any] = {
        "owner_id": api.get("/v1/users/me", headers=auth).json()["id"], "name": "n" * 250, "description": "d" * 2500,
        "mood": {"label": "elated", "valence": 1.5, "arousal": -1.25},
        "tracks": [odd_track] + [{"title": f"Song {i}", "artist": "Band"} for i in range(500)],
        "spotify_id": None, "spotify_url": None, "created_at": now, "updated_at": now}
    client: MongoClient[dict[str, Any]]
    with MongoClient(embedded_stack.mongo_url) as client:
        playlists = client[embedded_stack.config.mongo_database].playlists
        playlist_id = str(playlists.insert_one(document).inserted_id)  # type: ignore[arg-type]

    read = api.get(f"/v1/playlists/{playlist_id}", headers=auth)
    assert read.status_code == 200, read.text
    playlist = read.json()
    assert playlist["name"] == document["name"] and playlist["mood"] == document["mood"]
    assert len(playlist["tracks"]) == 501 and playlist["tracks"][0] == odd_track
    listed = api.get("/v1/playlists", headers=auth)
    assert listed.status_code == 200 and [p["id"] for p in listed.json()["items"]] == [playlist_id]
    patched = api.patch(f"/v1/playlists/{playlist_id}", json={"description": "kept"}, headers=auth)
    assert patched.status_code == 200 and patched.json()["description"] == "kept", patched.text
