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
        support = self.confusion.sum(axis=1)
        recall: np.ndarray = np.divide(np.diag(self.confusion), support, out=np.zeros(len(self.labels)), where=support > 0)
        return recall

    def precision(self) -> np.ndarray:
        predicted = self.confusion.sum(axis=0)
        precision: np.ndarray = np.divide(np.diag(self.confusion), predicted, out=np.zeros(len(self.labels)), where=predicted > 0)
        return precision

    @property
    def macro_f1(self) -> float:
        p, r = self.precision(), self.recall()
        f1 = np.divide(2 * p * r, p + r, out=np.zeros(len(self.labels)), where=(p + r) > 0)
        return float(f1.mean())

    def format(self) -> str:
        width = max(len(label) for label in self.labels)
        lines = [f"accuracy {self.accuracy:.4f}   macro-F1 {self.macro_f1:.4f}", "",
                 " " * (width + 2) + " ".join(f"{label[:7]:>7}" for label in self.labels) + "   recall"]
        for label, row, recall in zip(self.labels, self.confusion, self.recall(), strict=True):
            lines.append(f"{label:>{width}}  " + " ".join(f"{v:7d}" for v in row) + f"   {recall:.3f}")
        return "\n".join(lines)


def classification_report(truth: list[int], predicted: list[int], labels: tuple[str, ...]) -> ClassificationReport:
    confusion = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for t, p in zip(truth, predicted, strict=True):
        confusion[t, p] += 1
    return ClassificationReport(labels, confusion)
