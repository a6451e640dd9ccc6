from __future__ import annotations

import math

import pytest

from networks.mini_xception import EMOTION_LABELS
from orchestrator.moods.mapping import (
    EMOTION_VALENCE_AROUSAL,
    UnknownEmotionLabelError,
    combine_moods,
    mood_from_probabilities,
)
from training.text_data import EKMAN_LABELS, TEXT_LABELS


def one_hot(label: str) -> dict[str, float]:
    return {name: 1.0 if name == label else 0.0 for name in EMOTION_LABELS}


def test_every_classifier_label_has_a_position_in_range() -> None:
    assert set(EMOTION_LABELS) | set(TEXT_LABELS) == set(EMOTION_VALENCE_AROUSAL)
    for valence, arousal in EMOTION_VALENCE_AROUSAL.values():
        assert -1 <= valence <= 1 and -1 <= arousal <= 1


@pytest.mark.parametrize(("label", "valence_sign", "arousal_sign"), [
    ("happy", 1, 1), ("sad", -1, -1), ("angry", -1, 1), ("fear", -1, 1), ("surprise", 1, 1), ("disgust", -1, 1),
])
def test_quadrants_follow_the_circumplex(label: str, valence_sign: int, arousal_sign: int) -> None:
    mood = mood_from_probabilities(one_hot(label))
    assert math.copysign(1, mood.valence) == valence_sign
    assert math.copysign(1, mood.arousal) == arousal_sign
    assert mood.label == label and mood.confidence == 1.0


def test_neutral_is_the_centre() -> None:
    mood = mood_from_probabilities(one_hot("neutral"))
    assert (mood.valence, mood.arousal) == (0.0, 0.0)


def test_mixture_is_the_probability_weighted_position() -> None:
    mood = mood_from_probabilities({"happy": 0.5, "sad": 0.5})
    expected = [(EMOTION_VALENCE_AROUSAL["happy"][i] + EMOTION_VALENCE_AROUSAL["sad"][i]) / 2 for i in (0, 1)]
    assert mood.valence == pytest.approx(expected[0])
    assert mood.arousal == pytest.approx(expected[1])
    assert mood.confidence == 0.5


def test_combining_faces_weights_by_confidence() -> None:
    confident_happy = mood_from_probabilities({**one_hot("happy"), "happy": 0.9, "neutral": 0.1})
    unsure_sad = mood_from_probabilities({**one_hot("sad"), "sad": 0.3, "neutral": 0.7})
    combined = combine_moods([confident_happy, unsure_sad])
    w1, w2 = 0.9, 0.7  # each face's confidence is its top probability
    assert combined.valence == pytest.approx((w1 * confident_happy.valence + w2 * unsure_sad.valence) / (w1 + w2))
    assert combined.arousal == pytest.approx((w1 * confident_happy.arousal + w2 * unsure_sad.arousal) / (w1 + w2))
    assert combined.label in {"happy", "neutral"}
    assert sum(combined.probabilities.values()) == pytest.approx(1.0)


def test_unknown_labels_are_refused_clearly() -> None:
    with pytest.raises(UnknownEmotionLabelError, match="contempt"):
        mood_from_probabilities({"happy": 0.5, "contempt": 0.5})


def test_no_faces_cannot_be_combined() -> None:
    with pytest.raises(ValueError):
        combine_moods([])


def test_every_label_of_the_seven_label_text_model_has_a_position() -> None:
    assert set(EKMAN_LABELS) <= set(EMOTION_VALENCE_AROUSAL)
    same_word = {"anger": "angry", "joy": "happy", "sadness": "sad", "disgust": "disgust", "fear": "fear",
                 "surprise": "surprise", "neutral": "neutral"}
    for text_label, face_label in same_word.items():
        assert EMOTION_VALENCE_AROUSAL[text_label] == EMOTION_VALENCE_AROUSAL[face_label], \
            "face and text place the same emotion at the same point"


def test_a_disgusted_text_is_unpleasant_and_moderately_aroused() -> None:
    mood = mood_from_probabilities({label: 1.0 if label == "disgust" else 0.0 for label in EKMAN_LABELS})
    assert mood.label == "disgust" and mood.valence < -0.5 and 0.3 < mood.arousal < 0.9


def test_a_neutral_text_sits_at_the_centre_with_its_own_confidence() -> None:
    scores = {"neutral": 0.82, "joy": 0.06, "sadness": 0.04, "anger": 0.02, "surprise": 0.03, "fear": 0.02,
              "disgust": 0.01}
    mood = mood_from_probabilities(scores)
    assert mood.label == "neutral" and mood.confidence == pytest.approx(0.82)
    assert math.hypot(mood.valence, mood.arousal) < 0.1
