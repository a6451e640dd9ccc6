"""The Spotify stand-in (standins.spotify) driven by the real spotipy client.

How spotipy 2.26 is pointed at it: the Accounts URLs are class attributes of SpotifyOAuth / SpotifyPKCE
(OAUTH_AUTHORIZE_URL, OAUTH_TOKEN_URL; no constructor arguments), set here on the instance; the Web API
base is Spotify.prefix, an attribute set after construction (Spotify() has no prefix argument).

The module's server runs as the launcher runs it (launcher.services.spotify_standin → python -m
standins.spotify); tests that need another configuration serve create_app() in-process with uvicorn.
"""

from __future__ import annotations

import contextlib
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
import spotipy
import uvicorn
from spotipy.cache_handler import MemoryCacheHandler
from spotipy.oauth2 import SpotifyOAuth, SpotifyOauthError, SpotifyPKCE

from launcher import services
from launcher.process import free_port
from standins.spotify import SpotifyStandinConfig, create_app
from standins.spotify.app import NOT_ALLOW_LISTED
from standins.spotify.catalog import load_tracks
from standins.spotify.seed import CSV_COLUMNS, synthetic_csv

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURE = REPO_ROOT / "tests" / "fixtures" / "spotify_tracks_small.csv"
CLIENT_ID = "museaika-test-client"
CLIENT_SECRET = "not-a-real-secret-0123456789"
REDIRECT_URI = "http://127.0.0.1:8765/spotify/callback"
SCOPES = ("user-read-private user-read-email user-library-read user-top-read playlist-read-private "
          "playlist-modify-private playlist-modify-public")
ADA, BO = "museaika-ada", "museaika-bo"
CATALOG = load_tracks(FIXTURE)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    process, url = services.spotify_standin(tmp_path_factory.mktemp("spotify-standin"), CLIENT_ID, CLIENT_SECRET,
                                            REDIRECT_URI, tracks_csv=FIXTURE)
    process.start()
    try:
        process.wait_ready()
        yield url
    finally:
        process.stop()


@pytest.fixture
def base(server: str) -> str:
    """The module's server, back to its configured state (no faults, playlists or tokens)."""
    httpx.post(f"{server}/_control/reset", timeout=5).raise_for_status()
    return server


@contextlib.contextmanager
def serve(config: SpotifyStandinConfig) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(config), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "in-process stand-in did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def pkce(base: str, scope: str = SCOPES) -> SpotifyPKCE:
    auth = SpotifyPKCE(client_id=CLIENT_ID, redirect_uri=REDIRECT_URI, scope=scope, open_browser=False,
                       cache_handler=MemoryCacheHandler(), requests_timeout=5)
    auth.OAUTH_AUTHORIZE_URL = f"{base}/authorize"
    auth.OAUTH_TOKEN_URL = f"{base}/api/token"
    return auth


def oauth(base: str, secret: str = CLIENT_SECRET, scope: str = SCOPES) -> SpotifyOAuth:
    auth = SpotifyOAuth(client_id=CLIENT_ID, client_secret=secret, redirect_uri=REDIRECT_URI, scope=scope,
                        open_browser=False, cache_handler=MemoryCacheHandler(), requests_timeout=5)
    auth.OAUTH_AUTHORIZE_URL = f"{base}/authorize"
    auth.OAUTH_TOKEN_URL = f"{base}/api/token"
    return auth


def approve(auth: SpotifyOAuth | SpotifyPKCE, user: str = ADA, state: str = "st4te") -> str:
    """Follow /authorize as a browser would, approving as `user`; the code from the redirect."""
    url = f"{auth.get_authorize_url(state=state)}&{urlencode({'standin_user': user})}"
    response = httpx.get(url, timeout=5)
    assert response.status_code == 303, response.text
    location = response.headers["Location"]
    assert location.startswith(f"{REDIRECT_URI}?")
    returned_state, code = SpotifyOAuth.parse_auth_response_url(location)
    assert returned_state == state and code
    return str(code)


def login(base: str, user: str = ADA, scope: str = SCOPES) -> tuple[str, SpotifyPKCE]:
    auth = pkce(base, scope)
    token = auth.get_access_token(approve(auth, user), check_cache=False)
    return str(token), auth


