"""The mood words people ask for: lookup (case, spacing, synonyms, suggestions), the table's positions and sources,
MoodSpec's kinds, and the resolver's answers for a word, an unknown word and free text."""

from __future__ import annotations

import math
import re
from typing import Any, cast

import pytest
from pydantic import ValidationError

from orchestrator.core.errors import InvalidInputError
from orchestrator.inference.client import InferenceBackend
from orchestrator.moods.events import MoodEvent, MoodEventRepository
from orchestrator.moods.mapping import EMOTION_VALENCE_AROUSAL
from orchestrator.moods.resolver import MoodResolver
from orchestrator.moods.schemas import MoodSpec
from orchestrator.moods.text import TextMoodService
from orchestrator.moods.vocabulary import GROUPS, VOCABULARY, UnknownMoodWordError, lookup, normalise

# Russell (1980), the 28 words of the circumplex ("at ease" a synonym of "relaxed").
RUSSELL_28 = ("happy", "delighted", "excited", "astonished", "aroused", "tense", "alarmed", "angry", "afraid",
              "annoyed", "distressed", "frustrated", "miserable", "sad", "gloomy", "depressed", "bored", "droopy",
              "tired", "sleepy", "calm", "relaxed", "satisfied", "at ease", "content", "serene", "glad", "pleased")
MUSIC_MOODS = ("chill", "energetic", "upbeat", "mellow", "melancholic", "romantic", "focused", "peaceful", "dreamy",
               "hype")
SOURCE = re.compile(r"^Warriner et al\. 2013(, row of '[a-z]+' \('[a-z]+' is not in the norms\))?: "
                    r"V (\d\.\d\d), A (\d\.\d\d)$")


def test_every_russell_word_and_music_mood_resolves() -> None:
    for word in (*RUSSELL_28, *MUSIC_MOODS):
        assert lookup(word)
    assert lookup("at ease").word == "relaxed"
    counts = {group: sum(w.group == group for w in VOCABULARY) for group in GROUPS}
    assert counts["circumplex"] >= 28 and counts["music"] >= 12, counts
    assert {w.word for w in VOCABULARY if w.group == "music"} >= set(MUSIC_MOODS)


def test_every_emotion_label_of_the_models_resolves_to_itself() -> None:
    for label in EMOTION_VALENCE_AROUSAL:
        assert lookup(label).word == label


@pytest.mark.parametrize(("text", "word"), [
    ("Calm", "calm"), ("  CALM ", "calm"), ("energetic", "energetic"), ("Up-Beat", "upbeat"), ("up_beat", "upbeat"),
    ("laid back", "chill"), ("Laid-Back", "chill"), ("laidback", "chill"), ("chill  out", "chill"),
    ("chilled", "chill"), ("pumped", "hype"), ("blue", "sad"), ("At Ease", "relaxed"), ("contented", "content"),
    ("stressed", "tense"), ("melancholy", "melancholic"),
])
def test_lookup_ignores_case_spacing_and_knows_synonyms(text: str, word: str) -> None:
    assert lookup(text).word == word


def test_normalise() -> None:
    assert normalise("  Laid-_Back\tvibes ") == "laid back vibes"


def test_an_unknown_word_comes_with_close_spellings() -> None:
    with pytest.raises(UnknownMoodWordError) as caught:
        lookup("clam")
    assert caught.value.suggestions[0] == "calm" and len(caught.value.suggestions) <= 3
    with pytest.raises(UnknownMoodWordError) as caught:
        lookup("energtic")
    assert "energetic" in caught.value.suggestions
    with pytest.raises(UnknownMoodWordError) as caught:
        lookup("xyzzy")
    assert caught.value.suggestions == []


def test_names_are_unique_across_words_and_synonyms() -> None:
    names = [re.sub(r"\s", "", normalise(n)) for w in VOCABULARY for n in (w.word, *w.synonyms)]
    assert len(names) == len(set(names))


def test_every_position_comes_from_its_cited_ratings() -> None:
    for word in VOCABULARY:
        match = SOURCE.match(word.source)
        assert match, word.source
        v_mean, a_mean = float(match.group(2)), float(match.group(3))
        assert word.valence == pytest.approx((v_mean - 5) / 4) and word.arousal == pytest.approx((a_mean - 5) / 4)
        assert word.intensity == pytest.approx(min(1.0, math.hypot(word.valence, word.arousal)), abs=1e-4)
        assert 0 < word.intensity < 1, word  # inside the unit disc, none at the neutral centre
    assert lookup("alarmed").source.startswith("Warriner et al. 2013, row of 'alarm'")


