"""No secret or token reaches the logs. A real stack (orchestrator, generation worker, the Spotify stand-in) runs
at DEBUG, the most verbose level, while a person signs up, logs in with the right and a wrong password, refreshes
their tokens, links Spotify (whose tokens are then refreshed), makes a melody and follows it over the WebSocket
(token in the query string, as browsers must). Then every line the orchestrator and the worker wrote is searched
for each credential seen on the way: the passwords and the stored argon2 hash, the access and refresh JWTs (and
their signatures alone), Spotify's authorization code, login state and access and refresh tokens, the JWT secret,
the S3 secret key and the presigned URLs' signatures. The lines that carried one (uvicorn's WebSocket and
callback lines) must be there, masked, so the search is not vacuous."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from pymongo import MongoClient

from launcher.stack import Stack
from orchestrator.spotify.token_vault import TokenVault, derived_key
from tests.support.api_client import job_events, link_spotify, request_melody
from tests.support.stacks import SharedServices

JWT_SECRET = secrets.token_urlsafe(32)
# Quotes and a backslash between random parts: a masking that stopped at the first of them would leave the parts
# after it in the log (each part is searched for on its own too).
PASSWORD_PARTS = [secrets.token_hex(5) for _ in range(3)]
PASSWORD = "Pw{}'7\"{}\\{}".format(*PASSWORD_PARTS)
WRONG_PASSWORD_PARTS = [secrets.token_hex(5) for _ in range(3)]
WRONG_PASSWORD = "Wrong{}\\\"{}'{}".format(*WRONG_PASSWORD_PARTS)
LINK_TTL_S = 120


@pytest.fixture(scope="module")
def stack(shared: SharedServices) -> Iterator[Stack]:
    with shared.stack("secrets_in_logs", database="logs", redis_db=8, models=[], start_worker=True,
                      spotify_standin=True, catalog=True,
                      extra_env={"MUSEAIKA_LOG_LEVEL": "DEBUG", "MUSEAIKA_JWT_SECRET": JWT_SECRET,
                                 "MUSEAIKA_PRESIGNED_URL_TTL_S": str(LINK_TTL_S)}) as started:
        yield started


def stored_user(stack: Stack, email: str) -> dict[str, Any]:
    client: MongoClient[dict[str, Any]]
    with MongoClient(stack.mongo_url) as client:
        user = client[stack.config.mongo_database].users.find_one({"email": email})
    assert user is not None
    return user


def spotify_tokens(stack: Stack, email: str) -> list[str]:
    """The user's Spotify tokens as the orchestrator holds them (sealed in MongoDB, opened with its key)."""
    vault = TokenVault(derived_key(JWT_SECRET))
    user = stored_user(stack, email)
    assert user.get("spotify"), "Spotify is linked"
    opened = [vault.open(user["spotify"][field]) for field in ("access_token", "refresh_token")]
    assert all(opened)
    return [token for token in opened if token]


def with_parts(token: str) -> list[str]:
    """A JWT, and its signature alone (a log could cut a token at its dots)."""
    return [token, token.rsplit(".", 1)[-1]] if token.count(".") == 2 else [token]


def written_forms(value: str) -> set[str]:
    """How a value can appear in a JSON log line: as is, JSON-escaped once (a message or field) or twice (JSON
    text inside a message), or as Python writes it in a repr."""
    once = json.dumps(value)[1:-1]
    return {value, once, json.dumps(once)[1:-1], repr(value)[1:-1], json.dumps(repr(value)[1:-1])[1:-1]}


