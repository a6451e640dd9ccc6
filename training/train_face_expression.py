"""Train the version-2 face-expression classifier (networks/expression_vgg.py) on FER2013.

    python -m training.train_face_expression [--epochs 40] [--out models/face-expression-vgg] [--resume]

Recipe (Khaireddin & Chen 2021, arXiv:2105.03588, scaled to a CPU budget): SGD with Nesterov momentum
0.9, weight decay 5e-4, one-cycle learning-rate schedule (Smith & Topin 2019) peaking at 0.05,
label smoothing 0.1, batch 128; augmentation in training/face_augmentation.py. Trains on `train/`
only; the checkpoint kept is the one with the best `validation/` accuracy. bfloat16 autocast where
the CPU has AVX512-BF16 (and on CUDA, which is used when present). Seeded; a checkpoint of the whole
training state is written after every epoch, so `--resume` continues an interrupted run exactly.

`--served-crops` also trains on the faces as the served pipeline crops them (training/served_face_crops.py:
pasted into photos, found by MTCNN, landmark-aligned), each batch taking a face's served crop instead of its
FER2013 crop with probability `--served-fraction`; validation then also scores the served crops of the
validation faces, and the checkpoint kept is the best on the mean of both accuracies.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from networks.expression_vgg import ExpressionVGG, ExpressionVGGConfig, load_expression_vgg, save_expression_vgg
from networks.mini_xception import EMOTION_LABELS
from networks.test_time_augmentation import TTA_MODES, tta_probabilities
from training.face_augmentation import AugmentationConfig, augment
from training.fer2013 import DEFAULT_DATASET, load_split
from training.metrics import ClassificationReport, classification_report
from training.served_face_crops import ServedCrops, load_served_crops

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "models" / "face-expression-vgg"
DEFAULT_CHECKPOINTS = REPO_ROOT / "build" / "face-training"


def to_model_input(images: np.ndarray) -> torch.Tensor:
    """uint8 (N, 48, 48) → float (N, 1, 48, 48) in [-1, 1], the scaling the handler applies."""
    return torch.from_numpy(images).float().div_(127.5).sub_(1.0).unsqueeze(1)


def hardware(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"{platform.processor() or platform.machine()} CPU, {torch.get_num_threads()} threads"


def bf16_available(device: torch.device) -> bool:
    if device.type == "cuda":
        return bool(torch.cuda.is_bf16_supported())
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


@torch.inference_mode()
def predict(model: nn.Module, images: np.ndarray, device: torch.device, tta: str = "none",
            batch_size: int = 512) -> np.ndarray:
    """Class probabilities, averaged over the views `tta` names (networks/test_time_augmentation.TTA_MODES)."""
    model.eval()
    out = []
    for start in range(0, len(images), batch_size):
        batch = to_model_input(images[start:start + batch_size]).to(device)
        out.append(tta_probabilities(model, batch, tta).cpu())
    return torch.cat(out).numpy()


def report(model: nn.Module, images: np.ndarray, labels: np.ndarray, device: torch.device,
           tta: str = "none") -> ClassificationReport:
    predicted = predict(model, images, device, tta).argmax(axis=1)
    return classification_report(labels.tolist(), predicted.tolist(), EMOTION_LABELS)


def served_report(model: nn.Module, served: ServedCrops, labels: np.ndarray, device: torch.device,
                  tta: str = "none") -> ClassificationReport:
    """Scores on the served crops of the faces the pipeline found (the rest have no served crop)."""
    return report(model, served.images[served.found], labels[served.found], device, tta)


def train(args: argparse.Namespace) -> None:
    device = torch.device(args.device if args.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu"))
    if device.type == "cpu" and args.threads:
        torch.set_num_threads(args.threads)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)

    train_split = load_split(args.dataset, "train")
    val_split = load_split(args.dataset, "validation")
    served_train, served_val = (load_served_crops(train_split, "train", args.served_seed),
                                load_served_crops(val_split, "validation", args.served_seed)) \
        if args.served_crops else (None, None)
    config = ExpressionVGGConfig(stage_channels=tuple(args.channels), hidden=args.hidden, dropout=args.dropout)
    if args.init_from:
        # A warm restart (SGDR, Loshchilov & Hutter 2017): a new one-cycle run from trained weights.
        start = load_expression_vgg(args.init_from, "cpu")
        config = start.config
        model = start.train().to(device).to(memory_format=torch.channels_last)
    else:
        model = ExpressionVGG(config).to(device).to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, nesterov=True,
                                weight_decay=args.weight_decay)
    steps_per_epoch = len(train_split.labels) // args.batch_size
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=args.lr, epochs=args.epochs,
                                                    steps_per_epoch=steps_per_epoch, pct_start=0.15)
    generator = torch.Generator().manual_seed(args.seed)
    augmentation = AugmentationConfig()
    use_bf16 = bf16_available(device) and not args.fp32
    loss_fn = nn.CrossEntropyLoss(label_smoothing=args.label_smoothing)
    args.checkpoints.mkdir(parents=True, exist_ok=True)
    last_path, best_path = args.checkpoints / "last.pt", args.checkpoints / "best.pt"

    start_epoch, best_score, history, seconds = 0, 0.0, [], 0.0
    if args.resume and last_path.exists():
        state = torch.load(last_path, map_location=device, weights_only=False)  # nosec B614  # this run's own
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        generator.set_state(state["generator"])
        start_epoch, best_score = state["epoch"], state["best_accuracy"]
        history, seconds = state["history"], state["seconds"]
        print(f"resumed after epoch {start_epoch} (best validation score {best_score:.4f})")

    train_inputs = to_model_input(train_split.images)
    train_labels = torch.from_numpy(train_split.labels)
    if served_train is not None:
        served_inputs = to_model_input(served_train.images)
        # Only faces the pipeline found have a served crop; the others always train on their FER2013 crop.
        served_chance = torch.from_numpy(served_train.found).float() * args.served_fraction
    for epoch in range(start_epoch, args.epochs):
        began = time.perf_counter()
        model.train()
        order = torch.randperm(len(train_labels), generator=generator)
        total_loss = 0.0
        bar = tqdm(range(steps_per_epoch), desc=f"epoch {epoch + 1}/{args.epochs}", leave=False)
        for step in bar:
            rows = order[step * args.batch_size:(step + 1) * args.batch_size]
            inputs = train_inputs[rows]
            if served_train is not None:
                use_served = torch.rand(len(rows), generator=generator) < served_chance[rows]
                inputs = torch.where(use_served.view(-1, 1, 1, 1), served_inputs[rows], inputs)
            inputs = augment(inputs, augmentation, generator)
            inputs = inputs.to(device).contiguous(memory_format=torch.channels_last)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_bf16):
                logits = model(inputs)
            loss = loss_fn(logits.float(), train_labels[rows].to(device))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            total_loss += float(loss.detach())
            bar.set_postfix(loss=f"{total_loss / (step + 1):.3f}")
        val = report(model, val_split.images, val_split.labels, device)
        entry = {"epoch": epoch + 1, "train_loss": round(total_loss / steps_per_epoch, 4),
                 "val_accuracy": round(val.accuracy, 4), "val_macro_f1": round(val.macro_f1, 4)}
        score = val.accuracy
        if served_val is not None:
            served = served_report(model, served_val, val_split.labels, device)
            entry["val_served_accuracy"] = round(served.accuracy, 4)
            score = (val.accuracy + served.accuracy) / 2
        seconds += time.perf_counter() - began
        history.append({**entry, "minutes": round(seconds / 60, 1)})
        print(f"epoch {epoch + 1}: loss {total_loss / steps_per_epoch:.4f}  validation accuracy {val.accuracy:.4f} "
              f"macro-F1 {val.macro_f1:.4f}"
              + (f"  served-crop accuracy {entry['val_served_accuracy']:.4f}" if served_val is not None else "")
              + f"  ({seconds / 60:.1f} min)", flush=True)
        if score > best_score:
            best_score = score
            torch.save(model.state_dict(), best_path)
        # "best_accuracy" holds the selection score; the key keeps older checkpoints resumable.
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(), "generator": generator.get_state(),
                    "epoch": epoch + 1, "best_accuracy": best_score, "history": history,
                    "seconds": seconds}, last_path)

    model.load_state_dict(torch.load(best_path, map_location=device, weights_only=True))
    model = model.to(memory_format=torch.contiguous_format)
    save_expression_vgg(model, args.out)
    reports = {tta: report(model, val_split.images, val_split.labels, device, tta) for tta in TTA_MODES}
    reports["train"] = report(model, train_split.images, train_split.labels, device)
    if served_val is not None:
        reports["served"] = served_report(model, served_val, val_split.labels, device)
        reports["served flip"] = served_report(model, served_val, val_split.labels, device, "flip")
    write_card(args, config, history, seconds, hardware(device), use_bf16, reports)
    print(f"wrote {args.out}\nvalidation:\n{reports['none'].format()}\n"
          f"validation with TTA:\n{reports['full'].format()}")


def repo_relative(path: Path) -> str:
    """A path as the repository root sees it, so a recorded command runs from a fresh clone."""
    absolute = path.resolve()
    return str(absolute.relative_to(REPO_ROOT)) if absolute.is_relative_to(REPO_ROOT) else str(path)


def training_command(args: argparse.Namespace) -> str:
    start = f" --init-from {repo_relative(args.init_from)}" if args.init_from else ""
    if args.served_crops:
        start += f" --served-crops --served-fraction {args.served_fraction} --served-seed {args.served_seed}"
    return (f"python -m training.train_face_expression --epochs {args.epochs} --lr {args.lr} "
            f"--batch-size {args.batch_size} --channels {' '.join(map(str, args.channels))} "
            f"--hidden {args.hidden} --seed {args.seed}" + (f" --threads {args.threads}" if args.threads else "")
            + f"{start} --out {repo_relative(args.out)} --checkpoints {repo_relative(args.checkpoints)}")


def write_card(args: argparse.Namespace, config: ExpressionVGGConfig, history: list[dict[str, Any]],
               seconds: float, device_name: str, bf16: bool, reports: dict[str, ClassificationReport]) -> None:
    """The model card (README.md) and training.json beside the weights. `reports` holds validation for each
    TTA mode, "train" (single view), and, when trained with served crops, "served" and "served flip"."""
    parameters = sum(p.numel() for p in ExpressionVGG(config).parameters())
    command = training_command(args)
    plain, served = reports["none"], "served" in reports

    def row(name: str, key: str) -> str:
        result = reports[key]
        return f"| {name} | {result.accuracy:.4f} | {result.macro_f1:.4f} | {result.recall()[1]:.3f} |"

    lines = [
        "# face-expression-vgg (emotion model version 2)", "",
        "VGG-style FER2013 expression classifier (`networks/expression_vgg.py`): 48×48 gray faces in [-1, 1],",
        f"stages {list(config.stage_channels)}, fully connected {config.hidden}×2, dropout {config.dropout}; "
        f"{parameters:,} parameters ({parameters * 4 / 1e6:.1f} MB float32).", "",
        f"- Data: FER2013 `train/` ({sum(reports['train'].confusion.sum(axis=1)):,} faces); checkpoint chosen on "
        f"`validation/` (PublicTest, {int(plain.confusion.sum()):,} faces), so validation figures are "
        "slightly optimistic; the held-out PrivateTest split is not here.",
        *([f"- Served crops: each found face trained on the crop the served pipeline makes of it (pasted into a "
           f"photo, MTCNN, landmark alignment; `training/served_face_crops.py`, seed {args.served_seed}) with "
           f"probability {args.served_fraction}, else on its FER2013 crop; checkpoint chosen on the mean of "
           "validation accuracy on both kinds of crop."] if served else []),
        *([f"- Warm restart (SGDR, Loshchilov & Hutter 2017): a new one-cycle run from the weights in "
           f"`{repo_relative(args.init_from)}` (its own card has that run's recipe and history)."]
          if args.init_from else []),
        f"- Recipe: {args.epochs} epochs, SGD Nesterov 0.9, one-cycle lr peak {args.lr}, weight decay "
        f"{args.weight_decay}, label smoothing {args.label_smoothing}, batch {args.batch_size}, seed {args.seed}; "
        "augmentation: rescale ±20 %, shift ±20 %, rotation ±10°, flip, brightness/contrast ±0.2, random erasing "
        "(after Khaireddin & Chen 2021, arXiv:2105.03588).",
        f"- Hardware: {device_name}{', bfloat16 autocast' if bf16 else ''}; {seconds / 60:.1f} min of training "
        f"(bounded by the epoch count; about {seconds / max(len(history), 1):.0f} s per epoch here), "
        f"trained {datetime.now(UTC).date().isoformat()}.",
        f"- Reproduce: `{command}`", "",
        "## Validation", "",
        "| | accuracy | macro-F1 | disgust recall |", "|---|---|---|---|",
        row("single view", "none"), row("mirror TTA (as served)", "flip"),
        row("10-view TTA (flips × shifts)", "full"),
        *([row(f"served crops of the {int(reports['served'].confusion.sum()):,} faces found, single view", "served"),
           row("served crops, mirror TTA", "served flip")] if served else []),
        row("train split, single view", "train"), "",
        "Confusion matrix (validation, single view; rows truth, columns prediction):", "", "```",
        plain.format(), "```", "",
        "## Training history", "",
        "| epoch | train loss | val accuracy | val macro-F1 |" + (" val served-crop accuracy |" if served else "")
        + " minutes |",
        "|---|---|---|---|" + ("---|" if served else "") + "---|",
        *(f"| {h['epoch']} | {h['train_loss']} | {h['val_accuracy']} | {h['val_macro_f1']} |"
          + (f" {h.get('val_served_accuracy', '')} |" if served else "") + f" {h['minutes']} |" for h in history),
    ]
    summary = {"none": "validation", "flip": "validation_flip", "full": "validation_tta",
               "served": "validation_served", "served flip": "validation_served_flip"}
    (args.out / "README.md").write_text("\n".join(lines) + "\n")
    (args.out / "training.json").write_text(json.dumps(
        {"config": asdict(config), "command": command, "history": history, "hardware": device_name, "bf16": bf16,
         "minutes": round(seconds / 60, 1),
         **{name: {"accuracy": reports[key].accuracy, "macro_f1": reports[key].macro_f1}
            for key, name in summary.items() if key in reports}}, indent=1) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--checkpoints", type=Path, default=DEFAULT_CHECKPOINTS)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--weight-decay", type=float, default=5e-4)
    parser.add_argument("--label-smoothing", type=float, default=0.1)
    parser.add_argument("--channels", type=int, nargs="+", default=list(ExpressionVGGConfig.stage_channels))
    parser.add_argument("--hidden", type=int, default=ExpressionVGGConfig.hidden)
    parser.add_argument("--dropout", type=float, default=ExpressionVGGConfig.dropout)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch's default)")
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")
    parser.add_argument("--fp32", action="store_true", help="no bfloat16 autocast")
    parser.add_argument("--resume", action="store_true", help="continue from <checkpoints>/last.pt")
    parser.add_argument("--served-crops", action="store_true",
                        help="also train and validate on the served pipeline's crops (training/served_face_crops.py)")
    parser.add_argument("--served-fraction", type=float, default=0.5,
                        help="chance that a found face trains on its served crop rather than its FER2013 crop")
    parser.add_argument("--served-seed", type=int, default=5, help="the seed the served crops were built with")
    parser.add_argument("--init-from", type=Path, default=None,
                        help="start from a trained model folder (a warm restart; its config wins over --channels)")
    train(parser.parse_args())


if __name__ == "__main__":
    main()