def client(base: str, token: str, **kwargs: Any) -> spotipy.Spotify:
    sp = spotipy.Spotify(auth=token, requests_timeout=5, retries=0, status_retries=0, **kwargs)
    sp.prefix = f"{base}/v1/"
    return sp


def raises_spotify(status: int) -> pytest.RaisesExc[spotipy.SpotifyException]:
    return pytest.raises(spotipy.SpotifyException, check=lambda e: e.http_status == status)


def test_fixture_is_the_synthetic_catalogue() -> None:
    text = FIXTURE.read_text()
    assert text == synthetic_csv(), "regenerate: python -m standins.spotify.seed > tests/fixtures/..."
    assert text.splitlines()[0].split(",") == CSV_COLUMNS
    assert len(CATALOG) == 80 and len({t.id for t in CATALOG}) == 80
    per_artist: dict[str, int] = {}
    for track in CATALOG:
        per_artist[track.artist_name] = per_artist.get(track.artist_name, 0) + 1
    assert min(per_artist.values()) >= 3
    valences = [float(t.features["valence"]) for t in CATALOG]
    energies = [float(t.features["energy"]) for t in CATALOG]
    assert min(valences) < 0.2 < 0.8 < max(valences) and min(energies) < 0.2 < 0.9 < max(energies)


def test_pkce_code_flow_and_profile(base: str) -> None:
    token, auth = login(base)
    info = auth.cache_handler.get_cached_token()
    assert info["token_type"] == "Bearer" and info["refresh_token"] and info["expires_in"] == 3600
    assert set(info["scope"].split()) == set(SCOPES.split())
    me = client(base, token).me()  # spotipy asks for "me/"
    assert me["id"] == ADA and me["display_name"] == "Ada Listener"
    assert me["uri"] == f"spotify:user:{ADA}" and me["external_urls"]["spotify"].endswith(f"/user/{ADA}")
    # February 2026, Development Mode: the profile no longer carries email, country, product, followers.
    assert not {"email", "country", "product", "followers"} & set(me)


def test_pkce_wrong_verifier_and_reused_code_are_invalid_grant(base: str) -> None:
    auth = pkce(base)
    code = approve(auth)
    right = auth.code_verifier
    auth.code_verifier = "x" * 64
    with pytest.raises(SpotifyOauthError) as wrong:
        auth.get_access_token(code, check_cache=False)
    assert (wrong.value.error, wrong.value.error_description) == ("invalid_grant", "code_verifier was incorrect")
    auth.code_verifier = right
    with pytest.raises(SpotifyOauthError) as reused:  # a code is single-use, even after a failed exchange
        auth.get_access_token(code, check_cache=False)
    assert (reused.value.error, reused.value.error_description) == ("invalid_grant", "Invalid authorization code")


def test_authorize_validates_like_spotify(base: str) -> None:
    auth = pkce(base)
    good = auth.get_authorize_url(state="s")

    def get(url: str) -> httpx.Response:
        return httpx.get(url, timeout=5)

    assert get(good.replace(CLIENT_ID, "someone-else")).status_code == 400
    bad_redirect = get(good.replace("callback", "callback%2F"))
    assert (bad_redirect.status_code, bad_redirect.text) == (400, "INVALID_CLIENT: Invalid redirect URI")
    plain = parse_qs(urlsplit(get(good.replace("S256", "plain")).headers["Location"]).query)
    assert plain["error"] == ["invalid_request"] and plain["state"] == ["s"]
    denied = parse_qs(urlsplit(get(f"{good}&standin_decision=deny").headers["Location"]).query)
    assert denied == {"error": ["access_denied"], "state": ["s"]}
    scope = parse_qs(urlsplit(get(good.replace("user-top-read", "user-everything")).headers["Location"]).query)
    assert scope["error"] == ["invalid_scope"]
    page = get(good)  # nobody decided beforehand: a consent page listing the accounts
    assert page.status_code == 200 and ADA in page.text and "standin_user" in page.text
    httpx.post(f"{base}/_control/authorize", json={"decision": "deny"}, timeout=5).raise_for_status()
    assert "error=access_denied" in get(good).headers["Location"]
    httpx.post(f"{base}/_control/authorize", json={"decision": "approve", "user_id": BO},
                  timeout=5).raise_for_status()
    code = SpotifyOAuth.parse_auth_response_url(get(good).headers["Location"])[1]
    assert client(base, str(auth.get_access_token(code, check_cache=False))).me()["id"] == BO


