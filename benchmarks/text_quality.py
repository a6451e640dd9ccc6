"""Accuracy, macro-F1 and confusion matrix of the served text model on the dair-ai validation split.

    ./museaika bench text_quality [--archive model_store/sentiment.mar] [--split validation]

Scores go through the archive's own handler (fp16 weights loaded as TorchServe would), in batches.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from archives.loader import load_archive
from training.metrics import classification_report
from training.text_data import DEFAULT_TEXT_DATASET, TEXT_LABELS, read_split

REPO_ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--archive", type=Path, default=REPO_ROOT / "model_store" / "sentiment.mar")
    parser.add_argument("--data", type=Path, default=DEFAULT_TEXT_DATASET)
    parser.add_argument("--split", default="validation")
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()

    texts, labels = read_split(args.data / f"{args.split}.txt")
    with tempfile.TemporaryDirectory() as work:
        archive = load_archive(args.archive, Path(work))
        archive.handle(None, archive.context)
        predictions: list[str] = []
        started = time.perf_counter()
        for start in range(0, len(texts), args.batch):
            chunk = texts[start:start + args.batch]
            answers, _ = archive.run([t.encode() for t in chunk])
            predictions.extend(a["top_emotion"] for a in answers)
        seconds = time.perf_counter() - started
    index = {label: i for i, label in enumerate(TEXT_LABELS)}
    report = classification_report([index[x] for x in labels], [index[x] for x in predictions], TEXT_LABELS)
    print(f"{archive.name} {archive.version} on dair-ai emotion {args.split} ({len(texts)} texts, "
          f"{len(texts) / seconds:.0f} texts/s in batches of {args.batch}):")
    print(report.format())
    print("goal: accuracy >= 0.94 and macro-F1 >= 0.90")


if __name__ == "__main__":
    main()
