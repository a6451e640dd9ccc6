"""Write what config/models.yaml decides into the files that cannot read it themselves.

    python -m archives.render             # rewrite the generated lines of every file in GENERATED_FILES
    python -m archives.render --check     # exit 1, naming each file whose generated lines are stale
    python -m archives.render --archives  # the archives to build, one per line: NAME MODULE ARGS...

Only the lines between the BEGIN and END comments of a generated file are rewritten (indented like BEGIN:
the k8s ConfigMap holds the properties in a YAML block); the rest of each file is written by hand.
`./museaika setup` builds what `--archives` prints.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from archives.served import MODELS_FILE, REPO_ROOT, ServedModel, load_served_models, render_torchserve_models

BEGIN = "# generated from config/models.yaml by `python -m archives.render`: edit that file, then rerun it"
END = "# end of the lines generated from config/models.yaml"
GENERATED_FILES = (
    REPO_ROOT / "config" / "torchserve.properties",
    REPO_ROOT / "docker" / "torchserve.properties",
    REPO_ROOT / "docker" / "k8s" / "torchserve.yaml",
)


def render_block(text: str, lines: list[str]) -> str:
    """`text` with the lines between its BEGIN and END comments replaced by `lines`."""
    current = text.splitlines(keepends=True)
    starts = [i for i, line in enumerate(current) if line.strip() == BEGIN]
    ends = [i for i, line in enumerate(current) if line.strip() == END]
    if len(starts) != 1 or len(ends) != 1 or ends[0] < starts[0]:
        raise ValueError(f"expected one {BEGIN!r} line and, after it, one {END!r} line")
    begin, end = starts[0], ends[0]
    indent = current[begin][: len(current[begin]) - len(current[begin].lstrip())]
    block = [f"{indent}{line}\n" for line in lines]
    return "".join([*current[: begin + 1], *block, *current[end:]])


def render_file(path: Path, models: dict[str, ServedModel]) -> str:
    try:
        return render_block(path.read_text(encoding="utf-8"), render_torchserve_models(models))
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from error


def stale_files(models: dict[str, ServedModel], files: Sequence[Path] = GENERATED_FILES) -> list[Path]:
    """The files whose generated lines differ from what `models` renders."""
    return [path for path in files if render_file(path, models) != path.read_text(encoding="utf-8")]


def build_plan(models: dict[str, ServedModel]) -> list[list[str]]:
    """[archive name without .mar, build module, its arguments] for every version of every model."""
    return [[Path(served.archive).stem, model.build, *served.build_args()]
            for model in models.values() for served in model.versions]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m archives.render", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=Path, default=MODELS_FILE, help="default: config/models.yaml")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--check", action="store_true", help="exit 1 if a generated file is stale")
    action.add_argument("--archives", action="store_true", help="print the archives to build")
    args = parser.parse_args(argv)
    models = load_served_models(args.models)
    if args.archives:
        print("\n".join(" ".join(step) for step in build_plan(models)))
        return 0
    if args.check:
        stale = stale_files(models)
        for path in stale:
            print(f"{path.relative_to(REPO_ROOT)} is stale: run `python -m archives.render`", file=sys.stderr)
        return 1 if stale else 0
    for path in GENERATED_FILES:
        text = render_file(path, models)
        if text != path.read_text(encoding="utf-8"):
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