def test_secret_flow_refresh_rotates_the_refresh_token(base: str) -> None:
    with pytest.raises(SpotifyOauthError) as bad_secret:
        wrong = oauth(base, secret="wrong")
        wrong.get_access_token(approve(wrong), as_dict=False, check_cache=False)
    assert (bad_secret.value.error, bad_secret.value.error_description) == ("invalid_client", "Invalid client secret")

    auth = oauth(base)
    first = auth.get_access_token(approve(auth), as_dict=False, check_cache=False)
    old_refresh = auth.cache_handler.get_cached_token()["refresh_token"]
    renewed = auth.refresh_access_token(old_refresh)
    assert renewed["access_token"] != first and renewed["refresh_token"] != old_refresh
    assert client(base, renewed["access_token"]).me()["id"] == ADA
    assert client(base, first).me()["id"] == ADA  # refreshing does not end the previous access token
    with pytest.raises(SpotifyOauthError) as stale:
        auth.refresh_access_token(old_refresh)
    assert (stale.value.error, stale.value.error_description) == ("invalid_grant", "Invalid refresh token")


def test_expired_and_invalid_tokens_are_401(base: str) -> None:
    token, auth = login(base)
    sp = client(base, token)
    sp.me()
    httpx.post(f"{base}/_control/expire-tokens", timeout=5).raise_for_status()
    with raises_spotify(401) as expired:
        sp.me()
    assert "The access token expired" in expired.value.msg
    assert 'error="invalid_token"' in expired.value.headers["WWW-Authenticate"]
    # spotipy's auth manager only refreshes by its own clock; after a 401 the caller refreshes.
    renewed = auth.refresh_access_token(auth.cache_handler.get_cached_token()["refresh_token"])
    assert client(base, renewed["access_token"]).me()["id"] == ADA
    with raises_spotify(401) as invalid:
        client(base, "BQnot-a-token").me()
    assert "Invalid access token" in invalid.value.msg
    missing = httpx.get(f"{base}/v1/me", timeout=5)
    assert missing.json() == {"error": {"status": 401, "message": "No token provided"}}


def test_token_ttl() -> None:
    config = SpotifyStandinConfig(CLIENT_ID, CLIENT_SECRET, [REDIRECT_URI], token_ttl_s=0.4)
    with serve(config) as url:
        token, _ = login(url)
        sp = client(url, token)
        assert sp.me()["id"] == ADA
        time.sleep(0.5)
        with raises_spotify(401) as expired:
            sp.me()
        assert "The access token expired" in expired.value.msg


