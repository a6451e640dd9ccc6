"""Build `model_store/melody.mar` from a MelodyRNN directory (config.json + model.safetensors).

    python -m export_scripts.build_melody_archive [--model-dir models/melody-rnn]
        [--name melody] [--version 1.0.0] [--model-store model_store]

The directory comes from `training.train_melody_rnn` or from `export_scripts.convert_magenta_bundle`
(an imported Magenta bundle: no conditioning, so mode is then reached by the key check alone).
"""

from __future__ import annotations

from pathlib import Path

from archives.builder import REPO_ROOT, ArchiveSpec, build_archive, model_dir_archive_cli
from music.phrase_forms import FORMS_FILE
from networks.melody_rnn import CONFIG_FILE, WEIGHTS_FILE, load_melody_rnn

MELODY_ARCHIVE_VERSION = "1.0.0"
DEFAULT_MODEL_DIR = REPO_ROOT / "models" / "melody-rnn"


def build(model_dir: Path, name: str, version: str, model_store: Path, staging: Path | None = None) -> Path:
    load_melody_rnn(model_dir)  # refuse a directory the handler could not load
    extra = [model_dir / CONFIG_FILE]
    extra += [path for path in (model_dir / FORMS_FILE, model_dir / "README.md") if path.exists()]
    spec = ArchiveSpec(
        name=name,
        version=version,
        handler=REPO_ROOT / "handlers" / "melody_handler.py",
        serialized_file=model_dir / WEIGHTS_FILE,
        config_file=REPO_ROOT / "config" / "models" / "melody.yaml",
        extra_files=extra,
    )
    return build_archive(spec, model_store, staging or REPO_ROOT / "build" / name)


def main() -> None:
    model_dir_archive_cli(__doc__, build, DEFAULT_MODEL_DIR, "melody", MELODY_ARCHIVE_VERSION)


if __name__ == "__main__":
    main()
