"""Melodies through the real stack: API → Redis queue → worker (melody model, rendering) → S3 → links.

Uses the shared embedded stack (its worker loads model_store/melody.mar in-process)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pretty_midi
import pytest
import soundfile
from websockets.exceptions import ConnectionClosedError
from websockets.sync.client import connect

from launcher.stack import Stack
from music.harmony import PITCH_CLASS_NAMES
from music.key_finding import find_key
from tests.support.api_client import job_events, new_user, request_melody, token_of, wait_for_job


@pytest.fixture(scope="module")
def api(embedded_stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=embedded_stack.orchestrator_url, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def user(api: httpx.Client) -> dict[str, str]:
    return new_user(api)


def download(url: str) -> bytes:
    response = httpx.get(url, timeout=30)
    assert response.status_code == 200, response.text
    return response.content


def midi_notes(data: bytes) -> list[tuple[int, float, float]]:
    score = pretty_midi.PrettyMIDI(io.BytesIO(data))
    return [(n.pitch, round(n.start, 4), round(n.end, 4)) for i in score.instruments for n in i.notes]


def test_a_sad_melody_end_to_end_with_progress_over_websocket(api: httpx.Client, embedded_stack: Stack,
                                                              user: dict[str, str]) -> None:
    job = request_melody(api, user, mood={"label": "sad"}, bars=4, instrument="Flute", seed=11)
    assert job["state"] == "queued" and job["kind"] == "melody"
    parameters = job["parameters"]
    assert parameters["mode"] == "minor" and parameters["instrument"] == 73 and parameters["seed"] == 11
    assert parameters["tempo_bpm"] < 96 and parameters["velocity"] < 72  # sad: slower and softer

    events = job_events(embedded_stack.orchestrator_url, job["id"], token_of(user))
    stages = [e["stage"] for e in events]
    assert stages[-1] == "done", events
    order = ["queued", "generating", "rendering", "uploading", "done"]
    assert [order.index(s) for s in stages] == sorted(order.index(s) for s in stages)  # never backwards
    assert [e["progress"] for e in events] == sorted(e["progress"] for e in events)
    finished = events[-1]["job"]
    # Sad is calm: melody, chords and bass, no drums; one stem per part beside the mix.
    assert finished["state"] == "succeeded" and finished["result"]["parts"] == ["melody", "chords", "bass"]
    assert set(finished["files"]) == {"midi", "wav", "ogg", "stem_melody", "stem_chords", "stem_bass"}
    assert len(finished["result"]["chords"]) == 4
    timings = finished["result"]["timings_ms"]  # where the job's time went
    assert set(timings) == {"queued", "generate", "render", "upload", "run"} and min(timings.values()) >= 0
    assert timings["run"] >= timings["generate"] + timings["render"] + timings["upload"]

    score = pretty_midi.PrettyMIDI(io.BytesIO(download(finished["files"]["midi"])))
    notes = [(n.pitch, n.start, n.end) for n in score.instruments[0].notes]  # the melody's track
    assert notes and score.instruments[0].program == 73 and len(score.instruments) == 3
    assert score.get_tempo_changes()[1][0] == pytest.approx(parameters["tempo_bpm"], rel=1e-3)
    for kind in ("wav", "ogg", "stem_melody", "stem_chords", "stem_bass"):
        audio, rate = soundfile.read(io.BytesIO(download(finished["files"][kind])))
        assert rate == 44100 and np.abs(audio).max() > 0.02
        assert len(audio) / rate == pytest.approx(finished["result"]["seconds"], abs=0.05)
    if finished["result"]["key_check"]["passed"]:  # the file itself is heard in the reported key
        pitches = np.full(int(notes[-1][2] * 100) + 1, -2, dtype=np.int16)  # any grid works for the key
        for pitch, start, _ in notes:
            pitches[int(start * 100)] = pitch
        key = find_key(pitches)
        assert key is not None and key.mode == "minor" == finished["result"]["key"]["mode"]
        assert PITCH_CLASS_NAMES[key.tonic] == finished["result"]["key"]["tonic"]


def test_same_seed_and_parameters_give_the_same_melody(api: httpx.Client, user: dict[str, str]) -> None:
    first = request_melody(api, user, mood={"valence": 0.4, "arousal": 0.6}, bars=2, seed=2024)
    second = request_melody(api, user, mood={"valence": 0.4, "arousal": 0.6}, bars=2, seed=2024)
    other = request_melody(api, user, mood={"valence": 0.4, "arousal": 0.6}, bars=2, seed=2025)
    done = [wait_for_job(api, user, j["id"]) for j in (first, second, other)]
    assert all(j["state"] == "succeeded" for j in done), done
    midis = [download(j["files"]["midi"]) for j in done]
    assert midis[0] == midis[1]
    assert midi_notes(midis[0]) != midi_notes(midis[2])


def test_parts_melody_alone_is_the_bare_line_and_the_same_melody(api: httpx.Client, user: dict[str, str]) -> None:
    mood = {"valence": 0.6, "arousal": 0.8}
    alone = request_melody(api, user, mood=mood, bars=4, seed=77, parts=["melody"])
    full = request_melody(api, user, mood=mood, bars=4, seed=77)
    alone, full = (wait_for_job(api, user, j["id"]) for j in (alone, full))
    assert set(alone["files"]) == {"midi", "wav", "ogg"} and alone["result"]["parts"] == ["melody"]
    assert full["result"]["parts"] == ["melody", "chords", "bass", "drums"]
    assert {f"stem_{part}" for part in full["result"]["parts"]} <= set(full["files"])
    bare = pretty_midi.PrettyMIDI(io.BytesIO(download(alone["files"]["midi"])))
    piece = pretty_midi.PrettyMIDI(io.BytesIO(download(full["files"]["midi"])))
    assert len(bare.instruments) == 1 and [i.is_drum for i in piece.instruments] == [False, False, False, True]
    assert midi_notes(download(alone["files"]["midi"])) == [
        (n.pitch, round(n.start, 4), round(n.end, 4)) for n in piece.instruments[0].notes]


def test_drums_alone_for_a_calm_mood_is_422_with_the_reason(api: httpx.Client, user: dict[str, str]) -> None:
    response = api.post("/v1/melodies", headers=user, json={"mood": {"label": "calm"}, "parts": ["drums"]})
    assert response.status_code == 422 and "arousal" in response.json()["detail"]


@pytest.mark.parametrize(("body", "rule"), [
    ({"parts": []}, "at least 1 item"),
    ({"parts": ["piano"]}, "'melody', 'chords', 'bass' or 'drums'"),
    ({"bars": 0}, "greater than or equal to 1"),
    ({"bars": 65}, "less than or equal to 64"),
    ({"instrument": 128}, "General MIDI program from 0 to 127"),
    ({"instrument": "Kazoo Supreme"}, "unknown instrument"),
    ({"tempo": 19}, "greater than or equal to 20"),
    ({"tempo": 301}, "less than or equal to 300"),
    ({"temperature": 0}, "greater than 0"),
    ({"mood": {"label": "happy", "valence": 0.1, "arousal": 0.2}}, "not both"),
    ({"mood": {"valence": 0.1}}, "both valence and arousal"),
    ({"mood": {"label": "xyzzy"}}, "unknown mood word"),
    ({"mood": {"valence": 2, "arousal": 0}}, "less than or equal to 1"),
    ({"seed": -1}, "greater than or equal to 0"),
])
def test_bad_parameters_are_422_with_the_rule(api: httpx.Client, user: dict[str, str], body: dict[str, Any],
                                              rule: str) -> None:
    response = api.post("/v1/melodies", headers=user, json={"mood": {"label": "happy"}, **body})
    assert response.status_code == 422
    assert rule in response.text


def test_jobs_and_files_are_their_owners_only(api: httpx.Client, embedded_stack: Stack,
                                              user: dict[str, str]) -> None:
    job = wait_for_job(api, user, request_melody(api, user, seed=5)["id"])
    stranger = new_user(api)
    assert api.get(f"/v1/jobs/{job['id']}", headers=stranger).status_code == 404
    assert api.post(f"/v1/jobs/{job['id']}/retry", headers=stranger).status_code == 404
    assert job["id"] not in [j["id"] for j in api.get("/v1/jobs", headers=stranger).json()["items"]]
    assert job["id"] in [j["id"] for j in api.get("/v1/jobs?limit=100", headers=user).json()["items"]]
    assert api.post("/v1/melodies", json={"mood": {"label": "happy"}}).status_code == 401
    # The files' keys name their owner, and the links are presigned: an unsigned or altered URL is refused.
    assert all("users/" in key and "/melodies/" in key for key in job["result_keys"])
    assert httpx.get(job["files"]["wav"].split("?")[0], timeout=10).status_code == 403
    base = embedded_stack.orchestrator_url.replace("http://", "ws://")
    for token, code in ((token_of(stranger), 4404), ("forged.token.value", 4401)):
        url = f"{base}/v1/jobs/{job['id']}/events?access_token={token}"
        with connect(url, open_timeout=10) as socket, pytest.raises(ConnectionClosedError) as closed:
            socket.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == code
    assert api.post(f"/v1/jobs/{job['id']}/retry", headers=user).status_code == 409  # it succeeded


def test_account_deletion_removes_the_files(api: httpx.Client) -> None:
    owner = new_user(api)
    job = wait_for_job(api, owner, request_melody(api, owner, seed=8)["id"])
    assert download(job["files"]["ogg"])
    deleted = api.delete("/v1/users/me", headers=owner)
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["deleted"]["files"] == len(job["result_keys"]) == 6  # MIDI, mix WAV + OGG, 3 stems
    assert deleted.json()["deleted"]["generation_jobs"] == 1
    assert httpx.get(job["files"]["ogg"], timeout=10).status_code == 404
