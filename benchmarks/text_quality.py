"""Text-emotion quality on both dev splits, with latency and size beside: sentiment 1.0.0 (today's rollback),
a TF-IDF + logistic-regression baseline trained on the same data, and the served default, in one run.

    ./museaika bench text_quality [--archives model_store/sentiment.mar model_store/sentiment-2.0.0.mar]
        [--no-baseline] [--latency-texts 300]

Every archive is scored through its own handler, as TorchServe runs it, and judged on what it answers: the top
label (top-1 accuracy) and the labels it answers (macro-F1 over the seven Ekman labels, per-label recall).
A six-label archive is judged in the Ekman set by its answers' names (its `love` counts as `joy`, the mapping
the training data uses), so every row is scored by one rule.

The baseline gets what the model got: the same training texts less the same held-out slices, the same source
balance (as sample weights), its C and its per-label thresholds chosen on the held-out slices; the dev splits
choose nothing. Latency is one sentence at a time (batch 1) on one thread, over dev sentences of both sets.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from archives.loader import LoadedArchive, load_archive
from archives.served import load_served_models
from training.text_data import (
    DAIR_TO_EKMAN,
    DEFAULT_GOEMOTIONS_DATASET,
    DEFAULT_TEXT_DATASET,
    EKMAN_LABELS,
    LabelledTexts,
    read_dair,
    read_goemotions,
)
from training.text_metrics import TextEvaluation, best_thresholds, evaluate_answers, evaluate_scores

REPO_ROOT = Path(__file__).resolve().parent.parent
GOALS = {"dair": 0.93, "goemotions": 0.62}


@dataclass
class Row:
    name: str
    results: dict[str, TextEvaluation]
    latency_ms: float | None
    size_mb: float


def multi_hot(rows: list[tuple[str, ...]]) -> np.ndarray:
    index = {label: i for i, label in enumerate(EKMAN_LABELS)}
    out = np.zeros((len(rows), len(EKMAN_LABELS)), dtype=np.float32)
    for r, labels in enumerate(rows):
        for label in labels:
            out[r, index[DAIR_TO_EKMAN.get(label, label)]] = 1.0
    return out


def score_archive(archive: LoadedArchive, dev: dict[str, LabelledTexts], batch: int) -> dict[str, TextEvaluation]:
    index = {label: i for i, label in enumerate(EKMAN_LABELS)}
    results = {}
    for name, data in dev.items():
        top = np.zeros(len(data), dtype=np.int64)
        predicted = np.zeros((len(data), len(EKMAN_LABELS)), dtype=bool)
        for start in range(0, len(data), batch):
            answers, _ = archive.run([t.encode() for t in data.texts[start:start + batch]])
            for offset, answer in enumerate(answers):
                row = start + offset
                top[row] = index[DAIR_TO_EKMAN.get(answer["top_emotion"], answer["top_emotion"])]
                for label in answer.get("labels", [answer["top_emotion"]]):
                    predicted[row, index[DAIR_TO_EKMAN.get(label, label)]] = True
        results[name] = evaluate_answers(top, predicted, multi_hot(data.labels), EKMAN_LABELS)
    return results


def batch_one_latency_ms(archive: LoadedArchive, texts: list[str]) -> float:
    for text in texts[:10]:  # warm-up
        archive.run([text.encode()])
    times = []
    for text in texts:
        started = time.perf_counter()
        archive.run([text.encode()])
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


class PerLabelLogistic:
    """One logistic regression per Ekman label, each fitted only on the texts whose source could give that label:
    the partial-label masking the model trains with (dair's texts say nothing about disgust or neutral)."""

    def __init__(self, c: float) -> None:
        self.c = c
        self.classifiers: list[Any] = []

    def fit(self, features: Any, targets: np.ndarray, known: np.ndarray, weights: np.ndarray) -> PerLabelLogistic:
        from sklearn.linear_model import LogisticRegression

        self.classifiers = []
        for column in range(targets.shape[1]):
            rows = np.flatnonzero(known[:, column])
            classifier = LogisticRegression(C=self.c, max_iter=2000)
            classifier.fit(features[rows], targets[rows, column].astype(int), sample_weight=weights[rows])
            self.classifiers.append(classifier)
        return self

    def predict_proba(self, features: Any) -> np.ndarray:
        return np.stack([c.predict_proba(features)[:, 1] for c in self.classifiers], axis=1)


def tfidf_baseline(tuning_seed: int, dev: dict[str, LabelledTexts], dair: Path, goemotions: Path) -> Row:
    from sklearn.feature_extraction.text import TfidfVectorizer

    from training.train_text_emotion import split_off

    dair_train, dair_tune = split_off(read_dair(dair / "train.txt").in_ekman(), 1000, tuning_seed)
    ge_train, ge_tune = split_off(read_goemotions(goemotions / "train.tsv"), 2500, tuning_seed)
    sources = [dair_train, ge_train]
    sizes = [len(t) for t in sources]
    shares = [n ** 0.5 for n in sizes]  # the model's temperature-2 source balance, as weights per text
    weights = np.concatenate([np.full(n, sum(sizes) * s / sum(shares) / n) for n, s in zip(sizes, shares, strict=True)])
    known = np.concatenate([np.tile(t.known(), (len(t), 1)) for t in sources])
    texts = dair_train.texts + ge_train.texts
    targets = multi_hot(dair_train.labels + ge_train.labels)
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, max_features=200_000)
    features = vectorizer.fit_transform(texts)
    tune = {"dair": dair_tune, "goemotions": ge_tune}
    tune_features = {name: vectorizer.transform(t.texts) for name, t in tune.items()}
    best: tuple[float, PerLabelLogistic, list[float]] | None = None
    for c in (1.0, 4.0, 16.0):
        classifier = PerLabelLogistic(c).fit(features, targets, known, weights)
        scores = {name: classifier.predict_proba(x) for name, x in tune_features.items()}
        thresholds = best_thresholds(np.concatenate(list(scores.values())),
                                     np.concatenate([multi_hot(t.labels) for t in tune.values()]),
                                     np.concatenate([np.tile(t.known(), (len(t), 1)) for t in tune.values()]))
        selection = (0.5 * evaluate_scores(scores["dair"], multi_hot(dair_tune.labels), thresholds, EKMAN_LABELS)
                     .accuracy + 0.5 * evaluate_scores(scores["goemotions"], multi_hot(ge_tune.labels), thresholds,
                                                       EKMAN_LABELS).macro_f1)
        if best is None or selection > best[0]:
            best = (selection, classifier, thresholds)
    assert best is not None
    _, classifier, thresholds = best
    results = {name: evaluate_scores(classifier.predict_proba(vectorizer.transform(d.texts)), multi_hot(d.labels),
                                     thresholds, EKMAN_LABELS) for name, d in dev.items()}
    sample = [t for d in dev.values() for t in d.texts[:150]]
    started = time.perf_counter()
    for text in sample:
        classifier.predict_proba(vectorizer.transform([text]))
    latency = (time.perf_counter() - started) * 1000 / len(sample)
    return Row(f"TF-IDF + LR (C={classifier.c:g})", results, latency, 0.0)


