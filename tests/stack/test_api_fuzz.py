"""Schema-driven fuzzing (schemathesis) of every operation of the API, against a real stack.

The stack is real end to end: the orchestrator (uvicorn, embedded face and text models), the Mongo-wire server,
Redis (queue, rate limiter, Spotify login state), S3 (nanio) and the Spotify stand-in, with the track catalog
imported. Requests go over HTTP, authenticated as a user whose Spotify account is linked.

What is checked on every response: schemathesis' built-in checks, all enabled (server errors, status codes,
content types, response bodies and headers against the schema, valid data accepted, invalid data rejected,
missing auth rejected, unsupported methods answered 405, ...). Only `positive_data_acceptance` is narrowed, for
the reasons in POSITIVE_DATA_EXCEPTIONS. Each operation is generated from its explicit examples, the coverage
phase (boundary and invalid values, deterministic) and the fuzzing phase (random, fixed seed); then a stateful
run follows the schema's links (create a playlist → read → patch → delete, a melody job → read → retry, a
mood → its stored event).

The photo routes also get real photos, and mutations of them (cut short, bytes flipped, re-encoded, animated,
a decompression bomb): random bytes never reach the face detector, these do.

The tally of generated cases (per operation and phase, statuses seen) is written to fuzz_totals.json in the
stack's run directory and printed by the last test, which also holds the run to its budget: it counts only
when every fuzzing test ran before it in the same session (it is skipped, saying so, under `-k` or `--lf`)."""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import run_state_machine_as_test
from PIL import Image
from schemathesis import BaseSchema, Case, Response

from launcher.stack import Stack
from orchestrator.catalog.journey import JOURNEY_PRESETS
from orchestrator.playlists.schemas import JOURNEY_PRESET_NAMES
from tests.support import images
from tests.support.api_client import link_spotify, new_user, sign_up_and_login
from tests.support.stacks import SharedServices

SEED = 20240905  # fixed: the same cases on every run, so CI is reproducible
MIN_TOTAL_CASES = 5000
# Fuzzing must not be throttled: tests/conftest.py lifts the rate limits for every stack (the 429 answers stay
# documented: the schema still says every route may give one); here also the login throttle per client. Jobs
# stay queued (no worker), so the per-user quota is raised to keep melody requests accepted.
FUZZ_ENV = {
    "MUSEAIKA_LOGIN_FAILURES_PER_CLIENT": "1000000/minute",
    "MUSEAIKA_MAX_ACTIVE_JOBS_PER_USER": "100000",
    "MUSEAIKA_ACCESS_TOKEN_TTL_S": "7200",
    "MUSEAIKA_LOG_LEVEL": "WARNING",
}
# Generated cases per operation in the fuzzing phase (the examples and coverage phases add their own).
DEFAULT_MAX_EXAMPLES = int(os.environ.get("MUSEAIKA_FUZZ_MAX_EXAMPLES", "200"))  # lower only to iterate locally
MAX_EXAMPLES = {
    # Each case signs a new account up (password hashing) so that the fuzzing user survives.
    ("DELETE", "/v1/users/me"): 10,
    # Real inference per accepted case (MTCNN + the face model; the text model).
    ("POST", "/v1/moods/face"): 60,
    ("POST", "/v1/moods"): 80,
}
# `positive_data_acceptance` sends requests valid per the schema and expects them accepted (2xx, or 401, 403,
# 404, 409, 429). Where the schema cannot say everything a valid request needs, these operations may also
# refuse one, each for the reasons given (everything else the schema does say: see orchestrator/*/schemas.py):
_IMAGE = ("400",  # an empty upload (a binary part has no length in the schema)
          "413",  # more pixels than MUSEAIKA_MAX_IMAGE_PIXELS: only known once the image header is read
          "415")  # bytes that are no JPEG, PNG or WebP image
_TEXT = ("400",  # NUL characters in the text
         "413",  # longer than MUSEAIKA_MAX_TEXT_CHARS (a server setting)
         "422")  # blank, or a language the served text model lacks (MUSEAIKA_TEXT_LANGUAGES, a server setting)
