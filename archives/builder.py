"""Build a TorchServe `.mar` with torch-model-archiver from an `ArchiveSpec`.

The handler and network packages are staged next to the handler entry file, so an archive runs on
any TorchServe that has the pinned requirements, without this repository installed.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from archives.loader import archive_file_name

REPO_ROOT = Path(__file__).resolve().parent.parent
# build(model_dir, name, version, model_store, staging) → the written .mar
BuildFromModelDir = Callable[[Path, str, str, Path, "Path | None"], Path]
PACKAGES_IN_ARCHIVE = ("handlers", "networks", "music")


@dataclass(frozen=True)
class ArchiveSpec:
    name: str
    version: str
    handler: Path  # entry file inside handlers/, exposing `handle(data, context)`
    serialized_file: Path
    config_file: Path
    extra_files: list[Path] = field(default_factory=list)


def _stage_packages(staging: Path) -> Path:
    source_root = staging / "src"
    shutil.rmtree(source_root, ignore_errors=True)
    for package in PACKAGES_IN_ARCHIVE:
        shutil.copytree(REPO_ROOT / package, source_root / package,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return source_root


def build_archive(spec: ArchiveSpec, export_dir: Path, staging: Path) -> Path:
    """Run torch-model-archiver and return the path of the written `.mar`, named by the model store's
    convention (`archive_file_name`)."""
    export_dir.mkdir(parents=True, exist_ok=True)
    source_root = _stage_packages(staging)
    extra = [str(source_root), *(str(p) for p in spec.extra_files)]
    archiver = Path(sys.executable).with_name("torch-model-archiver")
    # The archiver always writes <name>.mar: build in a scratch folder so another version's archive of
    # the same model in export_dir is never overwritten.
    with tempfile.TemporaryDirectory(prefix=f".{spec.name}-", dir=export_dir) as scratch:
        command = [
            str(archiver),
            "--model-name", spec.name,
            "--version", spec.version,
            "--handler", str(spec.handler),
            "--serialized-file", str(spec.serialized_file),
            "--config-file", str(spec.config_file),
            "--extra-files", ",".join(extra),
            "--export-path", scratch,
            "--force",
        ]
        subprocess.run(command, check=True)  # nosec B603  # argv list from our own paths, no shell
        target = export_dir / archive_file_name(spec.name, spec.version)
        (Path(scratch) / f"{spec.name}.mar").replace(target)
    return target


def model_dir_archive_parser(description: str | None, default_model_dir: Path, default_name: str,
                             default_version: str) -> argparse.ArgumentParser:
    """The options every build-from-a-model-directory script shares."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-dir", type=Path, default=default_model_dir)
    parser.add_argument("--name", default=default_name)
    parser.add_argument("--version", default=default_version)
    parser.add_argument("--model-store", type=Path, default=REPO_ROOT / "model_store")
    return parser


def model_dir_archive_cli(description: str | None, build: BuildFromModelDir, default_model_dir: Path,
                          default_name: str, default_version: str) -> None:
    """The command line of a script whose build takes only the shared options."""
    args = model_dir_archive_parser(description, default_model_dir, default_name, default_version).parse_args()
    print(f"built {build(args.model_dir, args.name, args.version, args.model_store, None)}")
