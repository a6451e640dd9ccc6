"""Magenta `.mag` bundles import into MelodyRNN and reproduce TensorFlow's logits (no TensorFlow here).

The fixtures in tests/fixtures/magenta were made once with TensorFlow by make_bundle.py there.
"""

from __future__ import annotations

import dataclasses
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from export_scripts.convert_magenta_bundle import (
    BundleError,
    bundle_variables,
    convert_bundle,
    encode_bundle,
    magenta_state_dict,
    main,
    parse_bundle,
)
from export_scripts.tf_checkpoint import (
    CheckpointError,
    _snappy_decompress,
    masked_crc32c,
    read_checkpoint,
    read_table,
)
from networks.melody_rnn import load_melody_rnn

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "magenta"
REFERENCE = FIXTURES / "reference.npz"
BUNDLES = {"lookback_rnn": ("lookback", 16), "basic_rnn": ("basic", 8)}


def bundle_bytes(generator_id: str) -> bytes:
    return (FIXTURES / f"{generator_id}.mag").read_bytes()


def logits_for(model: torch.nn.Module, inputs: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        logits, _ = model(torch.from_numpy(inputs))
    return np.asarray(logits.numpy())


@pytest.mark.parametrize("generator_id", sorted(BUNDLES))
def test_imported_bundle_matches_tensorflow_logits(generator_id: str) -> None:
    model, metadata = convert_bundle(bundle_bytes(generator_id))
    encoding, hidden = BUNDLES[generator_id]
    assert (model.config.encoding, model.config.hidden_size, model.config.num_layers) == (encoding, hidden, 2)
    assert metadata["generator_id"] == generator_id
    assert metadata["source"] == "magenta bundle"
    assert "test fixture" in metadata["description"]
    reference = np.load(REFERENCE)
    expected = reference[f"{generator_id}_logits"]
    logits = logits_for(model, reference[f"{generator_id}_inputs"])
    assert logits.shape == expected.shape
    assert np.abs(logits - expected).max() <= 1e-4
    assert (logits.argmax(-1) == expected.argmax(-1)).all()


def test_cli_writes_a_loadable_model(tmp_path: Path) -> None:
    out = tmp_path / "lookback"
    assert main([str(FIXTURES / "lookback_rnn.mag"), str(out)]) == 0
    model, metadata = load_melody_rnn(out)
    assert metadata["generator_id"] == "lookback_rnn"
    reference = np.load(REFERENCE)
    logits = logits_for(model, reference["lookback_rnn_inputs"])
    assert np.abs(logits - reference["lookback_rnn_logits"]).max() <= 1e-4


def test_cli_reports_a_bad_bundle_without_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.mag"
    bad.write_bytes(bundle_bytes("lookback_rnn")[:5000])
    assert main([str(bad), str(tmp_path / "out")]) == 1
    assert "truncated" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_bundle_checkpoints_read_the_same_from_disk(tmp_path: Path) -> None:
    v1 = parse_bundle(bundle_bytes("lookback_rnn"))
    (tmp_path / "v1.ckpt").write_bytes(v1.checkpoint_files[0])
    v2 = parse_bundle(bundle_bytes("basic_rnn"))
    (tmp_path / "v2.ckpt.index").write_bytes(v2.checkpoint_files[0])
    (tmp_path / "v2.ckpt.data-00000-of-00001").write_bytes(v2.checkpoint_files[1])
    for bundle, path in ((v1, tmp_path / "v1.ckpt"), (v2, tmp_path / "v2.ckpt"), (v2, tmp_path / "v2.ckpt.index")):
        from_disk, from_bundle = read_checkpoint(path), bundle_variables(bundle)
        assert from_disk.keys() == from_bundle.keys()
        assert all(np.array_equal(from_disk[name], from_bundle[name]) for name in from_disk)
        assert from_disk["global_step"].dtype == np.int64 and int(from_disk["global_step"]) == 1234
    with pytest.raises(FileNotFoundError):
        read_checkpoint(tmp_path / "missing.ckpt")


def test_2016_variable_names_map_like_the_current_ones() -> None:
    variables = bundle_variables(parse_bundle(bundle_bytes("lookback_rnn")))
    renamed = {}
    for name, value in variables.items():
        name = name.replace("rnn/multi_rnn_cell/cell_", "RNN/MultiRNNCell/Cell")
        name = name.replace("/basic_lstm_cell/kernel", "/BasicLSTMCell/Linear/Matrix")
        renamed[name.replace("/basic_lstm_cell/bias", "/BasicLSTMCell/Linear/Bias")] = value
    assert any(name.startswith("RNN/MultiRNNCell/Cell1/") for name in renamed)
    current, old = magenta_state_dict(variables), magenta_state_dict(renamed)
    assert current.state_dict.keys() == old.state_dict.keys()
    assert all(torch.equal(current.state_dict[key], old.state_dict[key]) for key in current.state_dict)
    assert (old.input_size, old.hidden_size, old.num_layers, old.num_classes) == (121, 16, 2, 40)


def test_forget_bias_is_folded_into_the_forget_gate() -> None:
    variables = bundle_variables(parse_bundle(bundle_bytes("basic_rnn")))
    state = magenta_state_dict(variables).state_dict
    tf_bias = variables["rnn/multi_rnn_cell/cell_0/basic_lstm_cell/bias"]
    hidden = len(tf_bias) // 4
    # TF (i, j, f, o) → torch (i, f, g, o); TF's forget_bias 1.0 lands on torch's f.
    expected = np.concatenate([tf_bias[:hidden], tf_bias[2 * hidden : 3 * hidden] + 1.0, tf_bias[hidden : 2 * hidden]])
    np.testing.assert_array_equal(state["lstm.bias_ih_l0"].numpy()[: 3 * hidden], expected)
    assert not state["lstm.bias_hh_l0"].any()


@pytest.mark.parametrize("generator_id", sorted(BUNDLES))
def test_truncated_bundle_is_a_clear_error(generator_id: str) -> None:
    data = bundle_bytes(generator_id)
    for size in (len(data) // 2, len(data) - 1):
        with pytest.raises(BundleError, match="truncated"):
            convert_bundle(data[:size])
    with pytest.raises(BundleError, match="not a GeneratorBundle"):
        convert_bundle(b"")


@pytest.mark.parametrize("generator_id", sorted(BUNDLES))
def test_corrupt_checkpoint_bytes_fail_their_checksum(generator_id: str) -> None:
    data = bytearray(bundle_bytes(generator_id))
    bundle = parse_bundle(bytes(data))
    weights = bundle.checkpoint_files[-1]  # V1: the one table file; V2: the data shard
    at = bytes(data).find(weights) + len(weights) // 2
    data[at] ^= 0x40
    with pytest.raises(BundleError, match="checksum mismatch"):
        convert_bundle(bytes(data))


def test_unsupported_or_mislabelled_generators_are_refused() -> None:
    bundle = parse_bundle(bundle_bytes("lookback_rnn"))
    cases = {
        "attention_rnn": "AttentionCellWrapper",
        "mono_rnn": "full MIDI range",
        "drums_rnn": "unknown generator id 'drums_rnn'",
        "basic_rnn": "121 inputs / 40 classes, but the 'basic' encoding has 38 / 38",
    }
    for generator_id, message in cases.items():
        relabelled = encode_bundle(dataclasses.replace(bundle, generator_id=generator_id))
        with pytest.raises(BundleError, match=message):
            convert_bundle(relabelled)
    with pytest.raises(ValueError, match="unsupported generator"):  # BundleError is a ValueError
        convert_bundle(encode_bundle(dataclasses.replace(bundle, generator_id="attention_rnn")))


def test_layers_of_different_sizes_are_refused() -> None:
    variables = dict(bundle_variables(parse_bundle(bundle_bytes("basic_rnn"))))
    # Second layer 8 → 4 units: kernel [8 + 4, 16], and the output layer reads 4 units.
    variables["rnn/multi_rnn_cell/cell_1/basic_lstm_cell/kernel"] = np.zeros((12, 16), np.float32)
    variables["rnn/multi_rnn_cell/cell_1/basic_lstm_cell/bias"] = np.zeros(16, np.float32)
    variables["fully_connected/weights"] = np.zeros((4, 38), np.float32)
    with pytest.raises(BundleError, match=r"sizes \[8, 4\] differ"):
        magenta_state_dict(variables)
    with pytest.raises(BundleError, match="no melody_rnn LSTM stack"):
        magenta_state_dict({"global_step": np.zeros((), np.int64)})


# ---- SSTable details TF's small fixtures do not reach: several blocks, restarts, snappy ----------


def _varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _block(entries: list[tuple[bytes, bytes]], restart_interval: int) -> bytes:
    out, restarts, previous = bytearray(), [], b""
    for n, (key, value) in enumerate(entries):
        shared = 0
        if n % restart_interval:
            while shared < min(len(key), len(previous)) and key[shared] == previous[shared]:
                shared += 1
        else:
            restarts.append(len(out))
        out += _varint(shared) + _varint(len(key) - shared) + _varint(len(value)) + key[shared:] + value
        previous = key
    return bytes(out) + struct.pack(f"<{len(restarts)}I", *restarts) + struct.pack("<I", len(restarts))


def _snappy_literal(raw: bytes) -> bytes:
    assert 60 <= len(raw) <= 256
    return _varint(len(raw)) + bytes([60 << 2, len(raw) - 1]) + raw


def _table(blocks: list[tuple[list[tuple[bytes, bytes]], bool]]) -> bytes:
    out, index = bytearray(), []

    def write(contents: bytes, compression: int) -> bytes:
        handle = _varint(len(out)) + _varint(len(contents))
        out.extend(contents + bytes([compression]))
        out.extend(struct.pack("<I", masked_crc32c(contents + bytes([compression]))))
        return handle

    for entries, snappy in blocks:
        raw = _block(entries, restart_interval=2)
        index.append((entries[-1][0], write(_snappy_literal(raw) if snappy else raw, int(snappy))))
    metaindex = write(_block([], 1), 0)
    footer = metaindex + write(_block(index, 1), 0)
    return bytes(out) + footer.ljust(40, b"\0") + struct.pack("<Q", 0xDB4775248B80FB57)


def test_table_reader_handles_blocks_restarts_prefixes_and_snappy() -> None:
    first = [(b"", b"header"), (b"rnn/a", b"1"), (b"rnn/ab", b"22"), (b"rnn/abc", b"333"), (b"rnn/b", b"4")]
    second = [(b"rnn/c", b"5" * 10), (b"rnn/cd", b"6" * 20), (b"rnn/ce", b"7" * 30)]
    table = _table([(first, False), (second, True)])
    assert read_table(table) == first + second
    corrupt = bytearray(table)
    corrupt[3] ^= 1
    with pytest.raises(CheckpointError, match="checksum mismatch"):
        read_table(bytes(corrupt))
    with pytest.raises(CheckpointError, match="footer"):
        read_table(table[:-1])


def test_snappy_copies_may_overlap_their_output() -> None:
    # "abc", copy-1 of 9 bytes from 3 back (overlapping), "X", copy-2 of 4 bytes from 13 back.
    stream = bytes([17, 0x08]) + b"abc" + bytes([0x15, 0x03, 0x00]) + b"X" + bytes([0x0E, 0x0D, 0x00])
    assert _snappy_decompress(stream) == b"abcabcabcabcXabca"
    with pytest.raises(CheckpointError):
        _snappy_decompress(bytes([5, 0x05, 0x09]))  # copy before any output