_CURSOR = ("422",)  # a cursor is opaque: only a next_cursor given back is one
# A mood (MoodSpec) as a word is any short string in the schema (case, spacing and synonyms are accepted, which an
# enum cannot say): an unknown word is a 422. As free text: blank, or without a mood, is a 422; NUL is a 400.
_MOOD = ("400", "422")
POSITIVE_DATA_EXCEPTIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("POST", "/v1/moods/face"): _IMAGE,
    ("POST", "/v1/moods/text"): _TEXT,
    # Also 422 when neither part is sent: both multipart fields are optional, one of them is needed.
    ("POST", "/v1/moods"): (*_IMAGE, *_TEXT),
    # Password rules beyond the length (not only letters or digits, not the email's name); email addresses
    # that `format: email` admits but email-validator refuses (e.g. reserved domains).
    ("POST", "/v1/users"): ("422",),
    ("PATCH", "/v1/users/me"): ("422",),
    ("POST", "/v1/recommendations"): _MOOD,
    ("POST", "/v1/melodies"): _MOOD,
    ("POST", "/v1/playlists/journey"): _MOOD,
    ("GET", "/v1/moods/history"): _CURSOR,
    ("GET", "/v1/playlists"): _CURSOR,
    ("GET", "/v1/jobs"): _CURSOR,
    # Spotify's redirect: only a state this server issued (one-time, unguessable) with a code is accepted.
    ("GET", "/v1/spotify/callback"): ("400",),
    # Spotify refuses tracks of the stored playlist that it does not know (its 400, our 422): the playlist's
    # content, sent earlier, not this request (which has no body).
    ("POST", "/v1/playlists/{playlist_id}/spotify"): ("422",),
}
DELETE_ME = "DELETE /v1/users/me"
# The tests whose cases the budget counts, in the order they run.
FUZZING_TESTS = ("test_every_operation_answers_as_documented", "test_photos_and_their_mutations_answer_as_documented",
                 "test_linked_operations_answer_as_documented")


class Tally:
    """Cases sent, per operation, phase and status."""

    def __init__(self) -> None:
        self.per_operation: Counter[str] = Counter()
        self.per_phase: Counter[str] = Counter()
        self.statuses: dict[str, Counter[int]] = {}
        self.started = time.monotonic()

    def record(self, case: Case, response: Response, phase: str | None = None) -> None:
        label = case.operation.label  # "POST /v1/playlists", also for the coverage phase's other-method probes
        self.per_operation[label] += 1
        self.per_phase[phase or (case.meta.phase.name.value if case.meta else "unknown")] += 1
        self.statuses.setdefault(label, Counter())[response.status_code] += 1

    @property
    def total(self) -> int:
        return sum(self.per_operation.values())

    def as_dict(self) -> dict[str, Any]:
        return {"total": self.total, "seconds": round(time.monotonic() - self.started, 1),
                "per_phase": dict(self.per_phase),
                "per_operation": {label: {"cases": count, "statuses": dict(sorted(self.statuses[label].items()))}
                                  for label, count in sorted(self.per_operation.items())}}


@pytest.fixture(scope="module")
def tally() -> Tally:
    """The cases of this module's tests in this session (never a count left over from elsewhere)."""
    return Tally()


@pytest.fixture(scope="module")
def stack(shared: SharedServices) -> Iterator[Stack]:
    """The API's models, no worker, the Spotify stand-in, the catalog; its own database, dropped afterwards."""
    with shared.stack("fuzz", database="fuzz", spotify_standin=True, extra_env=FUZZ_ENV, catalog=True,
                      drop_database=True) as started:
        yield started


@pytest.fixture(scope="module")
def fuzz_user(api: httpx.Client) -> dict[str, str]:
    """The account every case is sent as (bearer token), its Spotify account linked."""
    user = new_user(api)
    link_spotify(api, user)
    return user