def test_no_secret_or_token_in_the_logs(stack: Stack) -> None:
    assert stack.s3 is not None and stack.spotify_url is not None
    secrets_seen: dict[str, str] = {"password": PASSWORD, "wrong password": WRONG_PASSWORD,
                                    "JWT secret": JWT_SECRET, "S3 secret key": stack.s3.secret_key}
    for i, part in enumerate(PASSWORD_PARTS + WRONG_PASSWORD_PARTS):
        secrets_seen[f"password part {i}"] = part
    email = f"logs-{secrets.token_hex(5)}@example.com"
    with httpx.Client(base_url=stack.orchestrator_url, timeout=120) as api, \
            httpx.Client(base_url=stack.spotify_url, timeout=30) as spotify:
        assert api.post("/v1/users", json={"email": email, "password": PASSWORD}).status_code == 201
        secrets_seen["password hash"] = stored_user(stack, email)["password_hash"]
        assert api.post("/v1/auth/token", data={"username": email, "password": WRONG_PASSWORD}).status_code == 401
        login = api.post("/v1/auth/token", data={"username": email, "password": PASSWORD})
        assert login.status_code == 200
        refreshed = api.post("/v1/auth/refresh", json={"refresh_token": login.json()["refresh_token"]})
        assert refreshed.status_code == 200
        tokens = refreshed.json()
        user = {"Authorization": f"Bearer {tokens['access_token']}"}
        for name, token in (("first access token", login.json()["access_token"]),
                            ("first refresh token", login.json()["refresh_token"]),
                            ("access token", tokens["access_token"]), ("refresh token", tokens["refresh_token"])):
            for i, part in enumerate(with_parts(token)):
                secrets_seen[f"{name}{' signature' if i else ''}"] = part

        # Spotify: the browser's round trip through the consent page, then calls with (and a refresh of) its tokens.
        returned = parse_qs(urlparse(link_spotify(api, user).callback_url).query)
        secrets_seen["Spotify authorization code"] = returned["code"][0]
        secrets_seen["Spotify login state"] = returned["state"][0]
        first_tokens = spotify_tokens(stack, email)
        spotify.post("/_control/expire-tokens")
        answer = api.post("/v1/recommendations", headers=user, json={"mood": {"label": "happy"}})
        assert answer.status_code == 200 and answer.json()["sources"]["library"]["used"] is True, answer.text
        renewed_tokens = spotify_tokens(stack, email)
        assert renewed_tokens[0] != first_tokens[0], "the access token was refreshed"
        for i, token in enumerate([*first_tokens, *renewed_tokens]):
            secrets_seen[f"Spotify token {i}"] = token

        # A melody, followed over the WebSocket with the token in its query string.
        job = request_melody(api, user, bars=2, seed=3)
        events = job_events(stack.orchestrator_url, job["id"], tokens["access_token"], timeout_s=180)
        assert events and events[-1]["stage"] == "done", events
        files = api.get(f"/v1/jobs/{job['id']}", headers=user).json()["files"]
        for kind, url in files.items():
            fields = parse_qs(urlparse(url).query)
            assert int(fields["X-Amz-Expires"][0]) == LINK_TTL_S, "links live PRESIGNED_URL_TTL_S"
            secrets_seen[f"{kind} link signature"] = fields["X-Amz-Signature"][0]
        # A replayed refresh token (a leak, as far as the server knows) is refused and logged as such.
        assert api.post("/v1/auth/refresh", json={"refresh_token": login.json()["refresh_token"]}).status_code == 401

    for name in ("orchestrator", "worker"):  # stopped first: every line is on disk
        stack.stop_service(name)
    logs = {name: (stack.config.run_dir / "logs" / f"{name}.log").read_text(errors="replace")
            for name in ("orchestrator", "worker")}
    assert len(logs["orchestrator"].splitlines()) > 50 and len(logs["worker"].splitlines()) > 5
    leaks = [f"{what} in {log}.log" for what, value in secrets_seen.items() for log, text in logs.items()
             if any(form in text for form in written_forms(value))]
    assert not leaks, leaks

    orchestrator_log = logs["orchestrator"]
    assert re.search(rf"WebSocket /v1/jobs/{job['id']}/events\?access_token=\[redacted\]", orchestrator_log)
    assert re.search(r"GET /v1/spotify/callback\?[^\"]*code=\[redacted\]", orchestrator_log)
    assert re.search(r"GET /v1/spotify/callback\?[^\"]*state=\[redacted\]", orchestrator_log)
