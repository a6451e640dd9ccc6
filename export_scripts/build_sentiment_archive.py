"""Build `model_store/sentiment.mar` from any Hugging Face sequence-classification directory.

    python -m export_scripts.build_sentiment_archive [--model-dir models/text-emotion-minilm-l6]
        [--name sentiment] [--version 1.0.0] [--model-store model_store]

The directory (config.json with id2label, tokenizer files, *.safetensors) becomes the archive's root,
next to the handler; pointing --model-dir at another classifier is all it takes to serve it.
"""

from __future__ import annotations

import json
from pathlib import Path

from archives.builder import REPO_ROOT, ArchiveSpec, build_archive, model_dir_archive_cli

SENTIMENT_ARCHIVE_VERSION = "1.0.0"
DEFAULT_MODEL_DIR = REPO_ROOT / "models" / "text-emotion-minilm-l6"


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


def build(model_dir: Path, name: str, version: str, model_store: Path, staging: Path | None = None) -> Path:
    weights = check_model_dir(model_dir)
    extra = [p for p in sorted(model_dir.iterdir()) if p.is_file() and p != weights]
    spec = ArchiveSpec(
        name=name,
        version=version,
        handler=REPO_ROOT / "handlers" / "text_emotion_handler.py",
        serialized_file=weights,
        config_file=REPO_ROOT / "config" / "models" / "sentiment.yaml",
        extra_files=extra,
    )
    return build_archive(spec, model_store, staging or REPO_ROOT / "build" / name)


def main() -> None:
    model_dir_archive_cli(__doc__, build, DEFAULT_MODEL_DIR, "sentiment", SENTIMENT_ARCHIVE_VERSION)


if __name__ == "__main__":
    main()
