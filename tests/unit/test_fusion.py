from __future__ import annotations

import math

import pytest

from orchestrator.moods.fusion import DISAGREEMENT_DISTANCE, fuse
from orchestrator.moods.mapping import mood_from_probabilities


def test_weights_follow_confidence_and_are_explained() -> None:
    face = mood_from_probabilities({"happy": 0.31, "neutral": 0.29, "sad": 0.2, "surprise": 0.2})
    text = mood_from_probabilities({"joy": 0.92, "love": 0.08})
    fusion = fuse({"face": face, "text": text})
    assert fusion.weights == pytest.approx({"face": 0.31 / 1.23, "text": 0.92 / 1.23}, abs=1e-4)
    assert fusion.explanation.startswith("face confidence 0.31, text confidence 0.92")
    expected_valence = (0.31 * face.valence + 0.92 * text.valence) / 1.23
    assert fusion.mood.valence == pytest.approx(expected_valence)
    assert fusion.mood.label == "joy", "the more confident part names the mood"
    assert fusion.disagreement is False


def test_strong_disagreement_is_flagged_not_silently_averaged() -> None:
    face = mood_from_probabilities({"happy": 0.9, "neutral": 0.1})
    text = mood_from_probabilities({"sadness": 0.95, "fear": 0.05})
    fusion = fuse({"face": face, "text": text})
    assert fusion.distance is not None and fusion.distance > DISAGREEMENT_DISTANCE
    assert fusion.disagreement is True
    assert "disagree" in fusion.explanation and "happy vs sadness" in fusion.explanation


def test_one_part_is_its_own_fusion() -> None:
    text = mood_from_probabilities({"anger": 0.7, "fear": 0.3})
    fusion = fuse({"text": text})
    assert fusion.weights == {"text": 1.0}
    assert (fusion.mood.valence, fusion.mood.arousal) == pytest.approx((text.valence, text.arousal))
    assert fusion.distance is None and fusion.disagreement is False


def test_nothing_to_fuse() -> None:
    with pytest.raises(ValueError):
        fuse({})


def test_a_confident_neutral_text_is_no_evidence_not_a_calm_mood() -> None:
    face = mood_from_probabilities({"happy": 0.8, "neutral": 0.1, "surprise": 0.1})
    text = mood_from_probabilities({"neutral": 0.94, "joy": 0.03, "sadness": 0.03})
    assert text.label == "neutral" and (text.valence, text.arousal) == pytest.approx((0.0, 0.0), abs=0.05)
    fusion = fuse({"face": face, "text": text})
    assert fusion.weights == pytest.approx({"face": 0.8 / 0.83, "text": 0.03 / 0.83}, abs=1e-4)
    assert fusion.mood.label == "happy"
    assert fusion.mood.valence > 0.9 * face.valence, "the neutral text barely moves the face's mood"
    assert fusion.disagreement is False, "silence is not a conflict"
    assert "text neutral 0.94 (no evidence of a mood)" in fusion.explanation


def test_an_emotional_text_outweighs_a_neutral_face() -> None:
    face = mood_from_probabilities({"neutral": 0.85, "sad": 0.1, "happy": 0.05})
    text = mood_from_probabilities({"sadness": 0.7, "fear": 0.2, "neutral": 0.1})
    fusion = fuse({"face": face, "text": text})
    assert fusion.weights["text"] == pytest.approx(0.7 / 0.8, abs=1e-4)
    assert fusion.mood.label == "sadness"


def test_two_neutral_parts_stay_neutral_at_the_centre() -> None:
    face = mood_from_probabilities({"neutral": 0.9, "happy": 0.1})
    text = mood_from_probabilities({"neutral": 0.95, "joy": 0.05})
    fusion = fuse({"face": face, "text": text})
    assert fusion.mood.label == "neutral"
    assert math.hypot(fusion.mood.valence, fusion.mood.arousal) < 0.1
