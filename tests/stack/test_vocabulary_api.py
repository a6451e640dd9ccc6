"""The mood words people use, through the real orchestrator: GET /v1/moods/vocabulary, and a mood named by a word
(any case, a synonym), an unknown word (422 with suggestions), or free text read by the text model."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from launcher.stack import Stack
from orchestrator.moods.vocabulary import VOCABULARY
from tests.support.api_client import new_user
from tests.support.stacks import import_catalog


@pytest.fixture(scope="module")
def api(embedded_stack: Stack) -> Iterator[httpx.Client]:
    import_catalog(embedded_stack)
    with httpx.Client(base_url=embedded_stack.orchestrator_url, timeout=60) as client:
        yield client


def test_the_vocabulary_lists_every_word_with_its_position_without_a_token(api: httpx.Client) -> None:
    answer = api.get("/v1/moods/vocabulary")
    assert answer.status_code == 200, answer.text
    words = answer.json()["words"]
    assert [w["word"] for w in words] == [w.word for w in VOCABULARY]
    calm = next(w for w in words if w["word"] == "calm")
    assert calm == {"word": "calm", "group": "circumplex", "valence": 0.4725, "arousal": -0.8325, "intensity": 0.9572,
                    "synonyms": ["calmness", "calm down"], "source": "Warriner et al. 2013: V 6.89, A 1.67"}
    groups = [w["group"] for w in words]
    assert groups == sorted(groups, key=["circumplex", "music", "emotion"].index)
    music = api.get("/v1/moods/vocabulary", params={"group": "music"}).json()["words"]
    assert {w["group"] for w in music} == {"music"} and "chill" in {w["word"] for w in music}
    assert api.get("/v1/moods/vocabulary", params={"group": "jazz"}).status_code == 422


@pytest.mark.parametrize(("label", "word"), [("Calm", "calm"), ("energetic", "energetic"), ("laid-back", "chill"),
                                             ("happy", "happy")])
def test_recommendations_for_a_mood_word(api: httpx.Client, label: str, word: str) -> None:
    answer = api.post("/v1/recommendations", json={"mood": {"label": label}, "limit": 5})
    assert answer.status_code == 200, answer.text
    mood = answer.json()["mood"]
    listed = next(w for w in VOCABULARY if w.word == word)
    assert (mood["label"], mood["valence"], mood["arousal"]) == (word, listed.valence, listed.arousal)
    assert len(answer.json()["tracks"]) == 5


def test_calm_and_energetic_get_different_tracks(api: httpx.Client) -> None:
    calm, energetic = (api.post("/v1/recommendations", json={"mood": {"label": label}, "limit": 10}).json()
                       for label in ("calm", "energetic"))
    assert calm["targets"]["arousal"] < 0 < energetic["targets"]["arousal"]
    assert calm["targets"]["valence"] < energetic["targets"]["valence"]
    assert not {t["track_id"] for t in calm["tracks"]} & {t["track_id"] for t in energetic["tracks"]}


def test_an_unknown_word_is_a_422_with_suggestions(api: httpx.Client) -> None:
    answer = api.post("/v1/recommendations", json={"mood": {"label": "clam"}})
    assert answer.status_code == 422
    detail = answer.json()["detail"]
    assert detail.startswith("unknown mood word 'clam'; did you mean 'calm'") and "/v1/moods/vocabulary" in detail
    melody = api.post("/v1/melodies", headers=new_user(api), json={"mood": {"label": "xyzzy"}})
    assert melody.status_code == 422 and "unknown mood word 'xyzzy'" in melody.json()["detail"]


def test_free_text_is_read_by_the_text_model_and_stored_as_your_mood_event(api: httpx.Client) -> None:
    user = new_user(api)
    answer = api.post("/v1/recommendations", headers=user, json={"mood": {"text": "I am so happy today!"}})
    assert answer.status_code == 200, answer.text
    assert answer.json()["mood"]["label"] in ("joy", "love") and answer.json()["mood"]["valence"] > 0
    history = api.get("/v1/moods/history", headers=user).json()["items"]
    assert [(e["source"], e["mood"]["label"]) for e in history] == [("text", answer.json()["mood"]["label"])]
    blank = api.post("/v1/recommendations", json={"mood": {"text": "   "}})
    assert blank.status_code == 422 and "text is empty" in blank.json()["detail"]
    both = api.post("/v1/recommendations", json={"mood": {"text": "hi", "label": "calm"}})
    assert both.status_code == 422 and "not both" in both.text


def test_a_journey_from_a_word_to_a_word(api: httpx.Client) -> None:
    created = api.post("/v1/playlists/journey", headers=new_user(api),
                       json={"from": {"label": "Sad"}, "to": {"label": "upbeat"}, "length": 5})
    assert created.status_code == 201, created.text
    assert created.json()["name"] == "From sad to upbeat"
