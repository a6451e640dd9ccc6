"""Fit the track-mood model on the labelled tracks and write it where the catalog loads it from.

    python -m training.train_track_moods [--csv ../shared/datasets/track-moods/track_moods.csv]
        [--out models/track-moods] [--seed 0] [--trees 200] [--max-depth 6] [--min-leaf 3] [--kernel-width 0.1]

A random forest (scikit-learn, fixed seed) over every audio feature the labelled file has, exported as plain
JSON trees (`model.json`) that `orchestrator.catalog.track_moods` evaluates in numpy; the forest's own
predictions and the exported ones are checked to agree before anything is written. `training.json` records
the command, the data's checksum, the class counts and the time taken. Its cross-validated quality is
measured by `python -m benchmarks recommendations` (the model card quotes it).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from orchestrator.catalog.track_moods import TrackMoodModel
from training.track_mood_forest import (
    DEFAULT_LABELLED,
    REPO_ROOT,
    ForestParameters,
    fit_forest,
    forest_json,
    read_labelled,
)

DEFAULT_OUT = REPO_ROOT / "models" / "track-moods"
MODEL_VERSION = "1.0.0"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--csv", type=Path, default=DEFAULT_LABELLED)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--trees", type=int, default=ForestParameters.trees)
    parser.add_argument("--max-depth", type=int, default=ForestParameters.max_depth)
    parser.add_argument("--min-leaf", type=int, default=ForestParameters.min_leaf)
    parser.add_argument("--kernel-width", type=float, default=ForestParameters.kernel_width)
    args = parser.parse_args()
    parameters = ForestParameters(args.trees, args.max_depth, args.min_leaf, args.kernel_width, args.seed)
    started = time.perf_counter()
    labelled = read_labelled(args.csv)
    forest = fit_forest(labelled.values, labelled.moods, parameters)
    exported = forest_json(forest, labelled.features, labelled.values, parameters, MODEL_VERSION)
    model = TrackMoodModel.from_json(exported)
    ours = model.place(labelled.values).probabilities
    theirs = forest.predict_proba(labelled.values)
    if not np.allclose(ours, theirs, atol=1e-4):
        raise SystemExit(f"the exported forest disagrees with scikit-learn's (max {np.abs(ours - theirs).max():.2e})")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "model.json").write_text(json.dumps(exported, separators=(",", ":")) + "\n", encoding="utf-8")
    record = {
        "command": " ".join(["python -m training.train_track_moods", *sys.argv[1:]]),
        "version": MODEL_VERSION, "parameters": exported["parameters"], "features": list(labelled.features),
        "tracks": len(labelled.tracks), "artists": len(set(labelled.artists.tolist())),
        "labels": dict(sorted(Counter(labelled.moods.tolist()).items())),
        "data_sha256": hashlib.sha256(args.csv.read_bytes()).hexdigest(),
        "export_max_difference": float(np.abs(ours - theirs).max()),
        "seconds": round(time.perf_counter() - started, 2), "trained_at": datetime.now(UTC).isoformat(),
    }
    (args.out / "training.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