def build_config(stack: Stack, user: dict[str, str]) -> schemathesis.Config:
    # By name ("POST /v1/moods"): include-method and include-path would match either.
    operations: list[dict[str, Any]] = [
        {"include-name": f"{method} {path}", "generation": {"max-examples": count}}
        for (method, path), count in MAX_EXAMPLES.items()]
    operations += [
        {"include-name": f"{method} {path}",
         "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "401", "403", "404", "409", "429",
                                                                       *statuses]}}}
        for (method, path), statuses in POSITIVE_DATA_EXCEPTIONS.items()]
    return schemathesis.Config.from_dict({
        "seed": SEED,
        "base-url": stack.orchestrator_url,
        "headers": dict(user),
        "request-timeout": 60,
        "generation": {"max-examples": DEFAULT_MAX_EXAMPLES, "database": "none"},
        "phases": {"examples": {"enabled": True}, "coverage": {"enabled": True}, "fuzzing": {"enabled": True},
                   "stateful": {"enabled": True}},
        "operations": operations,
    })


@pytest.fixture(scope="module")
def api_schema(stack: Stack, fuzz_user: dict[str, str]) -> BaseSchema:
    return schemathesis.openapi.from_url(f"{stack.orchestrator_url}/openapi.json",
                                         config=build_config(stack, fuzz_user))


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_documented(case: Case, api: httpx.Client, tally: Tally) -> None:
    headers = None
    if case.operation.label == DELETE_ME:
        # Deleting an account ends it: each case deletes an account of its own, never the fuzzing user's.
        headers = {"Authorization": f"Bearer {sign_up_and_login(api)[1]['access_token']}"}
    response = case.call_and_validate(headers=headers)
    tally.record(case, response)


PHOTOS: dict[str, Callable[[], bytes]] = {
    "one face": images.astronaut_bytes, "no face": images.coffee_bytes, "two faces": images.two_faces_jpeg,
    "EXIF-rotated": images.exif_rotated_jpeg, "GIF": images.gif_bytes, "animated PNG": lambda: images.animated("PNG"),
    "animated WebP": lambda: images.animated("WEBP"), "PNG bomb": images.png_bomb,
    "PNG": lambda: images.encode(Image.open(images.ASTRONAUT), "PNG"),
}


@cache
def photo(name: str) -> bytes:
    return PHOTOS[name]()


@st.composite
def mutated_photos(draw: st.DrawFn) -> bytes:
    data = photo(draw(st.sampled_from(sorted(PHOTOS))))
    how = draw(st.sampled_from(["as is", "cut short", "bytes flipped", "tail appended"]))
    if how == "cut short":
        return data[:draw(st.integers(1, len(data) - 1))]
    if how == "bytes flipped":
        changed = bytearray(data)
        for position in draw(st.lists(st.integers(0, len(data) - 1), min_size=1, max_size=16)):
            changed[position] ^= draw(st.integers(1, 255))
        return bytes(changed)
    if how == "tail appended":
        return data + draw(st.binary(min_size=1, max_size=256))
    return data


@given(operation=st.sampled_from(["/v1/moods/face", "/v1/moods"]), image=mutated_photos(),
       text=st.none() | st.just("what a day"))
