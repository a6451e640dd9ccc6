"""Train the mood-conditioned MelodyRNN on music21's bundled folk tunes and chorale sopranos.

    python -m training.train_melody_rnn [--minutes 12] [--encoding lookback] [--out models/melody-rnn]
                                        [--exclude-collection ryansMammoth]

Magenta's melody_rnn recipe (2 LSTM layers of 128, dropout keep 0.5, Adam lr 1e-3, gradient clip 5,
batch 128, 16th-note steps), plus two conditioning inputs at every step: the tune's mode (from key
analysis, after transposing it to tonic C) and its note density. Training crops start on bar lines so
the lookback encoding's bar counter means what it says. The checkpoint with the best validation loss
(nats per step over the validation tunes) is written with a model card; the seed is fixed.
"""

from __future__ import annotations

import argparse
import math
import random
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from music.conditioning import CONDITION_FEATURES, DensityScale, condition_vector
from music.encoding import MelodyEncoding, encoding_by_name
from music.events import STEPS_PER_BAR
from music.key_finding import find_key
from networks.melody_rnn import MelodyRNN, MelodyRNNConfig, load_melody_rnn, save_melody_rnn
from networks.melody_sampler import SamplingRequest, sample_melodies
from training.melody_corpus import Tune, by_split, load_corpus

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "models" / "melody-rnn"
CROP_BARS = 16
IGNORE = -100


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def tune_windows(tune: Tune, bars: int, rng: random.Random | None) -> list[np.ndarray]:
    """Training: one random bar-aligned crop of `bars` bars (+1 step for the last label).
    Evaluation (rng None): consecutive bar-aligned windows covering the whole tune."""
    length = bars * STEPS_PER_BAR + 1
    if len(tune.events) <= length:
        return [tune.events]
    if rng is not None:
        start = rng.randrange(0, (len(tune.events) - length) // STEPS_PER_BAR + 1) * STEPS_PER_BAR
        return [tune.events[start : start + length]]
    starts = range(0, len(tune.events) - STEPS_PER_BAR, bars * STEPS_PER_BAR)
    return [tune.events[s : s + length] for s in starts if len(tune.events[s : s + length]) > 1]


def make_batch(
    windows: list[np.ndarray], conditions: list[np.ndarray], encoding: MelodyEncoding
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    steps = max(len(w) for w in windows) - 1
    inputs = np.zeros((len(windows), steps, encoding.input_size), dtype=np.float32)
    labels = np.full((len(windows), steps), IGNORE, dtype=np.int64)
    for row, window in enumerate(windows):
        inputs[row, : len(window) - 1] = encoding.inputs(window)[:-1]
        labels[row, : len(window) - 1] = encoding.labels(window)
    return torch.from_numpy(inputs), torch.from_numpy(np.stack(conditions)), torch.from_numpy(labels)


def batches(
    items: list[tuple[np.ndarray, np.ndarray]], batch_size: int, rng: random.Random | None
) -> list[list[tuple[np.ndarray, np.ndarray]]]:
    """Similar lengths together (little padding); batch order shuffled when training."""
    order = sorted(items, key=lambda item: len(item[0]))
    grouped = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    if rng is not None:
        rng.shuffle(grouped)
    return grouped


def tune_condition(tune: Tune, scale: DensityScale) -> np.ndarray:
    return condition_vector(tune.mode, tune.notes_per_bar, scale)


@torch.no_grad()
def validation_loss(model: MelodyRNN, encoding: MelodyEncoding, tunes: list[Tune], scale: DensityScale) -> float:
    model.eval()
    items = [(w, tune_condition(t, scale)) for t in tunes for w in tune_windows(t, CROP_BARS, None)]
    total, count = 0.0, 0
    loss = nn.CrossEntropyLoss(ignore_index=IGNORE, reduction="sum")
    for group in batches(items, 256, None):
        inputs, conditions, labels = make_batch([w for w, _ in group], [c for _, c in group], encoding)
        logits, _ = model(inputs, conditions)
        total += float(loss(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1)))
        count += int((labels != IGNORE).sum())
    model.train()
    return total / max(count, 1)


def mode_obedience(model: MelodyRNN, encoding: MelodyEncoding, scale: DensityScale, per_mode: int,
                   seed: int) -> dict[str, dict[str, float]]:
    """Unfiltered samples (no key check): how often key finding hears the requested mode, and on C."""
    model.eval()
    report = {}
    for mode in ("major", "minor"):
        requests = [
            SamplingRequest(np.array([60], dtype=np.int16), 8 * STEPS_PER_BAR, 1.0, np.random.default_rng([seed, i]),
                            condition_vector(mode, scale.notes_per_bar_at(0.5), scale))
            for i in range(per_mode)
        ]
        keys = [find_key(m) for m in sample_melodies(model, encoding, requests)]
        report[mode] = {
            "mode_share": sum(k is not None and k.mode == mode for k in keys) / per_mode,
            "mode_and_tonic_share": sum(k is not None and k.mode == mode and k.tonic == 0 for k in keys) / per_mode,
        }
    return report


def write_model_card(out: Path, args: argparse.Namespace, corpus_version: str, corpus_counts: dict[str, int],
                     best_loss: float,
                     history: list[tuple[int, float, float]], obedience: dict[str, dict[str, float]],
                     minutes: float) -> None:
    rows = "\n".join(f"| {epoch} | {train:.4f} | {val:.4f} |" for epoch, train, val in history)
    obey = "\n".join(f"| {mode} | {v['mode_share']:.2f} | {v['mode_and_tonic_share']:.2f} |"
                     for mode, v in obedience.items())
    excluded = "".join(f" --exclude-collection {c}" for c in args.exclude_collection)
    left_out = (f"\n  Left out of every split: {', '.join(args.exclude_collection)} (an unseen reference for the "
                "benchmark)." if args.exclude_collection else "")
    card = f"""# {out.name}

Mood-conditioned MelodyRNN (Magenta melody_rnn rebuilt in PyTorch, `networks/melody_rnn.py`):
{args.encoding} encoding, {args.layers} LSTM layers of {args.hidden}, dropout {args.dropout}, conditioned at every
step on mode (+1 major / −1 minor) and note density (z-scored log notes per bar).

- Data: music21 {corpus_version} bundled corpus (no download) — folk tunes (Essen, O'Neill 1850,
  Ryan's Mammoth, Aird's Airs) and Bach chorale sopranos; duple metres only, transposed to tonic C of the
  key music21 finds, 16th-note grid. Split by tune (hash of its id): {corpus_counts['train']} training,
  {corpus_counts['validation']} validation, {corpus_counts['test']} test tunes (test never used here).{left_out}
- Recipe: Adam lr {args.lr}, gradient clip 5, batch {args.batch}, random {CROP_BARS}-bar crops starting on
  bar lines, seed {args.seed}, {minutes:.1f} min on {torch.get_num_threads()} CPU threads
  (`python -m training.train_melody_rnn --minutes {args.minutes} --encoding {args.encoding}
  --hidden {args.hidden} --dropout {args.dropout}{' --init ' + str(args.init) if args.init else ''}{excluded}`),
  trained {datetime.now(UTC):%Y-%m-%d}.

## Validation loss (nats per 16th-note step), best kept: {best_loss:.4f}

| epoch | train | validation |
|---|---|---|
{rows}

## Mode obedience without the generator's key check (100 × 8 bars per mode, temperature 1.0)

| requested | heard as that mode | … with tonic C |
|---|---|---|
{obey}

The handler adds a key check (rejection and resampling), so delivered melodies honour the mode more often;
`python -m benchmarks melody` measures the delivered ones.
"""
    (out / "README.md").write_text(card)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--encoding", default="lookback", choices=["lookback", "basic"])
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--dropout", type=float, default=0.5)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--minutes", type=float, default=12.0, help="training time budget")
    parser.add_argument("--max-epochs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--exclude-collection", action="append", default=[],
                        help="leave this music21 collection out of every split (repeatable): an unseen reference")
    parser.add_argument("--init", type=Path, default=None,
                        help="continue from this model directory (same layout) instead of random weights")
    args = parser.parse_args()

    seed_everything(args.seed)
    if args.threads:
        torch.set_num_threads(args.threads)
    tunes = [t for t in load_corpus() if t.collection not in args.exclude_collection]
    train, validation = by_split(tunes, "train"), by_split(tunes, "validation")
    scale = DensityScale.fit(np.array([t.notes_per_bar for t in train]))
    encoding = encoding_by_name(args.encoding)
    config = MelodyRNNConfig(args.encoding, encoding.input_size, encoding.num_classes, len(CONDITION_FEATURES),
                             args.hidden, args.layers, args.dropout)
    model = MelodyRNN(config)
    earlier_minutes = 0.0
    if args.init is not None:
        initial, initial_metadata = load_melody_rnn(args.init)
        earlier_minutes = float(initial_metadata.get("training", {}).get("minutes", 0.0))
        if initial.config != config:
            raise SystemExit(f"--init {args.init} has layout {initial.config}, not {config}")
        model.load_state_dict(initial.state_dict())
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss(ignore_index=IGNORE)
    rng = random.Random(args.seed)  # nosec B311  # seeded for reproducibility, not a secret
    conditions = {t.tune_id: tune_condition(t, scale) for t in train}
    started = time.monotonic()
    deadline = started + args.minutes * 60
    best_loss, best_state, history = math.inf, None, []
    for epoch in range(1, args.max_epochs + 1):
        items = [(w, conditions[t.tune_id]) for t in train for w in tune_windows(t, CROP_BARS, rng)]
        groups = batches(items, args.batch, rng)
        running, seen = 0.0, 0
        progress = tqdm(groups, desc=f"epoch {epoch}", unit="batch", leave=False)
        for group in progress:
            inputs, batch_conditions, labels = make_batch([w for w, _ in group], [c for _, c in group], encoding)
            logits, _ = model(inputs, batch_conditions)
            loss = loss_fn(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
            running += loss.item() * len(group)
            seen += len(group)
            progress.set_postfix(loss=f"{running / seen:.3f}")
            if time.monotonic() > deadline:
                break
        val = validation_loss(model, encoding, validation, scale)
        history.append((epoch, running / max(seen, 1), val))
        print(f"epoch {epoch}: train {running / max(seen, 1):.4f}  validation {val:.4f} nats/step "
              f"({(time.monotonic() - started) / 60:.1f} min)", flush=True)
        if val < best_loss:
            best_loss, best_state = val, {k: v.clone() for k, v in model.state_dict().items()}
        if time.monotonic() > deadline:
            break
    assert best_state is not None
    model.load_state_dict(best_state)
    minutes = earlier_minutes + (time.monotonic() - started) / 60  # all runs that led to these weights
    obedience = mode_obedience(model, encoding, scale, 100, args.seed)
    print("mode obedience without key check:", obedience)
    counts = {split: len(by_split(tunes, split)) for split in ("train", "validation", "test")}
    import music21

    metadata = {
        "conditioning": {"features": list(CONDITION_FEATURES), "density": scale.to_dict()},
        "training": {"validation_nats_per_step": round(best_loss, 4), "corpus": f"music21 {music21.__version__}",
                     "tunes": counts, "seed": args.seed, "minutes": round(minutes, 1),
                     "excluded_collections": args.exclude_collection},
        "mode_obedience_unfiltered": obedience,
    }
    save_melody_rnn(model, args.out, metadata)
    write_model_card(args.out, args, music21.__version__, counts, best_loss, history, obedience, minutes)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