def format_table(rows: list[Row]) -> str:
    lines = ["| model | dair acc | dair macro-F1 | GoEmotions acc | GoEmotions macro-F1 | ms/sentence (b1, 1 thread) "
             "| size MB |", "|---|---|---|---|---|---|---|"]
    for row in rows:
        latency = f"{row.latency_ms:.2f}" if row.latency_ms is not None else "–"
        size = f"{row.size_mb:.0f}" if row.size_mb else "–"
        lines.append(f"| {row.name} | {row.results['dair'].accuracy:.4f} | {row.results['dair'].macro_f1:.4f} | "
                     f"{row.results['goemotions'].accuracy:.4f} | {row.results['goemotions'].macro_f1:.4f} | "
                     f"{latency} | {size} |")
    lines += ["", "Per-label recall (GoEmotions dev / dair validation):", "",
              "| model | " + " | ".join(EKMAN_LABELS) + " |", "|---|" + "---|" * len(EKMAN_LABELS)]
    for row in rows:
        cells = []
        for i in range(len(EKMAN_LABELS)):
            dair = row.results["dair"]
            dair_cell = f"{dair.recall[i]:.2f}" if dair.support[i] else "–"
            cells.append(f"{row.results['goemotions'].recall[i]:.2f} / {dair_cell}")
        lines.append(f"| {row.name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sentiment = load_served_models()["sentiment"]
    # Every version config/models.yaml serves, the default last (the row the goals are read from).
    served_archives = [REPO_ROOT / "model_store" / v.archive for v in (*sentiment.versions[1:], sentiment.versions[0])]
    parser.add_argument("--archives", type=Path, nargs="+", default=served_archives)
    parser.add_argument("--dair", type=Path, default=DEFAULT_TEXT_DATASET)
    parser.add_argument("--goemotions", type=Path, default=DEFAULT_GOEMOTIONS_DATASET)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--latency-texts", type=int, default=300)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--seed", type=int, default=13, help="the training run's seed (its held-out slices)")
    args = parser.parse_args()

    # One thread for every row, the model's and the baseline's: the latency goal is per sentence on one thread.
    os.environ["MUSEAIKA_TORCH_THREADS"] = "1"
    dev = {"dair": read_dair(args.dair / "validation.txt"), "goemotions": read_goemotions(args.goemotions / "dev.tsv")}
    latency_texts = [t for d in dev.values() for t in d.texts[:args.latency_texts // 2]]
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for path in args.archives:
            archive = load_archive(path, Path(work))
            archive.handle(None, archive.context)
            started = time.perf_counter()
            results = score_archive(archive, dev, args.batch)
            seconds = time.perf_counter() - started
            latency = batch_one_latency_ms(archive, latency_texts)
            rows.append(Row(f"{archive.name} {archive.version}", results, latency, path.stat().st_size / 1e6))
            print(f"scored {path.name}: {sum(len(d) for d in dev.values()) / seconds:.0f} texts/s in batches of "
                  f"{args.batch}", flush=True)
    if not args.no_baseline:
        rows.insert(1, tfidf_baseline(args.seed, dev, args.dair, args.goemotions))
    print(f"\nText emotion on dair-ai validation ({len(dev['dair'])}) and GoEmotions-Ekman dev "
          f"({len(dev['goemotions'])}); macro-F1 over the labels each split carries (dair: five).\n")
    print(format_table(rows))
    served = next((row for row in rows if row.name == f"sentiment {sentiment.default}"), rows[-1])
    print(f"\ngoal: dair accuracy >= {GOALS['dair']} (served {served.results['dair'].accuracy:.4f}) and GoEmotions "
          f"macro-F1 >= {GOALS['goemotions']} (served {served.results['goemotions'].macro_f1:.4f}); "
          f"<= 10 ms/sentence (served {served.latency_ms:.2f}); <= 100 MB (served {served.size_mb:.0f})")


if __name__ == "__main__":
    main()
