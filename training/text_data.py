"""The two text-emotion corpora and the one label set the served model answers in.

- dair-ai "emotion": `text;label` per line, one of six labels (sadness joy love anger fear surprise).
- GoEmotions, Ekman grouping: `text<TAB>ids<TAB>comment id`, ids index `labels.txt`, a line may carry several.

The served label set is Ekman's seven as GoEmotions groups them. dair's `love` becomes `joy`: GoEmotions'
own Ekman mapping (Demszky et al., ACL 2020, `ekman_mapping.json`) files its `love` under `joy`, so keeping
`love` apart would teach the model that a Reddit "love" comment is joy and a tweet's "love" is not.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DATASETS = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets"
DEFAULT_TEXT_DATASET = DATASETS / "emotion-text"
DEFAULT_GOEMOTIONS_DATASET = DATASETS / "goemotions-ekman"

DAIR_LABELS: tuple[str, ...] = ("sadness", "joy", "love", "anger", "fear", "surprise")
TEXT_LABELS = DAIR_LABELS  # sentiment 1.0.0's label set
EKMAN_LABELS: tuple[str, ...] = ("anger", "disgust", "fear", "joy", "neutral", "sadness", "surprise")
# The Ekman labels each corpus can say: dair-ai's annotators had no `disgust` or `neutral`, so a dair text's
# silence on them is not evidence (training masks those two outputs for its lines).
SOURCE_LABELS: dict[str, frozenset[str]] = {
    "dair": frozenset({"anger", "fear", "joy", "sadness", "surprise"}),
    "goemotions": frozenset(EKMAN_LABELS),
}
DAIR_TO_EKMAN: dict[str, str] = {"sadness": "sadness", "joy": "joy", "love": "joy", "anger": "anger",
                                 "fear": "fear", "surprise": "surprise"}


@dataclass(frozen=True)
class LabelledTexts:
    """Texts with one or more labels each (names from the corpus's own label set)."""

    source: str
    texts: list[str]
    labels: list[tuple[str, ...]]

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, indices: list[int]) -> LabelledTexts:
        return LabelledTexts(self.source, [self.texts[i] for i in indices], [self.labels[i] for i in indices])

    def known(self, labels: tuple[str, ...] = EKMAN_LABELS) -> list[bool]:
        """Which of `labels` this corpus could have given a text (its targets for the others are unknown)."""
        return [label in SOURCE_LABELS[self.source] for label in labels]

    def in_ekman(self) -> LabelledTexts:
        """The same texts with dair's labels renamed into the Ekman set (GoEmotions' are already there)."""
        if self.source != "dair":
            return self
        return LabelledTexts(self.source, self.texts, [tuple(DAIR_TO_EKMAN[x] for x in row) for row in self.labels])


def read_split(path: Path) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        text, separator, label = line.rpartition(";")
        if not separator or label not in DAIR_LABELS:
            raise ValueError(f"{path}:{number}: expected 'text;label' with a label in {DAIR_LABELS}")
        texts.append(text)
        labels.append(label)
    return texts, labels


def read_dair(path: Path) -> LabelledTexts:
    texts, labels = read_split(path)
    return LabelledTexts("dair", texts, [(label,) for label in labels])


def read_goemotions(path: Path, labels_file: Path | None = None) -> LabelledTexts:
    names = (labels_file or path.parent / "labels.txt").read_text(encoding="utf-8").split()
    texts, labels = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split("\t")
        try:
            ids = [int(x) for x in fields[1].split(",")]
            row = tuple(names[i] for i in ids)
        except (IndexError, ValueError) as error:
            raise ValueError(f"{path}:{number}: expected 'text<TAB>label ids<TAB>id' with ids in labels.txt") from error
        texts.append(fields[0])
        labels.append(row)
    return LabelledTexts("goemotions", texts, labels)
