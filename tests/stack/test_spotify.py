"""Linking Spotify and using it, with the real spotipy client against the Spotify-shaped stand-in
(standins/spotify): PKCE + state, sealed tokens, refresh, 429/401/403/outage paths, saving playlists.

Runs on its own stack (the stand-in's faults are global)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from pymongo import MongoClient

from launcher.stack import Stack, StackConfig
from tests.support.api_client import new_user

CATALOG_CSV = Path(__file__).resolve().parents[1] / "fixtures" / "spotify_tracks_small.csv"
SPOTIFY_USER = "museaika-ada"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, mongo_url: str, mongo_database: str) -> Iterator[Stack]:
    database = f"{mongo_database}_spotify"  # its own catalog
    config = StackConfig(run_dir=tmp_path_factory.mktemp("spotify"), mongo_url=mongo_url, mongo_database=database,
                         models=[], start_worker=False, spotify_standin=True,
                         extra_env={"MUSEAIKA_SPOTIFY_MAX_WAIT_S": "2", "MUSEAIKA_RETRY_AFTER_S": "5",
                                    # Asked for, but the stand-in is a new app: the endpoint is closed (404).
                                    "MUSEAIKA_SPOTIFY_USE_RECOMMENDATIONS_ENDPOINT": "true"})
    with Stack(config) as started:
        subprocess.run([sys.executable, "-m", "orchestrator.catalog.import_csv", str(CATALOG_CSV), "--mongo-url",
                        mongo_url, "--database", database], check=True, capture_output=True, timeout=120)
        yield started


@pytest.fixture(scope="module")
def api(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.orchestrator_url, timeout=60) as client:
        yield client


@pytest.fixture
def spotify(stack: Stack) -> Iterator[httpx.Client]:
    """The stand-in's control API; every test leaves it as configured."""
    assert stack.spotify_url is not None
    with httpx.Client(base_url=stack.spotify_url, timeout=10) as client:
        yield client
        client.post("/_control/reset")


def link(api: httpx.Client, user: dict[str, str], spotify_user: str = SPOTIFY_USER) -> dict[str, Any]:
    authorize_url = api.get("/v1/spotify/login", headers=user).json()["authorize_url"]
    # The browser: Spotify's consent (the stand-in approves as `spotify_user`), then back to our callback.
    consent = httpx.get(f"{authorize_url}&standin_user={spotify_user}", follow_redirects=False, timeout=10)
    assert consent.status_code in (302, 303), consent.text
    callback = api.get(consent.headers["location"].removeprefix(str(api.base_url).rstrip("/")))
    assert callback.status_code == 200, callback.text
    return dict(callback.json())


@pytest.fixture
def linked_user(api: httpx.Client, spotify: httpx.Client) -> dict[str, str]:
    user = new_user(api)
    link(api, user)
    return user


def test_pkce_login_with_a_single_use_state(api: httpx.Client, stack: Stack, spotify: httpx.Client) -> None:
    user = new_user(api)
    assert api.get("/v1/spotify/link", headers=user).json() == {
        "linked": False, "spotify_user_id": None, "display_name": None, "scope": None, "linked_at": None}
    authorize_url = api.get("/v1/spotify/login", headers=user).json()["authorize_url"]
    query = parse_qs(urlparse(authorize_url).query)
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) >= 43
    assert query["response_type"] == ["code"] and query["client_id"] == ["museaika-demo"]
    assert set(query["scope"][0].split()) == {"user-library-read", "user-top-read", "playlist-modify-private"}
    consent = httpx.get(f"{authorize_url}&standin_user={SPOTIFY_USER}", follow_redirects=False, timeout=10)
    callback_path = consent.headers["location"].removeprefix(stack.orchestrator_url)
    linked = api.get(callback_path)
    assert linked.status_code == 200 and linked.json()["spotify_user_id"] == SPOTIFY_USER
    replayed = api.get(callback_path)
    assert replayed.status_code == 400 and "unknown or expired login state" in replayed.text
    forged = api.get("/v1/spotify/callback", params={"state": "made-up", "code": "whatever"})
    assert forged.status_code == 400
    denied = api.get("/v1/spotify/callback", params={"state": "x", "error": "access_denied"})
    assert denied.status_code == 400 and "access_denied" in denied.text
    assert api.get("/v1/spotify/link", headers=user).json()["linked"] is True
    client: MongoClient[dict[str, Any]]
    with MongoClient(stack.mongo_url) as client:
        stored = client[stack.config.mongo_database].users.find_one({"spotify.user_id": SPOTIFY_USER})
    assert stored is not None
    for field in ("access_token", "refresh_token"):  # sealed (Fernet), never the token itself
        assert stored["spotify"][field].startswith("gAAAA")
    assert api.get("/v1/spotify/login").status_code == 401


def test_recommendations_use_the_users_own_tracks(api: httpx.Client, linked_user: dict[str, str]) -> None:
    answer = api.post("/v1/recommendations", headers=linked_user, json={"mood": {"label": "happy"}}).json()
    library = answer["sources"]["library"]
    assert library["used"] is True and library["tracks"] > 0 and library["with_features"] > 0
    assert any(t["in_library"] for t in answer["tracks"])
    closed = answer["sources"]["spotify_recommendations"]
    assert closed["used"] is False and "(404)" in closed["reason"]  # never required: the catalog answered
    without = api.post("/v1/recommendations", headers=linked_user,
                       json={"mood": {"label": "happy"}, "include_library": False}).json()
    assert without["sources"]["library"]["used"] is False


