"""Import a Magenta melody_rnn `.mag` GeneratorBundle into our PyTorch MelodyRNN, without TensorFlow.

    python -m export_scripts.convert_magenta_bundle lookback_rnn.mag model_store/melody/lookback

A bundle is a `note_seq.protobuf.generator_pb2.GeneratorBundle`:
    generator_details = 1 {id = 1, description = 2}
    checkpoint_file   = 2 (repeated bytes; Magenta writes one V1 checkpoint, two items = V2 index + data)
    metagraph_file    = 3 (bytes, unused here)
    bundle_details    = 4 {description = 1}

Magenta's melody graph (`events_rnn_graph.py`) is `dynamic_rnn` over a MultiRNNCell of
BasicLSTMCells, then `tf.contrib.layers.linear` (scope `fully_connected`). TF packs the LSTM gates as
(i, j, f, o) in one `[input + hidden, 4 * hidden]` kernel and adds `forget_bias` = 1 to f when it
runs; torch's nn.LSTM wants (i, f, g = j, o) split into input and recurrent weights.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from export_scripts.tf_checkpoint import (
    CheckpointError,
    Message,
    is_table,
    read_checkpoint_v1,
    read_checkpoint_v2,
)
from music.encoding import encoding_by_name
from networks.melody_rnn import MelodyRNN, MelodyRNNConfig, save_melody_rnn

# Magenta generator id → our encoding name (music.encoding.ENCODINGS).
GENERATOR_ENCODINGS = {"basic_rnn": "basic", "lookback_rnn": "lookback"}
UNSUPPORTED_GENERATORS = {
    "mono_rnn": "mono_rnn one-hot encodes the full MIDI range, not the 48-84 range of our encodings",
    "attention_rnn": "attention_rnn wraps its first LSTM layer in an AttentionCellWrapper, which MelodyRNN lacks",
}
BASIC_LSTM_FORGET_BIAS = 1.0

# kernel/bias of each layer: TF ≥ 1.0 names first, then the 2016 (TF 0.x) names.
_LSTM_VARIABLE_PATTERNS = (
    re.compile(r"^rnn/multi_rnn_cell/cell_(?P<layer>\d+)/basic_lstm_cell/(?P<part>kernel|bias)$"),
    re.compile(r"^RNN/MultiRNNCell/Cell(?P<layer>\d+)/BasicLSTMCell/Linear/(?P<part>Matrix|Bias)$"),
)
_PART_NAMES = {"kernel": "kernel", "Matrix": "kernel", "bias": "bias", "Bias": "bias"}
OUTPUT_WEIGHTS = "fully_connected/weights"
OUTPUT_BIASES = "fully_connected/biases"


class BundleError(ValueError):
    """The file is not a `.mag` bundle this importer can turn into a MelodyRNN."""


@dataclass(frozen=True)
class GeneratorBundle:
    generator_id: str
    generator_description: str
    checkpoint_files: tuple[bytes, ...]
    metagraph: bytes = b""
    bundle_description: str = ""

    @property
    def description(self) -> str:
        return self.bundle_description or self.generator_description


def parse_bundle(data: bytes) -> GeneratorBundle:
    try:
        message = Message(data)
        details = message.message(1)
        bundle = GeneratorBundle(
            generator_id=details.string(1),
            generator_description=details.string(2),
            checkpoint_files=tuple(message.blobs(2)),
            metagraph=message.blob(3),
            bundle_description=message.message(4).string(1),
        )
    except CheckpointError as error:
        raise BundleError(f"not a readable GeneratorBundle (truncated or corrupt?): {error}") from error
    if not bundle.generator_id or not bundle.checkpoint_files:
        raise BundleError("not a GeneratorBundle: no generator id or no checkpoint inside")
    return bundle


def _field(number: int, payload: bytes) -> bytes:
    key, length = (number << 3) | 2, len(payload)
    out = bytearray()
    for value in (key, length):
        while value >= 0x80:
            out.append(value & 0x7F | 0x80)
            value >>= 7
        out.append(value)
    return bytes(out) + payload


def encode_bundle(bundle: GeneratorBundle) -> bytes:
    """The inverse of `parse_bundle` (fixtures, and re-packing a bundle with other details)."""
    details = _field(1, bundle.generator_id.encode()) + _field(2, bundle.generator_description.encode())
    out = _field(1, details) + b"".join(_field(2, item) for item in bundle.checkpoint_files)
    out += _field(3, bundle.metagraph)
    if bundle.bundle_description:
        out += _field(4, _field(1, bundle.bundle_description.encode()))
    return out


def bundle_variables(bundle: GeneratorBundle) -> dict[str, np.ndarray]:
    """The checkpoint's tensors, read straight from the bundle's bytes (no temp files needed)."""
    files = bundle.checkpoint_files
    try:
        if len(files) == 1:  # Magenta's own bundles: Saver(write_version=V1), one table file
            return read_checkpoint_v1(files[0])
        if len(files) == 2:  # a V2 checkpoint: .index table + one data shard, in either order
            index, data = files if is_table(files[0]) else files[::-1]
            return read_checkpoint_v2(index, [data])
    except CheckpointError as error:
        raise BundleError(f"the bundle's checkpoint is unreadable: {error}") from error
    raise BundleError(f"bundle holds {len(files)} checkpoint files; expected 1 (V1) or 2 (V2 index + data)")


@dataclass(frozen=True)
class ConvertedWeights:
    state_dict: dict[str, torch.Tensor]
    input_size: int
    hidden_size: int
    num_layers: int
    num_classes: int


def lstm_to_torch(kernel: np.ndarray, bias: np.ndarray, forget_bias: float) -> tuple[np.ndarray, ...]:
    """One BasicLSTMCell's kernel [input + hidden, 4h] and bias [4h] → torch's weight_ih [4h, input],
    weight_hh [4h, h], bias_ih, bias_hh (the forget bias folded into bias_ih, bias_hh zero)."""
    hidden = bias.shape[0] // 4
    i, j, f, o = np.split(kernel.T, 4, axis=0)
    weights = np.concatenate([i, f, j, o], axis=0)
    bi, bj, bf, bo = np.split(bias, 4)
    bias_ih = np.concatenate([bi, bf + forget_bias, bj, bo])
    input_size = kernel.shape[0] - hidden
    return weights[:, :input_size], weights[:, input_size:], bias_ih, np.zeros_like(bias_ih)


def _lstm_layers(variables: dict[str, np.ndarray]) -> dict[int, dict[str, np.ndarray]]:
    layers: dict[int, dict[str, np.ndarray]] = {}
    for name, value in variables.items():
        for pattern in _LSTM_VARIABLE_PATTERNS:
            match = pattern.match(name)
            if match:
                layers.setdefault(int(match["layer"]), {})[_PART_NAMES[match["part"]]] = value
    return layers


def magenta_state_dict(
    variables: dict[str, np.ndarray], forget_bias: float = BASIC_LSTM_FORGET_BIAS
) -> ConvertedWeights:
    """Map a melody_rnn checkpoint's variables onto MelodyRNN's state_dict, checking every shape."""
    lowered = " ".join(variables).lower()
    if "attention" in lowered:
        raise BundleError("checkpoint has attention variables (attention_rnn); MelodyRNN has no attention cell")
    if "cudnn" in lowered:
        raise BundleError("checkpoint was trained with cuDNN LSTMs (use_cudnn), whose variables are not supported")
    layers = _lstm_layers(variables)
    if not layers or OUTPUT_WEIGHTS not in variables or OUTPUT_BIASES not in variables:
        names = ", ".join(sorted(variables)[:12])
        raise BundleError(f"no melody_rnn LSTM stack + fully_connected layer among the variables: {names}")
    if sorted(layers) != list(range(len(layers))):
        raise BundleError(f"LSTM layers are not numbered 0..n-1: {sorted(layers)}")
    state: dict[str, torch.Tensor] = {}
    hidden_sizes: list[int] = []
    input_size = previous = 0
    for index in range(len(layers)):
        parts = layers[index]
        if set(parts) != {"kernel", "bias"}:
            raise BundleError(f"LSTM layer {index} lacks its kernel or bias")
        kernel, bias = parts["kernel"].astype(np.float32), parts["bias"].astype(np.float32)
        if kernel.ndim != 2 or bias.ndim != 1 or bias.shape[0] % 4 or kernel.shape[1] != bias.shape[0]:
            raise BundleError(f"LSTM layer {index}: kernel {kernel.shape} and bias {bias.shape} are not an LSTM's")
        hidden = bias.shape[0] // 4
        layer_input = kernel.shape[0] - hidden
        if index == 0:
            input_size = layer_input
        elif layer_input != previous:
            raise BundleError(f"LSTM layer {index} takes {layer_input} inputs but layer {index - 1} gives {previous}")
        previous = hidden
        hidden_sizes.append(hidden)
        for key, value in zip(
            ("weight_ih", "weight_hh", "bias_ih", "bias_hh"), lstm_to_torch(kernel, bias, forget_bias), strict=True
        ):
            state[f"lstm.{key}_l{index}"] = torch.from_numpy(np.ascontiguousarray(value))
    if len(set(hidden_sizes)) != 1:
        raise BundleError(f"LSTM layer sizes {hidden_sizes} differ; MelodyRNN uses one hidden size for all layers")
    weights, biases = variables[OUTPUT_WEIGHTS].astype(np.float32), variables[OUTPUT_BIASES].astype(np.float32)
    if weights.ndim != 2 or weights.shape[0] != previous or biases.shape != (weights.shape[1],):
        raise BundleError(f"output layer weights {weights.shape} / biases {biases.shape} do not fit hidden {previous}")
    state["output.weight"] = torch.from_numpy(np.ascontiguousarray(weights.T))
    state["output.bias"] = torch.from_numpy(biases.copy())
    return ConvertedWeights(state, input_size, previous, len(layers), weights.shape[1])


def encoding_for_generator(generator_id: str) -> str:
    if generator_id in UNSUPPORTED_GENERATORS:
        raise BundleError(f"unsupported generator {generator_id!r}: {UNSUPPORTED_GENERATORS[generator_id]}")
    if generator_id not in GENERATOR_ENCODINGS:
        raise BundleError(f"unknown generator id {generator_id!r}; supported: {sorted(GENERATOR_ENCODINGS)}")
    return GENERATOR_ENCODINGS[generator_id]


def convert_bundle(data: bytes) -> tuple[MelodyRNN, dict[str, str]]:
    """A `.mag` file's bytes → an eval-mode MelodyRNN and the metadata to save with it."""
    bundle = parse_bundle(data)
    encoding = encoding_by_name(encoding_for_generator(bundle.generator_id))
    converted = magenta_state_dict(bundle_variables(bundle))
    # The id picks the encoding; the shapes must agree, or the bundle was mislabelled.
    if (converted.input_size, converted.num_classes) != (encoding.input_size, encoding.num_classes):
        raise BundleError(
            f"{bundle.generator_id} bundle has {converted.input_size} inputs / {converted.num_classes} classes, "
            f"but the {encoding.name!r} encoding has {encoding.input_size} / {encoding.num_classes}"
        )
    config = MelodyRNNConfig(
        encoding=encoding.name,
        input_size=converted.input_size,
        num_classes=converted.num_classes,
        hidden_size=converted.hidden_size,
        num_layers=converted.num_layers,
    )
    model = MelodyRNN(config)
    model.load_state_dict(converted.state_dict)
    metadata = {"source": "magenta bundle", "generator_id": bundle.generator_id, "description": bundle.description}
    return model.eval(), metadata


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("bundle", type=Path, help="Magenta .mag file (basic_rnn or lookback_rnn)")
    parser.add_argument("output_dir", type=Path, help="directory for config.json + model.safetensors")
    args = parser.parse_args(argv)
    try:
        model, metadata = convert_bundle(args.bundle.read_bytes())
    except BundleError as error:
        print(f"error: {args.bundle}: {error}", file=sys.stderr)
        return 1
    save_melody_rnn(model, args.output_dir, metadata=metadata)
    config = model.config
    print(
        f"{metadata['generator_id']}: {config.num_layers}x{config.hidden_size} LSTM, {config.encoding} encoding "
        f"({config.input_size} inputs, {config.num_classes} classes) → {args.output_dir}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
