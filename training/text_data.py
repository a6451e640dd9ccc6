"""The dair-ai emotion text split format: one `text;label` per line."""

from __future__ import annotations

from pathlib import Path

DEFAULT_TEXT_DATASET = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets" / "emotion-text"
TEXT_LABELS: tuple[str, ...] = ("sadness", "joy", "love", "anger", "fear", "surprise")


def read_split(path: Path) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        text, separator, label = line.rpartition(";")
        if not separator or label not in TEXT_LABELS:
            raise ValueError(f"{path}:{number}: expected 'text;label' with a label in {TEXT_LABELS}")
        texts.append(text)
        labels.append(label)
    return texts, labels