def test_an_expired_token_is_refreshed_once(api: httpx.Client, stack: Stack, spotify: httpx.Client,
                                            linked_user: dict[str, str]) -> None:
    spotify.post("/_control/expire-tokens")
    answer = api.post("/v1/recommendations", headers=linked_user, json={"mood": {"label": "sad"}}).json()
    assert answer["sources"]["library"]["used"] is True
    spotify.post("/_control/expire-tokens")
    spotify.post("/_control/revoke-refresh-tokens")
    relink = api.post("/v1/recommendations", headers=linked_user, json={"mood": {"label": "sad"}}).json()
    library = relink["sources"]["library"]
    assert library["used"] is False and "link Spotify again" in library["reason"]


def test_rate_limits_short_ones_waited_out_long_ones_503(api: httpx.Client, spotify: httpx.Client,
                                                         linked_user: dict[str, str]) -> None:
    spotify.post("/_control/rate-limit", json={"count": 1, "retry_after_s": 1})
    waited = api.post("/v1/recommendations", headers=linked_user, json={"mood": {"label": "sad"}}).json()
    assert waited["sources"]["library"]["used"] is True
    playlist = api.post("/v1/playlists/journey", headers=linked_user,
                        json={"from": {"label": "sad"}, "preset": "cheer me up", "length": 6}).json()
    spotify.post("/_control/rate-limit", json={"count": 5, "retry_after_s": 30})
    refused = api.post(f"/v1/playlists/{playlist['id']}/spotify", headers=linked_user)
    assert refused.status_code == 503 and refused.headers["retry-after"] == "30"
    assert "rate limited" in refused.json()["detail"] and "kept here" in refused.json()["detail"]
    catalog_only = api.post("/v1/recommendations", headers=linked_user, json={"mood": {"label": "sad"}})
    assert catalog_only.status_code == 200 and catalog_only.json()["tracks"]


def test_accounts_off_the_allow_list_get_a_clear_403(api: httpx.Client, spotify: httpx.Client,
                                                     linked_user: dict[str, str]) -> None:
    playlist = api.post("/v1/playlists/journey", headers=linked_user,
                        json={"from": {"label": "angry"}, "preset": "calm me down", "length": 5}).json()
    spotify.put("/_control/allow-list", json={"users": ["museaika-bo"]})
    refused = api.post(f"/v1/playlists/{playlist['id']}/spotify", headers=linked_user)
    assert refused.status_code == 403 and "allow-list" in refused.json()["detail"]


def test_a_journey_saved_to_spotify_and_a_long_playlist_in_chunks(api: httpx.Client, spotify: httpx.Client,
                                                                  linked_user: dict[str, str]) -> None:
    created = api.post("/v1/playlists/journey", headers=linked_user,
                       json={"from": {"label": "sad"}, "preset": "cheer me up", "length": 12,
                             "name": "Up from the blues", "save_to_spotify": True})
    assert created.status_code == 201, created.text
    journey = created.json()
    assert journey["spotify_id"] and journey["spotify_url"]
    on_spotify = {p["id"]: p for p in spotify.get("/_control/playlists").json()["playlists"]}
    saved = on_spotify[journey["spotify_id"]]
    assert saved["owner_id"] == SPOTIFY_USER and saved["name"] == "Up from the blues" and not saved["public"]
    assert saved["uris"] == [t["uri"] for t in journey["tracks"]]
    catalog = api.post("/v1/recommendations", json={"mood": {"label": "happy"}, "limit": 50}).json()["tracks"]
    tracks = ([{"title": t["name"], "artist": t["artist"], "uri": t["uri"]} for t in catalog] * 4)[:150]
    plain = api.post("/v1/playlists", headers=linked_user, json={"name": "Long", "tracks": tracks}).json()
    pushed = api.post(f"/v1/playlists/{plain['id']}/spotify", headers=linked_user)
    assert pushed.status_code == 200, pushed.text
    playlists = {p["id"]: p for p in spotify.get("/_control/playlists").json()["playlists"]}
    long_one = playlists[pushed.json()["spotify_id"]]
    assert long_one["uris"] == [t["uri"] for t in tracks]
    adds = [r for r in spotify.get("/_control/requests").json()["requests"]
            if r["method"] == "POST" and r["path"].endswith(f"/playlists/{long_one['id']}/items")]
    assert len(adds) == 2  # 100 + 50
    unknown = api.post("/v1/playlists", headers=linked_user, json={"name": "Odd", "tracks": [
        {"title": "Nope", "artist": "Nobody", "uri": "spotify:track:0000000000000000000000"}]}).json()
    refused = api.post(f"/v1/playlists/{unknown['id']}/spotify", headers=linked_user)
    assert refused.status_code == 422 and "non-existing ID" in refused.json()["detail"]


def test_spotify_down_keeps_recommendations_and_unlink(api: httpx.Client, spotify: httpx.Client,
                                                       linked_user: dict[str, str]) -> None:
    spotify.post("/_control/outage", json={"enabled": True})
    answer = api.post("/v1/recommendations", headers=linked_user, json={"mood": {"label": "happy"}})
    assert answer.status_code == 200 and answer.json()["sources"]["library"]["used"] is False
    playlist = api.post("/v1/playlists/journey", headers=linked_user,
                        json={"from": {"label": "happy"}, "preset": "wind down", "length": 5}).json()
    down = api.post(f"/v1/playlists/{playlist['id']}/spotify", headers=linked_user)
    assert down.status_code == 503 and down.json()["dependency"] == "spotify" and "retry-after" in down.headers
    spotify.post("/_control/outage", json={"enabled": False})
    assert api.delete("/v1/spotify/link", headers=linked_user).status_code == 204
    assert api.get("/v1/spotify/link", headers=linked_user).json()["linked"] is False
    unlinked = api.post(f"/v1/playlists/{playlist['id']}/spotify", headers=linked_user)
    assert unlinked.status_code == 409 and "/v1/spotify/login" in unlinked.text
