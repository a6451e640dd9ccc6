"""Build `model_store/sentiment[-VERSION].mar` from any Hugging Face sequence-classification directory.

    python -m export_scripts.build_sentiment_archive [--model-dir models/text-emotion-minilm-l6]
        [--name sentiment] [--version 1.0.0] [--runtime torch|onnx] [--model-store model_store]

The directory (config.json with id2label, tokenizer files, *.safetensors) becomes the archive's root, next to
the handler; pointing --model-dir at another classifier is all it takes to serve it.

`--runtime onnx` packs the network as `model.onnx` (fp32, exported here from the safetensors weights) in place
of the safetensors file, and the handler runs it with ONNX Runtime: the same tokenizer, inputs and outputs, one
sentence several times faster on one CPU thread (docs/benchmarks.md). A GPU deployment builds `--runtime torch`.
"""

from __future__ import annotations

import json
import tempfile
import warnings
from pathlib import Path

from archives.builder import REPO_ROOT, ArchiveSpec, build_archive, model_dir_archive_parser

SENTIMENT_ARCHIVE_VERSION = "1.0.0"
DEFAULT_MODEL_DIR = REPO_ROOT / "models" / "text-emotion-minilm-l6"
RUNTIMES = ("torch", "onnx")
ONNX_FILE = "model.onnx"
ONNX_OPSET = 17
NOT_PACKED = (ONNX_FILE, "checkpoint.pt")  # a stale export; a training run's resume state


def check_model_dir(model_dir: Path) -> Path:
    """The safetensors weights file; refuse a directory that is not a classifier we can serve offline."""
    config = model_dir / "config.json"
    if not config.is_file():
        raise FileNotFoundError(f"{config} missing: expected a save_pretrained directory")
    if not json.loads(config.read_text()).get("id2label"):
        raise ValueError(f"{config} has no id2label: not a sequence classifier")
    weights = sorted(model_dir.glob("*.safetensors"))
    if not weights:
        raise FileNotFoundError(f"no *.safetensors in {model_dir}")
    if not any((model_dir / name).exists() for name in ("tokenizer.json", "vocab.txt", "tokenizer.model")):
        raise FileNotFoundError(f"no tokenizer files in {model_dir}")
    return weights[0]


def export_onnx(model_dir: Path, target: Path) -> Path:
    """The classifier as an fp32 ONNX graph taking (input_ids, attention_mask) of any batch and length."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)  # nosec B615  # local files only
    model = AutoModelForSequenceClassification.from_pretrained(  # nosec B615  # local files only, no hub
        model_dir, local_files_only=True, dtype=torch.float32).eval()
    example = tokenizer(["an example sentence to trace", "and a second, longer one to pad"], padding=True,
                        return_tensors="pt")
    dynamic = {0: "batch", 1: "tokens"}
    # The tracer warns about shape checks it freezes (mask length = sequence length, never causal): true of
    # every input this handler builds; tests/unit/test_text_handler.py checks ONNX against PyTorch on
    # batches of other sizes and lengths.
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore", category=torch.jit.TracerWarning)  # type: ignore[attr-defined]
        warnings.filterwarnings("ignore", message="Exporting aten::index operator")
        # The TorchScript exporter: one self-contained file (the dynamo one writes weights beside it).
        torch.onnx.export(model, (example["input_ids"], example["attention_mask"]), str(target),
                          input_names=["input_ids", "attention_mask"], output_names=["logits"],
                          dynamic_axes={"input_ids": dynamic, "attention_mask": dynamic, "logits": {0: "batch"}},
                          opset_version=ONNX_OPSET, dynamo=False)
    return target


def build(model_dir: Path, name: str, version: str, model_store: Path, staging: Path | None = None,
          runtime: str = "torch") -> Path:
    if runtime not in RUNTIMES:
        raise ValueError(f"runtime must be one of {RUNTIMES}, got {runtime!r}")
    weights = check_model_dir(model_dir)
    extra = [p for p in sorted(model_dir.iterdir()) if p.is_file() and p != weights and p.name not in NOT_PACKED]
    with tempfile.TemporaryDirectory() as scratch:
        serialized = export_onnx(model_dir, Path(scratch) / ONNX_FILE) if runtime == "onnx" else weights
        spec = ArchiveSpec(
            name=name,
            version=version,
            handler=REPO_ROOT / "handlers" / "text_emotion_handler.py",
            serialized_file=serialized,
            config_file=REPO_ROOT / "config" / "models" / "sentiment.yaml",
            extra_files=extra,
        )
        return build_archive(spec, model_store, staging or REPO_ROOT / "build" / f"{name}-{version}")


def main() -> None:
    parser = model_dir_archive_parser(__doc__, DEFAULT_MODEL_DIR, "sentiment", SENTIMENT_ARCHIVE_VERSION)
    parser.add_argument("--runtime", choices=RUNTIMES, default="torch", help="what runs the network when served")
    args = parser.parse_args()
    print(f"built {build(args.model_dir, args.name, args.version, args.model_store, None, args.runtime)}")


if __name__ == "__main__":
    main()
