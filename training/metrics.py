"""Classification metrics without scikit-learn: confusion matrix, accuracy, macro-F1, per-class recall."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ClassificationReport:
    labels: tuple[str, ...]
    confusion: np.ndarray  # rows: truth, columns: prediction

    @property
    def accuracy(self) -> float:
        total = self.confusion.sum()
        return float(np.trace(self.confusion) / total) if total else 0.0

    def recall(self) -> np.ndarray:
        return _ratio(np.diag(self.confusion), self.confusion.sum(axis=1))

    def precision(self) -> np.ndarray:
        return _ratio(np.diag(self.confusion), self.confusion.sum(axis=0))

    @property
    def macro_f1(self) -> float:
        p, r = self.precision(), self.recall()
        return float(_ratio(2 * p * r, p + r).mean())

    def format(self) -> str:
        width = max(len(label) for label in self.labels)
        lines = [f"accuracy {self.accuracy:.4f}   macro-F1 {self.macro_f1:.4f}", "",
                 " " * (width + 2) + " ".join(f"{label[:7]:>7}" for label in self.labels) + "   recall"]
        for label, row, recall in zip(self.labels, self.confusion, self.recall(), strict=True):
            lines.append(f"{label:>{width}}  " + " ".join(f"{v:7d}" for v in row) + f"   {recall:.3f}")
        return "\n".join(lines)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Element-wise numerator / denominator, 0 where the denominator is 0 (an absent class)."""
    out: np.ndarray = np.divide(numerator, denominator, out=np.zeros(len(numerator)), where=denominator > 0)
    return out


def classification_report(truth: list[int], predicted: list[int], labels: tuple[str, ...]) -> ClassificationReport:
    confusion = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for t, p in zip(truth, predicted, strict=True):
        confusion[t, p] += 1
    return ClassificationReport(labels, confusion)
