from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from export_scripts.convert_fer_weights import convert, fer_keras_weights_path
from networks.mini_xception import EMOTION_LABELS, MiniXception
from training.evaluate_face_model import evaluate, load_split
from training.metrics import classification_report


def test_report_figures() -> None:
    report = classification_report([0, 0, 1, 1, 2], [0, 1, 1, 1, 0], ("a", "b", "c"))
    assert report.accuracy == pytest.approx(3 / 5)
    assert report.recall().tolist() == pytest.approx([0.5, 1.0, 0.0])
    # F1: a = 2·.5·.5/1 = .5, b = 2·(2/3)·1/(5/3) = .8, c = 0
    assert report.macro_f1 == pytest.approx((0.5 + 0.8 + 0.0) / 3)
    assert "macro-F1" in report.format()


def test_evaluates_a_folder_of_labelled_crops(tmp_path: Path) -> None:
    """A FER2013-shaped folder made from the fixture portrait's face: the model calls it happy."""
    photo = cv2.imread(str(Path(__file__).resolve().parents[1] / "fixtures" / "astronaut.jpg"), cv2.IMREAD_GRAYSCALE)
    assert photo is not None
    face = cv2.resize(photo[50:190, 165:285], (48, 48))
    (tmp_path / "happy").mkdir()
    for i in range(3):
        cv2.imwrite(str(tmp_path / "happy" / f"{i}.jpg"), np.roll(face, i, axis=1))
    faces, labels = load_split(tmp_path)
    assert faces.shape == (3, 64, 64) and labels == [EMOTION_LABELS.index("happy")] * 3
    model = MiniXception()
    model.load_state_dict(convert(fer_keras_weights_path()))
    report = evaluate(model, faces, labels)
    assert report.confusion.sum() == 3
    assert report.recall()[EMOTION_LABELS.index("happy")] == 1.0
