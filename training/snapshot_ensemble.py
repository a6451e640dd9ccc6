"""Combine trained snapshots of the face-expression VGG into the served model (a snapshot ensemble).

    python -m training.snapshot_ensemble build/snapshots/1 build/snapshots/2 [--out models/face-expression-vgg]

Each snapshot is a folder written by training/train_face_expression.py (config.json, model.safetensors,
training.json); the later ones start from the earlier ones (`--init-from`, a warm restart), so the whole
ensemble costs the sum of their epochs. The result is one folder the emotion archive packs: config.json
with `"snapshots": N`, every network in one float16 safetensors file (half the bytes; loading casts back
to float32), and a model card with, on FER2013 `validation/`: each snapshot alone, the ensemble with one
view, with its mirror (as served) and with 10 views, per-class recall and the confusion matrix.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import torch
from torch import nn

from networks.expression_vgg import (
    WEIGHTS_FILE,
    ExpressionVGG,
    SnapshotEnsemble,
    load_expression_vgg,
    save_expression_vgg,
)
from networks.mini_xception import EMOTION_LABELS
from training.fer2013 import DEFAULT_DATASET, load_split
from training.metrics import ClassificationReport
from training.train_face_expression import DEFAULT_OUT, repo_relative, report

DISGUST = EMOTION_LABELS.index("disgust")
VIEWS = {"one": "one view", "flip": "mirror (served)", "full": "10 views (flips × shifts)"}


def load_snapshots(folders: list[Path]) -> list[ExpressionVGG]:
    snapshots = []
    for folder in folders:
        model = load_expression_vgg(folder)
        if not isinstance(model, ExpressionVGG):
            raise SystemExit(f"{folder}: already an ensemble; give the single snapshots")
        snapshots.append(model)
    return snapshots


def row(name: str, result: ClassificationReport) -> str:
    return f"| {name} | {result.accuracy:.4f} | {result.macro_f1:.4f} | {result.recall()[DISGUST]:.3f} |"


def write_card(out: Path, folders: list[Path], records: list[dict[str, Any]], ensemble: SnapshotEnsemble,
               results: dict[str, ClassificationReport], train_result: ClassificationReport) -> None:
    config = ensemble.config
    parameters = sum(p.numel() for p in ensemble.members[0].parameters())
    served = results["ensemble, mirror (served)"]
    minutes = sum(float(r["minutes"]) for r in records)
    lines = [
        "# face-expression-vgg (emotion model version 2)", "",
        f"A snapshot ensemble (Huang et al., ICLR 2017) of {len(folders)} VGG-style FER2013 expression classifiers "
        "(`networks/expression_vgg.py`): 48×48 gray faces in [-1, 1], stages "
        f"{list(config.stage_channels)}, fully connected {config.hidden}×2, dropout {config.dropout}; "
        f"{parameters:,} parameters each. The served answer averages the snapshots' probabilities over the face "
        f"and its mirror. Weights: float16 on disk ({(out / WEIGHTS_FILE).stat().st_size / 1e6:.1f} MB for all "
        "snapshots), float32 in memory.", "",
        "- Data: FER2013 `train/` (28,709 faces) for training; each snapshot's checkpoint was chosen on "
        "`validation/` (PublicTest, 3,589 faces), so validation figures are slightly optimistic; the held-out "
        "PrivateTest split is not here.",
        "- Recipe (after Khaireddin & Chen 2021, arXiv:2105.03588, at a quarter of their width): SGD Nesterov 0.9, "
        "one-cycle learning rate, weight decay 5e-4, label smoothing 0.1, batch 128; augmentation: rescale ±20 %, "
        "shift ±20 %, rotation ±10°, flip, brightness/contrast ±0.2, random erasing. Snapshot 1 trains from "
        "scratch; each later snapshot restarts the cycle from the one before (SGDR, Loshchilov & Hutter 2017).",
        f"- Training time: {minutes:.0f} min in all, on the hardware below; the epoch count bounds it.", "",
        "| snapshot | command | hardware | minutes | validation accuracy (one view) |", "|---|---|---|---|---|",
        *(f"| {i + 1} | `{r['command']}` | {r['hardware']}{', bfloat16 autocast' if r.get('bf16') else ''} | "
          f"{r['minutes']} | {results[f'snapshot {i + 1}'].accuracy:.4f} |" for i, r in enumerate(records)),
        "", "Then: `python -m training.snapshot_ensemble "
        + " ".join(repo_relative(f) for f in folders) + f" --out {repo_relative(out)}`", "",
        "## Validation", "",
        "| | accuracy | macro-F1 | disgust recall |", "|---|---|---|---|",
        *(row(name, result) for name, result in results.items()),
        row("train split, ensemble, one view", train_result), "",
        "Confusion matrix (validation, as served; rows truth, columns prediction):", "", "```",
        served.format(), "```", "",
    ]
    for index, record in enumerate(records):
        lines += [f"## Training history, snapshot {index + 1}", "",
                  "| epoch | train loss | val accuracy | val macro-F1 | minutes |", "|---|---|---|---|---|",
                  *(f"| {h['epoch']} | {h['train_loss']} | {h['val_accuracy']} | {h['val_macro_f1']} | "
                    f"{h['minutes']} |" for h in record["history"]), ""]
    (out / "README.md").write_text("\n".join(lines))
    (out / "training.json").write_text(json.dumps(
        {"snapshots": records, "training_minutes": round(minutes, 1),
         "validation": {name: {"accuracy": r.accuracy, "macro_f1": r.macro_f1} for name, r in results.items()}},
        indent=1) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("snapshots", type=Path, nargs="+", help="folders from training/train_face_expression.py")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    args = parser.parse_args()

    records = [json.loads((folder / "training.json").read_text()) for folder in args.snapshots]
    missing = [str(f) for f, r in zip(args.snapshots, records, strict=True) if not {"command", "minutes"} <= r.keys()]
    if missing:
        raise SystemExit(f"training.json without the command or minutes that produced it: {', '.join(missing)}")
    snapshots = load_snapshots(args.snapshots)
    # Stored as float16: the ensemble evaluated below is the one read back from disk, rounding included.
    save_expression_vgg(SnapshotEnsemble(snapshots), args.out, dtype=torch.float16)
    ensemble = load_expression_vgg(args.out)
    assert isinstance(ensemble, SnapshotEnsemble)  # nosec B101  # just written with N > 1 snapshots

    cpu = torch.device("cpu")
    validation = load_split(args.dataset, "validation")
    models: dict[str, tuple[nn.Module, str]] = {
        f"snapshot {i + 1}": (member, "one") for i, member in enumerate(ensemble.members)}
    models |= {f"ensemble, {label}": (ensemble, views) for views, label in VIEWS.items()}
    results = {name: report(model, validation.images, validation.labels, cpu, views)
               for name, (model, views) in models.items()}
    train = load_split(args.dataset, "train")
    train_result = report(ensemble, train.images, train.labels, cpu)
    write_card(args.out, args.snapshots, records, ensemble, results, train_result)
    for name, result in results.items():
        print(f"{name:32} accuracy {result.accuracy:.4f}  macro-F1 {result.macro_f1:.4f}  "
              f"disgust recall {result.recall()[DISGUST]:.3f}")
    print(f"wrote {args.out}\nas served:\n{results['ensemble, mirror (served)'].format()}")


if __name__ == "__main__":
    main()
