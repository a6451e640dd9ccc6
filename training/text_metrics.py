"""Scores of a multi-label text-emotion model against its labels: top-1 accuracy, thresholded macro-F1,
per-label recall, and a top-1 confusion matrix.

A model answers a label when its score reaches that label's threshold, and always answers its top label,
so no text goes unanswered. Shared by training (selection, model card) and benchmarks/text_quality, so a
baseline and the model are judged by one rule.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

THRESHOLD_GRID = np.round(np.arange(0.05, 0.96, 0.05), 2)


def answered(scores: np.ndarray, thresholds: list[float] | np.ndarray) -> np.ndarray:
    """Boolean (texts × labels): the labels a model answers."""
    chosen = scores >= np.asarray(thresholds, dtype=np.float32)[None, :]
    chosen[np.arange(len(scores)), scores.argmax(axis=1)] = True
    return chosen


def _f1(predicted: np.ndarray, truth: np.ndarray) -> float:
    true_positive = float(np.logical_and(predicted, truth).sum())
    denominator = float(predicted.sum() + truth.sum())
    return 2 * true_positive / denominator if denominator else 0.0


def best_thresholds(scores: np.ndarray, targets: np.ndarray, known: np.ndarray | None = None) -> list[float]:
    """Per label, the grid threshold with the best F1 on these (held-out training) texts, counting only the
    texts whose corpus could give that label (`known`, bool texts × labels; all by default)."""
    top = scores.argmax(axis=1)
    known = np.ones(scores.shape, dtype=bool) if known is None else known
    thresholds = []
    for label in range(scores.shape[1]):
        rows = known[:, label]
        truth = targets[rows, label] > 0
        is_top = top[rows] == label
        f1s = [_f1((scores[rows, label] >= t) | is_top, truth) for t in THRESHOLD_GRID]
        thresholds.append(float(THRESHOLD_GRID[int(np.argmax(f1s))]))
    return thresholds


@dataclass(frozen=True)
class TextEvaluation:
    labels: tuple[str, ...]
    size: int
    accuracy: float  # top label is one of the text's labels
    macro_f1: float  # mean per-label F1 of the answered labels, over labels the texts carry
    f1: np.ndarray
    recall: np.ndarray
    support: np.ndarray
    confusion: np.ndarray  # rows: a gold label (the top one where a text has several), columns: top answer

    def markdown(self) -> str:
        rows = [f"Accuracy (top-1) {self.accuracy:.4f}, macro-F1 {self.macro_f1:.4f}.", "",
                "| label | support | recall | F1 |", "|---|---|---|---|"]
        for label, n, r, f in zip(self.labels, self.support, self.recall, self.f1, strict=True):
            rows.append(f"| {label} | {int(n)} | {r:.3f} | {f:.3f} |" if n else f"| {label} | 0 | – | – |")
        width = max(len(label) for label in self.labels)
        rows += ["", "Top-1 confusion (rows: gold, columns: answer):", "", "```",
                 " " * (width + 2) + " ".join(f"{label[:7]:>7}" for label in self.labels)]
        for label, row in zip(self.labels, self.confusion, strict=True):
            rows.append(f"{label:>{width}}  " + " ".join(f"{v:7d}" for v in row))
        rows.append("```")
        return "\n".join(rows)


def evaluate_scores(scores: np.ndarray, targets: np.ndarray, thresholds: list[float] | np.ndarray,
                    labels: tuple[str, ...]) -> TextEvaluation:
    """Judge (texts × labels) scores against multi-hot targets with the given per-label thresholds."""
    return evaluate_answers(scores.argmax(axis=1), answered(scores, thresholds), targets, labels)


def evaluate_answers(top: np.ndarray, predicted: np.ndarray, targets: np.ndarray,
                     labels: tuple[str, ...]) -> TextEvaluation:
    """Judge answers — each text's top label index and its answered labels (bool, texts × labels) — against
    multi-hot targets."""
    truth = targets > 0
    support = truth.sum(axis=0)
    f1 = np.array([_f1(predicted[:, i], truth[:, i]) for i in range(len(labels))])
    recall = np.array([np.logical_and(predicted[:, i], truth[:, i]).sum() / n if n else 0.0
                       for i, n in enumerate(support)])
    confusion = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for row, answer in enumerate(top):
        gold = np.flatnonzero(truth[row])
        if len(gold) == 0:
            continue
        # A text with several labels counts under the one answered, if any, so a right answer is diagonal.
        confusion[answer if truth[row, answer] else gold[0], answer] += 1
    present = support > 0
    return TextEvaluation(
        labels=labels, size=len(top), accuracy=float(truth[np.arange(len(top)), top].mean()),
        macro_f1=float(f1[present].mean()) if present.any() else 0.0, f1=f1, recall=recall,
        support=support, confusion=confusion)