@settings(max_examples=40, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_photos_and_their_mutations_answer_as_documented(api_schema: BaseSchema, fuzz_user: dict[str, str],
                                                         tally: Tally, operation: str, image: bytes,
                                                         text: str | None) -> None:
    body: dict[str, Any] = {"image": image}
    if operation == "/v1/moods" and text is not None:
        body["text"] = text
    case = api_schema[operation]["POST"].Case(body=body, media_type="multipart/form-data")
    response = case.call_and_validate(headers=fuzz_user)
    tally.record(case, response, phase="photos")


def test_every_refusal_is_documented_with_a_reason(api: httpx.Client) -> None:
    """One error shape in the schema: every 4xx/5xx answer of every operation carries `detail`; none is
    FastAPI's own 422 (a list in `detail`), which http/errors.py never sends."""
    document = api.get("/openapi.json").json()
    components = document["components"]["schemas"]
    assert "HTTPValidationError" not in components
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, answer in operation["responses"].items():
                if int(status) < 400:
                    continue
                body = answer["content"]["application/json"]["schema"]
                body = components[body["$ref"].rsplit("/", 1)[1]] if "$ref" in body else body
                described = "detail" in body["properties"] or path == "/readyz"
                assert described, f"{method.upper()} {path} {status}: {body}"
    assert sorted(JOURNEY_PRESETS) == JOURNEY_PRESET_NAMES, "the schema's presets are the ones served"


@pytest.mark.parametrize(("path", "body"), [
    ("/v1/playlists", b'{"name": "half a pair \\ud83d"}'),
    ("/v1/moods/text", b'{"text": "\\udca9 alone"}'),
])
def test_unpaired_surrogates_are_refused(api: httpx.Client, fuzz_user: dict[str, str], path: str,
                                         body: bytes) -> None:
    """Valid JSON, no valid Unicode: refused with a reason (it used to reach MongoDB's encoder: a 500)."""
    refused = api.post(path, content=body, headers={**fuzz_user, "Content-Type": "application/json"})
    assert refused.status_code == 422 and "unpaired surrogate" in refused.json()["detail"], refused.text


def test_linked_operations_answer_as_documented(api_schema: BaseSchema, api: httpx.Client,
                                                fuzz_user: dict[str, str], tally: Tally) -> None:
    """Stateful: sequences along the schema's links, e.g. create a playlist → read → patch → delete."""
    if not api.get("/v1/spotify/link", headers=fuzz_user).json()["linked"]:
        link_spotify(api, fuzz_user)  # DELETE /v1/spotify/link was fuzzed: link again, so saving there is too
    # Deleting the account would end every later step's authorization; its own cases run above.
    stateful_schema = api_schema.exclude(method="DELETE", path="/v1/users/me")
    base = stateful_schema.as_state_machine()

    class Counting(base):  # type: ignore[valid-type, misc]
        def after_call(self, response: Response, case: Case) -> None:
            super().after_call(response, case)
            tally.record(case, response, phase="stateful")

    run_state_machine_as_test(Counting, settings=settings(
        max_examples=100, stateful_step_count=8, deadline=None, database=None, derandomize=True,
        suppress_health_check=list(HealthCheck)))


def test_fuzzing_reached_its_budget(tally: Tally, request: pytest.FixtureRequest,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    # The budget is the fuzzing tests' together: a session that did not run each of them before this one
    # (`-k`, `--lf`, another order) has no total to hold to it. Checked first, before the stack starts.
    items = request.session.items
    ran_before = {getattr(item, "originalname", item.name) for item in items[:items.index(request.node)]
                  if item.path == request.node.path}
    not_run = [name for name in FUZZING_TESTS if name not in ran_before]
    if not_run:
        pytest.skip(f"the budget counts the cases of every fuzzing test in one session; not run before it: {not_run}")
    stack: Stack = request.getfixturevalue("stack")
    api: httpx.Client = request.getfixturevalue("api")
    fuzz_user: dict[str, str] = request.getfixturevalue("fuzz_user")
    totals = tally.as_dict()
    (stack.config.run_dir / "fuzz_totals.json").write_text(json.dumps(totals, indent=2))
    with capsys.disabled():
        print(f"\nschemathesis: {totals['total']} cases in {totals['seconds']} s, per phase {totals['per_phase']}")
        for label, row in totals["per_operation"].items():
            print(f"  {row['cases']:5d}  {label}  {row['statuses']}")
    documented = {f"{method.upper()} {path}" for path, item in api.get("/openapi.json").json()["paths"].items()
                  for method in item}
    assert documented <= set(tally.per_operation), f"never fuzzed: {documented - set(tally.per_operation)}"
    assert tally.total >= MIN_TOTAL_CASES, totals
    # The fuzzing user came through (no case deleted or locked it) and the stack is still ready.
    assert api.get("/v1/users/me", headers=fuzz_user).status_code == 200
    assert api.get("/readyz").status_code == 200
