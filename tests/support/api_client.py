"""A client of the API, for tests: accounts, melody requests and their jobs, a linked Spotify account."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from websockets.sync.client import connect

PASSWORD = "correct horse 42"
SPOTIFY_STANDIN_USER = "museaika-ada"  # one of the Spotify stand-in's seeded accounts (standins/spotify)


def new_email() -> str:
    return f"user-{uuid.uuid4().hex[:10]}@example.com"


def sign_up_and_login(api: httpx.Client, email: str | None = None) -> tuple[str, dict[str, Any]]:
    email = email or new_email()
    assert api.post("/v1/users", json={"email": email, "password": PASSWORD}).status_code == 201
    tokens: dict[str, Any] = api.post("/v1/auth/token", data={"username": email, "password": PASSWORD}).json()
    return email, tokens


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def new_user(api: httpx.Client) -> dict[str, str]:
    """Bearer headers of a fresh account."""
    return bearer(sign_up_and_login(api)[1])


def token_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def request_melody(api: httpx.Client, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = api.post("/v1/melodies", headers=headers, json={"mood": {"label": "happy"}, "bars": 2, **body})
    assert response.status_code == 202, response.text
    job: dict[str, Any] = response.json()
    return job


def wait_for_job(api: httpx.Client, headers: dict[str, str], job_id: str, timeout_s: float = 90,
                 states: tuple[str, ...] = ("succeeded", "failed")) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job: dict[str, Any] = api.get(f"/v1/jobs/{job_id}", headers=headers).json()
        if job["state"] in states:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} not {states} after {timeout_s} s: {job}")


def job_events(base_url: str, job_id: str, token: str, timeout_s: float = 90) -> list[dict[str, Any]]:
    """Every event of a job's WebSocket until the server closes it."""
    url = base_url.replace("http://", "ws://") + f"/v1/jobs/{job_id}/events?access_token={token}"
    events = []
    with connect(url, open_timeout=10, close_timeout=5) as socket:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                message = socket.recv(timeout=deadline - time.monotonic())
            except Exception as closed:  # ConnectionClosedOK ends the stream
                if closed.__class__.__name__.startswith("ConnectionClosed"):
                    return events
                raise
            events.append(json.loads(message))
    raise AssertionError(f"no close after {timeout_s} s; events so far {events}")


@dataclass(frozen=True)
class SpotifyLink:
    callback_url: str  # where Spotify's consent sent the browser: our callback, with Spotify's code and state
    answer: dict[str, Any]  # what the callback answered


def link_spotify(api: httpx.Client, user: dict[str, str], spotify_user: str = SPOTIFY_STANDIN_USER) -> SpotifyLink:
    """Link the user's Spotify account as a browser does: our login URL → the stand-in's consent page (which
    approves as `spotify_user`) → back to our callback."""
    authorize_url = api.get("/v1/spotify/login", headers=user).json()["authorize_url"]
    consent = httpx.get(f"{authorize_url}&standin_user={spotify_user}", follow_redirects=False, timeout=30)
    assert consent.status_code in (302, 303), consent.text
    callback_url = consent.headers["location"]
    callback = api.get(callback_url.removeprefix(str(api.base_url).rstrip("/")))
    assert callback.status_code == 200, callback.text
    return SpotifyLink(callback_url, dict(callback.json()))
