"""MuseAIka load scenarios that mirror the frontend (orchestrator/web/): run by `python -m benchmarks.locust.run`,
or by hand against a running stack:

    .venv/bin/locust -f benchmarks/locust/locustfile.py --host http://127.0.0.1:8000 --headless -u 8 -r 2 -t 60s

`Listener`: signs up once, logs in, then visits (think time between steps): a face mood from a photo, a text mood,
the fused mood, recommendations for that mood and the mood history. `Creator`: signs up once, logs in, then
asks for a 2–4-bar melody, follows its job until done (polling `GET /v1/jobs/{id}`, or the WebSocket with
MUSEAIKA_LOCUST_PROGRESS=ws) and downloads the OGG from its presigned URL. Every request is named by its
endpoint (ids as `[id]`), so the statistics group per endpoint; `JOB melody` is the whole job, POST to `done`.

MUSEAIKA_LOCUST_SHAPE=burst turns on `BurstShape`: MUSEAIKA_LOCUST_BURST_BASE users (default 2), every
MUSEAIKA_LOCUST_BURST_PERIOD_S seconds (default 30) a burst to MUSEAIKA_LOCUST_BURST_PEAK users (default 8)
for the last third of the period, spawned at once.

Locust monkeypatches the standard library with gevent: this file is only ever loaded by the locust process,
never imported by the app or the test process.
"""

from __future__ import annotations

import json
import os
import random
import time
import uuid
from pathlib import Path
from typing import Any

from locust import HttpUser, LoadTestShape, between, task  # type: ignore[import-untyped,unused-ignore]

REPO_ROOT = Path(__file__).resolve().parents[2]
PHOTO = (REPO_ROOT / "tests" / "fixtures" / "astronaut.jpg").read_bytes()
PASSWORD = "correct horse 42"  # nosec B105  # the load test's throwaway accounts
SENTENCES = ["I finally got the job, I am so happy!", "What a wonderful day", "I miss them so much.",
             "This traffic makes me furious.", "I am a bit nervous about tomorrow.", "Calm evening, tea and a book."]
MOOD_LABELS = ["happy", "sad", "angry", "fear", "neutral", "surprise", "joy", "love"]
JOB_TIMEOUT_S = float(os.environ.get("MUSEAIKA_LOCUST_JOB_TIMEOUT_S", "120"))
POLL_INTERVAL_S = 0.25
PROGRESS = os.environ.get("MUSEAIKA_LOCUST_PROGRESS", "poll")  # poll | ws


class Account(HttpUser):  # type: ignore[misc]
    """A signed-up, logged-in user of the API (the frontend's sign-up then sign-in)."""

    abstract = True
    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        self.email = f"load-{uuid.uuid4().hex[:12]}@example.com"
        self.headers: dict[str, str] = {}
        with self.client.post("/v1/users", json={"email": self.email, "password": PASSWORD}, name="/v1/users",
                              catch_response=True) as response:
            if response.status_code != 201:
                response.failure(f"sign-up: {response.status_code} {response.text[:200]}")
                return
        with self.client.post("/v1/auth/token", data={"username": self.email, "password": PASSWORD},
                              name="/v1/auth/token", catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"log-in: {response.status_code} {response.text[:200]}")
                return
            self.headers = {"Authorization": f"Bearer {response.json()['access_token']}"}

    def expect(self, response: Any, status: int = 200) -> Any:
        """Mark a `catch_response` response failed unless it has `status`; its JSON (None when failed)."""
        if response.status_code != status:
            response.failure(f"{response.status_code}: {response.text[:200]}")
            return None
        try:
            return response.json()
        except ValueError:
            response.failure("not JSON")
            return None


class Listener(Account):
    """The try page's main flow, one visit per task: a photo, a sentence, both fused, songs for that mood, the
    history, with think time between the steps."""

    weight = 3

    @task
    def visit(self) -> None:
        self.face_mood()
        self.think()
        self.text_mood()
        self.think()
        event_id = self.fused_mood()
        self.think()
        self.recommendations(event_id)
        self.think()
        self.history()

    def think(self) -> None:
        self.wait()  # type: ignore[no-untyped-call]

    def face_mood(self) -> None:
        with self.client.post("/v1/moods/face", files={"image": ("astronaut.jpg", PHOTO, "image/jpeg")},
                              headers=self.headers, name="/v1/moods/face", catch_response=True) as response:
            body = self.expect(response)
            if body is not None and not body["faces"]:
                response.failure("no face found in astronaut.jpg")

    def text_mood(self) -> None:
        text = random.choice(SENTENCES)  # nosec B311  # load-test input, not a secret
        with self.client.post("/v1/moods/text", json={"text": text, "language": "en"},
                              headers=self.headers, name="/v1/moods/text", catch_response=True) as response:
            self.expect(response)

    def fused_mood(self) -> str | None:
        text = random.choice(SENTENCES)  # nosec B311  # load-test input, not a secret
        with self.client.post("/v1/moods", files={"image": ("astronaut.jpg", PHOTO, "image/jpeg")},
                              data={"text": text, "language": "en"}, headers=self.headers,
                              name="/v1/moods", catch_response=True) as response:
            body = self.expect(response)
        return str(body["event_id"]) if body is not None and body.get("mood") else None

    def recommendations(self, event_id: str | None) -> None:
        label = random.choice(MOOD_LABELS)  # nosec B311  # load-test input, not a secret
        mood = {"mood_event_id": event_id} if event_id and self.headers else {"label": label}
        with self.client.post("/v1/recommendations", json={"mood": mood, "limit": 10}, headers=self.headers,
                              name="/v1/recommendations", catch_response=True) as response:
            answer = self.expect(response)
            if answer is not None and not answer["tracks"]:
                response.failure("no tracks (is the catalog imported?)")

    def history(self) -> None:
        with self.client.get("/v1/moods/history?limit=20", headers=self.headers, name="/v1/moods/history",
                             catch_response=True) as response:
            self.expect(response)