def test_rate_limit_answers_429_with_retry_after(base: str) -> None:
    token, _ = login(base)
    httpx.post(f"{base}/_control/rate-limit", json={"count": 1, "retry_after_s": 7}, timeout=5).raise_for_status()
    limited = httpx.get(f"{base}/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "7"
    assert limited.json() == {"error": {"status": 429, "message": "API rate limit exceeded"}}
    assert client(base, token).me()["id"] == ADA  # only the next N calls

    # spotipy with retries=0 and its default status_forcelist (429 in it): urllib3 gives up at once and
    # spotipy raises 429 "Max Retries" with no headers...
    httpx.post(f"{base}/_control/rate-limit", json={"count": 1, "retry_after_s": 7}, timeout=5)
    with raises_spotify(429) as no_headers:
        client(base, token).me()
    assert "Max Retries" in no_headers.value.msg and "Retry-After" not in no_headers.value.headers
    # ...without 429 in the forcelist the response itself reaches the caller, Retry-After included.
    httpx.post(f"{base}/_control/rate-limit", json={"count": 1, "retry_after_s": 7}, timeout=5)
    with raises_spotify(429) as with_headers:
        client(base, token, status_forcelist=(500, 502, 504)).me()
    assert with_headers.value.headers["Retry-After"] == "7" and "API rate limit exceeded" in with_headers.value.msg
    # With retries, urllib3 sleeps Retry-After seconds and tries again.
    httpx.post(f"{base}/_control/rate-limit", json={"count": 1, "retry_after_s": 1}, timeout=5)
    patient = spotipy.Spotify(auth=token, requests_timeout=5, retries=2, status_retries=2)
    patient.prefix = f"{base}/v1/"
    started = time.monotonic()
    assert patient.me()["id"] == ADA
    assert time.monotonic() - started >= 1.0


def test_allow_list_403(base: str) -> None:
    token, _ = login(base)
    sp = client(base, token)
    httpx.put(f"{base}/_control/allow-list", json={"users": [BO]}, timeout=5).raise_for_status()
    with raises_spotify(403) as refused:
        sp.me()
    assert NOT_ALLOW_LISTED in refused.value.msg  # Spotify answers this one as plain text, not JSON
    raw = httpx.get(f"{base}/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert raw.headers["content-type"].startswith("text/plain") and raw.text == NOT_ALLOW_LISTED
    httpx.put(f"{base}/_control/allow-list", json={"users": [ADA, BO]}, timeout=5).raise_for_status()
    assert sp.me()["id"] == ADA


def test_saved_tracks_top_tracks_and_search_are_paged(base: str) -> None:
    token, _ = login(base)
    sp = client(base, token)
    page = sp.current_user_saved_tracks(limit=20)
    assert (page["total"], page["limit"], page["offset"], page["previous"]) == (45, 20, 0, None)
    saved = list(page["items"])
    while page["next"]:
        page = sp.next(page)
        saved += page["items"]
    assert [len(saved), page["offset"], page["next"]] == [45, 40, None] and page["previous"]
    assert len({item["track"]["id"] for item in saved}) == 45
    assert [item["added_at"] for item in saved] == sorted((item["added_at"] for item in saved), reverse=True)
    track = saved[0]["track"]
    assert track["uri"] == f"spotify:track:{track['id']}" and track["type"] == "track"
    assert track["artists"][0]["uri"].startswith("spotify:artist:") and track["album"]["album_type"] == "single"
    assert track["external_urls"]["spotify"].endswith(track["id"]) and track["is_local"] is False
    assert {"duration_ms", "explicit", "name"} <= set(track) and "popularity" not in track  # Feb 2026 dev mode
    with raises_spotify(400):
        sp.current_user_saved_tracks(limit=51)

    short = sp.current_user_top_tracks(limit=10, time_range="short_term")
    assert (short["total"], len(short["items"])) == (25, 10) and "time_range=short_term" in short["next"]
    assert [t["id"] for t in sp.next(short)["items"]] != [t["id"] for t in short["items"]]
    assert sp.current_user_top_tracks(limit=10, time_range="long_term")["items"] != short["items"]

    wanted = CATALOG[17]
    found = sp.search(q=f'track:"{wanted.name}" artist:"{wanted.artist_name}"', type="track", limit=5)
    assert found["tracks"]["items"][0]["id"] == wanted.id
    by_artist = sp.search(q=f'artist:"{wanted.artist_name}"', type="track", limit=2)
    assert by_artist["tracks"]["total"] >= 3 and len(sp.next(by_artist["tracks"])["tracks"]["items"]) >= 1
    with raises_spotify(400):  # February 2026, Development Mode: at most 10 per type
        sp.search(q="rain", type="track", limit=11)
    assert sp.track(wanted.uri)["name"] == wanted.name
    with raises_spotify(404):
        sp.track("0" * 22)


def test_playlist_created_with_me_playlists_and_filled_in_chunks(base: str) -> None:
    token, _ = login(base)
    sp = client(base, token)
    playlist = sp.current_user_playlist_create("MuseAIka: calm evening", public=False,
                                               description="Made from your mood")
    assert len(playlist["id"]) == 22 and playlist["uri"] == f"spotify:playlist:{playlist['id']}"
    assert playlist["external_urls"]["spotify"].endswith(f"/playlist/{playlist['id']}")
    assert playlist["owner"]["id"] == ADA and playlist["public"] is False
    assert playlist["items"]["total"] == 0 and "tracks" not in playlist  # February 2026: tracks → items

    uris = [t.uri for t in (CATALOG * 3)[:230]]
    snapshots = [sp.playlist_add_items(playlist["id"], uris[at:at + 100])["snapshot_id"] for at in (0, 100, 200)]
    assert len(set(snapshots)) == 3
    with raises_spotify(400) as too_many:
        sp.playlist_add_items(playlist["id"], uris[:101])
    assert "maximum of 100" in too_many.value.msg
    with raises_spotify(400):
        sp.playlist_add_items(playlist["id"], ["spotify:track:" + "Z" * 22])

    page = sp.playlist_items(playlist["id"], limit=50)
    entries = list(page["items"])
    while page["next"]:
        page = sp.next(page)
        entries += page["items"]
    assert [e["item"]["uri"] for e in entries] == uris  # each entry's track → item
    assert "track" not in entries[0] and entries[0]["added_by"]["id"] == ADA
    assert sp.playlist(playlist["id"])["items"]["total"] == 230
    assert sp.current_user_playlists()["items"][0]["items"] == {
        "href": f"{base}/v1/playlists/{playlist['id']}/items", "total": 230}

    created = httpx.get(f"{base}/_control/playlists", timeout=5).json()["playlists"]
    assert [(p["name"], p["owner_id"], p["public"], p["uris"]) for p in created] == [
        ("MuseAIka: calm evening", ADA, False, uris)]
    log = httpx.get(f"{base}/_control/requests", timeout=5).json()["requests"]
    posts = [r["status"] for r in log if r["method"] == "POST" and r["path"].endswith("/items")]
    assert posts == [201, 201, 201, 400, 400]

    narrow, _ = login(base, scope="playlist-modify-public")
    with raises_spotify(403) as scope:
        client(base, narrow).current_user_playlist_create("private one", public=False)
    assert "Insufficient client scope" in scope.value.msg


def test_removed_and_closed_endpoints(base: str) -> None:
    token, _ = login(base)
    sp = client(base, token)
    playlist = sp.current_user_playlist_create("old paths")
    with pytest.warns(DeprecationWarning), raises_spotify(403):  # removed February 2026
        sp.user_playlist_create(ADA, "the old way")
    auth = {"Authorization": f"Bearer {token}"}
    old = f"{base}/v1/playlists/{playlist['id']}/tracks"
    assert httpx.get(old, headers=auth, timeout=5).status_code == 403
    assert httpx.post(old, headers=auth, json={"uris": [CATALOG[0].uri]}, timeout=5).status_code == 403
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with raises_spotify(404):  # closed to new apps since November 2024
            sp.recommendations(seed_tracks=[CATALOG[0].id])
        with raises_spotify(403):
            sp.audio_features([CATALOG[0].id])


def test_outage_answers_503(base: str) -> None:
    token, _ = login(base)
    httpx.post(f"{base}/_control/outage", json={"enabled": True}, timeout=5).raise_for_status()
    assert httpx.get(f"{base}/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=5).status_code == 503
    assert httpx.post(f"{base}/api/token", data={"grant_type": "client_credentials"}, timeout=5).status_code == 503
    assert httpx.get(f"{base}/_control/health", timeout=5).status_code == 200
    httpx.post(f"{base}/_control/outage", json={"enabled": False}, timeout=5).raise_for_status()
    assert client(base, token).me()["id"] == ADA


def test_extended_quota_mode_with_legacy_endpoints() -> None:
    config = SpotifyStandinConfig(CLIENT_ID, CLIENT_SECRET, [REDIRECT_URI], development_mode=False,
                                  legacy_endpoints=True)
    with serve(config) as url:
        token, _ = login(url)
        sp = client(url, token)
        me = sp.me()
        assert (me["email"], me["country"], me["product"]) == ("ada@example.test", "SE", "premium")
        assert "popularity" in sp.track(CATALOG[0].id)
        assert len(sp.search(q="a", type="track", limit=20)["tracks"]["items"]) == 20
        with pytest.warns(DeprecationWarning):
            playlist = sp.user_playlist_create(ADA, "the old way still works here")
        sp.playlist_add_items(playlist["id"], [CATALOG[0].uri])
        assert sp.playlist_items(playlist["id"])["items"][0]["track"]["id"] == CATALOG[0].id
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            calm = sp.recommendations(seed_tracks=[CATALOG[0].id], target_valence=0.1, target_energy=0.1, limit=5)
            features = sp.audio_features([t["id"] for t in calm["tracks"]])
        assert len(calm["tracks"]) == 5 and calm["seeds"][0]["id"] == CATALOG[0].id
        assert all(f["valence"] < 0.5 and f["type"] == "audio_features" for f in features)