def test_the_words_sit_where_the_norms_put_them() -> None:
    calm, sad, happy, excited = lookup("calm"), lookup("sad"), lookup("happy"), lookup("excited")
    assert calm.valence > 0 > calm.arousal and calm.source == "Warriner et al. 2013: V 6.89, A 1.67"
    assert sad.valence < 0 and sad.arousal < 0
    assert happy.valence > 0 and happy.intensity < 1  # not at full intensity on the unit circle
    assert excited.arousal > happy.arousal > calm.arousal
    assert lookup("energetic").arousal > lookup("relaxed").arousal
    assert lookup("angry").valence < 0 < lookup("angry").arousal


def test_the_vocabulary_is_sorted_by_group_then_word() -> None:
    keys = [(GROUPS.index(w.group), w.word) for w in VOCABULARY]
    assert keys == sorted(keys)


@pytest.mark.parametrize("body", [{"label": "calm"}, {"valence": 0.1, "arousal": -0.2}, {"mood_event_id": "x"},
                                  {"text": "rainy sunday, want to slow down"}])
def test_a_mood_is_exactly_one_kind(body: dict[str, Any]) -> None:
    MoodSpec.model_validate(body)


@pytest.mark.parametrize(("body", "text"), [
    ({}, "give a label"), ({"label": "calm", "text": "hello"}, "not both"), ({"valence": 0.1}, "give a label"),
    ({"text": ""}, "at least 1 character"), ({"text": "x" * 501}, "at most 500 characters"),
    ({"label": "x" * 41}, "at most 40 characters"),
])
def test_a_mood_of_no_kind_or_several_is_refused(body: dict[str, Any], text: str) -> None:
    with pytest.raises(ValidationError, match=text):
        MoodSpec.model_validate(body)


class FakeInference:
    def __init__(self, emotions: dict[str, float]) -> None:
        self.emotions = emotions
        self.texts: list[bytes] = []

    async def predict(self, model: str, data: bytes) -> dict[str, Any]:
        self.texts.append(data)
        top = max(self.emotions, key=self.emotions.__getitem__)
        return {"emotions": self.emotions, "top_emotion": top, "top_score": self.emotions[top], "truncated": False,
                "tokens": 5, "model": {"name": "sentiment", "version": "test"}}


class FakeEvents:
    def __init__(self) -> None:
        self.added: list[MoodEvent] = []

    async def add(self, event: MoodEvent) -> MoodEvent:
        event.id = f"event-{len(self.added)}"
        self.added.append(event)
        return event


def resolver(emotions: dict[str, float]) -> tuple[MoodResolver, FakeInference, FakeEvents]:
    inference, events = FakeInference(emotions), FakeEvents()
    text = TextMoodService(cast(InferenceBackend, inference), cast(MoodEventRepository, events), 5000, ["en"])
    return MoodResolver(cast(MoodEventRepository, events), text), inference, events


async def test_a_label_resolves_to_its_canonical_word() -> None:
    moods, _, _ = resolver({"joy": 1.0})
    mood = await moods.resolve(MoodSpec(label=" Laid-Back "), None)
    chill = lookup("chill")
    assert (mood.label, mood.valence, mood.arousal) == ("chill", chill.valence, chill.arousal)


async def test_an_unknown_label_is_a_422_with_suggestions() -> None:
    moods, _, _ = resolver({"joy": 1.0})
    with pytest.raises(InvalidInputError) as caught:
        await moods.resolve(MoodSpec(label="clam"), None)
    assert caught.value.status == 422
    assert caught.value.reason.startswith("unknown mood word 'clam'; did you mean 'calm'")
    assert caught.value.reason.endswith("GET /v1/moods/vocabulary lists them")


async def test_free_text_is_read_by_the_text_model_and_stored_as_the_callers_event() -> None:
    moods, inference, events = resolver({"sadness": 0.8, "joy": 0.2})
    mood = await moods.resolve(MoodSpec(text="rainy sunday, want to slow down"), "user-1")
    assert inference.texts == [b"rainy sunday, want to slow down"]
    assert mood.label == "sadness" and mood.valence < 0
    assert [(e.source, e.owner_id, e.mood and e.mood["label"]) for e in events.added] == [("text", "user-1", "sadness")]


async def test_a_text_without_a_mood_is_a_422_with_the_reason() -> None:
    moods, _, _ = resolver({"boredom": 1.0})  # a label the mapping has no position for
    with pytest.raises(InvalidInputError) as caught:
        await moods.resolve(MoodSpec(text="meh"), None)
    assert caught.value.status == 422 and "the text gave no mood" in caught.value.reason
    assert "boredom" in caught.value.reason


async def test_a_blank_text_is_refused_by_the_text_service() -> None:
    moods, inference, _ = resolver({"joy": 1.0})
    with pytest.raises(InvalidInputError) as caught:
        await moods.resolve(MoodSpec(text="   "), None)
    assert caught.value.status == 422 and inference.texts == []