class Creator(Account):
    """A melody for a mood: ask, follow the job to the end, download the OGG."""

    weight = 1

    @task
    def melody(self) -> None:
        valence, arousal = random.uniform(-1, 1), random.uniform(-1, 1)  # nosec B311  # load-test input, not a secret
        bars = random.randint(2, 4)  # nosec B311  # load-test input, not a secret
        body = {"mood": {"valence": round(valence, 2), "arousal": round(arousal, 2)}, "bars": bars}
        started = time.perf_counter()
        with self.client.post("/v1/melodies", json=body, headers=self.headers, name="/v1/melodies",
                              catch_response=True) as response:
            job = self.expect(response, 202)
        if job is None:
            return
        done = self.follow_websocket(job["id"]) if PROGRESS == "ws" else self.poll(job["id"])
        elapsed_ms = (time.perf_counter() - started) * 1000
        if done is None or done["state"] != "succeeded":
            error = "timed out" if done is None else f"{done['state']}: {done.get('error')}"
            self.environment.events.request.fire(request_type="JOB", name="melody", response_time=elapsed_ms,
                                                 response_length=0, exception=RuntimeError(error), context={})
            return
        self.environment.events.request.fire(request_type="JOB", name="melody", response_time=elapsed_ms,
                                             response_length=0, exception=None, context={})
        with self.client.get(done["files"]["ogg"], name="S3 melody.ogg", catch_response=True) as response:
            if response.status_code != 200 or not response.content.startswith(b"OggS"):
                response.failure(f"{response.status_code}: not an OGG file")

    def poll(self, job_id: str) -> dict[str, Any] | None:
        deadline = time.monotonic() + JOB_TIMEOUT_S
        while time.monotonic() < deadline:
            with self.client.get(f"/v1/jobs/{job_id}", headers=self.headers, name="/v1/jobs/[id]",
                                 catch_response=True) as response:
                job: dict[str, Any] | None = self.expect(response)
            if job is not None and job["state"] in ("succeeded", "failed"):
                return job
            time.sleep(POLL_INTERVAL_S)  # gevent-patched: yields to the other users
        return None

    def follow_websocket(self, job_id: str) -> dict[str, Any] | None:
        """The job's progress over `WS /v1/jobs/{id}/events`, timed as one request; the last event's job."""
        from websockets.sync.client import connect

        url = str(self.host).replace("http://", "ws://") + f"/v1/jobs/{job_id}/events"
        started, last, error = time.perf_counter(), None, None
        try:
            with connect(url, additional_headers=self.headers, open_timeout=10, close_timeout=5) as socket:
                deadline = time.monotonic() + JOB_TIMEOUT_S
                while time.monotonic() < deadline:
                    try:
                        last = json.loads(socket.recv(timeout=deadline - time.monotonic()))
                    except Exception as closed:
                        if closed.__class__.__name__.startswith("ConnectionClosed"):
                            break
                        raise
        except Exception as failure:
            error = failure
        self.environment.events.request.fire(request_type="WS", name="/v1/jobs/[id]/events",
                                             response_time=(time.perf_counter() - started) * 1000,
                                             response_length=0, exception=error, context={})
        if last is None or "job" not in last:
            return None
        job: dict[str, Any] = last["job"]
        return job


class BurstShape(LoadTestShape):  # type: ignore[misc]
    """A steady base load with periodic bursts (only with MUSEAIKA_LOCUST_SHAPE=burst)."""

    abstract = os.environ.get("MUSEAIKA_LOCUST_SHAPE") != "burst"
    base = int(os.environ.get("MUSEAIKA_LOCUST_BURST_BASE", "2"))
    peak = int(os.environ.get("MUSEAIKA_LOCUST_BURST_PEAK", "8"))
    period_s = float(os.environ.get("MUSEAIKA_LOCUST_BURST_PERIOD_S", "30"))

    def tick(self) -> tuple[int, float] | None:
        run_time: float = self.get_run_time()  # type: ignore[no-untyped-call]
        options = self.runner.environment.parsed_options if self.runner is not None else None
        limit = options.run_time if options is not None else None
        if limit and run_time >= limit:
            return None
        in_burst = run_time % self.period_s >= self.period_s * 2 / 3
        return (self.peak, float(self.peak)) if in_burst else (self.base, float(self.peak))
