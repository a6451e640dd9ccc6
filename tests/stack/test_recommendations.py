"""Recommendations and mood journeys from the track catalog, through the real orchestrator (no Spotify link:
tests/stack/test_spotify.py covers the linked paths against the Spotify-shaped stand-in)."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from launcher.stack import Stack
from tests.support.api_client import new_user

CATALOG_CSV = Path(__file__).resolve().parents[1] / "fixtures" / "spotify_tracks_small.csv"


@pytest.fixture(scope="module")
def api(embedded_stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=embedded_stack.orchestrator_url, timeout=60) as client:
        yield client


def import_catalog(stack: Stack) -> str:
    completed = subprocess.run(
        [sys.executable, "-m", "orchestrator.catalog.import_csv", str(CATALOG_CSV), "--mongo-url", stack.mongo_url,
         "--database", stack.config.mongo_database], capture_output=True, text=True, timeout=120, check=False)
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def test_an_empty_catalog_is_503_then_an_import_serves(api: httpx.Client, embedded_stack: Stack) -> None:
    empty = api.post("/v1/recommendations", json={"mood": {"label": "sad"}})
    assert empty.status_code == 503 and empty.json()["dependency"] == "track catalog"
    assert "import_csv" in empty.json()["detail"] and "retry-after" in empty.headers
    report = import_catalog(embedded_stack)
    assert "rejected 0" in report.lower() or "0 rejected" in report.lower(), report
    assert api.post("/v1/recommendations", json={"mood": {"label": "sad"}}).status_code == 200


def test_ranked_tracks_fit_the_mood_and_say_why(api: httpx.Client, embedded_stack: Stack) -> None:
    import_catalog(embedded_stack)
    answers = {label: api.post("/v1/recommendations", json={"mood": {"label": label}, "limit": 10}).json()
               for label in ("happy", "sad", "calm", "energetic")}
    for label, answer in answers.items():
        tracks = answer["tracks"]
        assert len(tracks) == 10 and answer["mood"]["label"] == label
        assert [t["fit"] for t in tracks] == sorted((t["fit"] for t in tracks), reverse=True)
        assert max(Counter(t["artist"] for t in tracks).values()) <= 2
        why = tracks[0]["why"]
        assert why["summary"].startswith(why["mood"]) and set(why) >= {"features", "mood_fit", "unknown"}
        assert tracks[0]["uri"] == f"spotify:track:{tracks[0]['track_id']}" and not tracks[0]["in_library"]
        assert answer["sources"]["library"] == {"used": False, "reason": "Spotify is not linked"}
        assert answer["sources"]["catalog"]["model"] == "1.0.0"
    for label in ("happy", "sad", "calm", "energetic"):  # each word's best track is placed in that mood
        assert answers[label]["tracks"][0]["why"]["mood"] == label
    happy = sum(t["position"]["valence"] for t in answers["happy"]["tracks"]) / 10
    sad = sum(t["position"]["valence"] for t in answers["sad"]["tracks"]) / 10
    assert happy > sad + 0.5
    assert answers["calm"]["targets"]["arousal"] < 0 < answers["energetic"]["targets"]["arousal"]


@pytest.mark.parametrize(("body", "status", "text"), [
    ({"mood": {"label": "xyzzy"}}, 422, "unknown mood word"),
    ({"mood": {"label": "sad"}, "limit": 0}, 422, "greater than or equal to 1"),
    ({"mood": {"label": "sad"}, "limit": 51}, 422, "less than or equal to 50"),
    ({"mood": {}}, 422, "give a label"),
    ({"mood": {"mood_event_id": "not-an-id"}}, 404, "mood event"),
])
def test_bad_recommendation_requests(api: httpx.Client, body: dict[str, object], status: int, text: str) -> None:
    response = api.post("/v1/recommendations", json=body)
    assert response.status_code == status and text in response.text


def test_a_mood_event_can_name_the_mood_but_only_its_owner(api: httpx.Client, embedded_stack: Stack) -> None:
    import_catalog(embedded_stack)
    owner, stranger = new_user(api), new_user(api)
    event = api.post("/v1/moods/text", headers=owner, json={"text": "I am so happy today!"}).json()
    mine = api.post("/v1/recommendations", headers=owner, json={"mood": {"mood_event_id": event["event_id"]}})
    assert mine.status_code == 200 and mine.json()["mood"]["label"] in ("joy", "love")
    theirs = api.post("/v1/recommendations", headers=stranger, json={"mood": {"mood_event_id": event["event_id"]}})
    assert theirs.status_code == 404


def test_a_journey_moves_step_by_step_and_is_its_owners(api: httpx.Client, embedded_stack: Stack) -> None:
    import_catalog(embedded_stack)
    user, stranger = new_user(api), new_user(api)
    created = api.post("/v1/playlists/journey", headers=user,
                       json={"from": {"label": "sad"}, "preset": "cheer me up", "length": 10})
    assert created.status_code == 201, created.text
    playlist = created.json()
    steps = playlist["journey"]["steps"]
    assert playlist["kind"] == "journey" and len(playlist["tracks"]) == len(steps) == 10
    valences = [s["mood"]["valence"] for s in steps]
    assert valences == sorted(valences) and valences[0] < 0 < valences[-1]
    assert len({s["track_id"] for s in steps}) == 10
    assert playlist["journey"]["max_step_change"]
    assert api.get(f"/v1/playlists/{playlist['id']}", headers=user).json()["journey"] == playlist["journey"]
    assert api.get(f"/v1/playlists/{playlist['id']}", headers=stranger).status_code == 404
    assert api.post(f"/v1/playlists/{playlist['id']}/spotify", headers=stranger).status_code == 404
    # This stack has no Spotify app configured: saving there is refused with the reason.
    unconfigured = api.post(f"/v1/playlists/{playlist['id']}/spotify", headers=user)
    assert unconfigured.status_code == 501 and "MUSEAIKA_SPOTIFY_CLIENT_ID" in unconfigured.text
    for body, text in (({"from": {"label": "sad"}, "preset": "cheer me up", "length": 4}, "5 to 100"),
                       ({"from": {"label": "sad"}, "preset": "cheer me up", "length": 101}, "5 to 100"),
                       ({"from": {"label": "sad"}, "preset": "make me rich"}, "unknown preset"),
                       ({"from": {"label": "sad"}}, "either `to`")):
        refused = api.post("/v1/playlists/journey", headers=user, json=body)
        assert refused.status_code == 422 and text in refused.text, refused.text
    assert api.post("/v1/playlists/journey", json={"from": {"label": "sad"}, "preset": "wind down"}).status_code == 401
