"""Where a track sits among the moods people name: a random forest learned from human mood labels
(models/track-moods), evaluated in numpy from its committed JSON, with no scikit-learn at serve time.

For each track the forest gives a probability per labelled mood (calm, energetic, happy, sad). Each mood has
an anchor in valence–arousal space (the position of its word in the mood vocabulary), so a track also gets
a place in that space: its probability-weighted anchor. How well a track fits any mood point — a vocabulary
word, a valence/arousal pair, a step of a journey — is `fit`: the probability mass the track puts on
anchors near that point, with a Gaussian kernel of width `kernel_width`, relative to the anchor nearest the
point (d_min), so that a track wholly of the nearest mood fits 1 wherever the point is:

    fit(track, point) = Σ_k p_k(track) · exp(−(‖anchor_k − point‖² − d_min²) / (2 · kernel_width²))   ∈ [0, 1]

A feature the catalog does not have for a track (an empty cell, a file without the column, tempo 0 = no beat)
is unknown, not zero: at a split on it, the track goes down both branches, weighted by the share of training
tracks that went each way (C4.5's rule), so it gets the forest's expectation over that feature.

`contributions` explains a prediction: along each decision path, the change in a mood's probability at a split
is credited to that split's feature (Saabas' decomposition), so a mood's probability is the forest's base rate
plus the sum of its features' contributions. `describe` turns the largest ones into words a listener knows.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

MODEL_FORMAT = "museaika-track-moods/1"
DEFAULT_MODEL = Path(__file__).resolve().parents[2] / "models" / "track-moods" / "model.json"

# How a listener would say "this feature is high / low" (Spotify's audio features, as its docs define them).
FEATURE_WORDS: dict[str, tuple[str, str]] = {
    "acousticness": ("acoustic", "electric"),
    "danceability": ("danceable", "hard to dance to"),
    "energy": ("energetic", "soft"),
    "instrumentalness": ("instrumental", "with vocals"),
    "liveness": ("played live", "studio-made"),
    "loudness": ("loud", "quiet"),
    "speechiness": ("wordy", "sung or played"),
    "tempo": ("fast", "slow"),
    "valence": ("bright-sounding", "dark-sounding"),
}


class TrackMoodModelError(ValueError):
    """The model file is missing, of another format, or inconsistent."""


@dataclass(frozen=True)
class Tree:
    """One decision tree, nodes in preorder; `left`/`right` are -1 at a leaf."""

    feature: np.ndarray  # int32 (nodes,)
    threshold: np.ndarray  # float64 (nodes,): go left when value <= threshold
    left: np.ndarray  # int32 (nodes,)
    right: np.ndarray  # int32 (nodes,)
    fraction_left: np.ndarray  # float64 (nodes,): share of the node's training tracks that went left
    value: np.ndarray  # float64 (nodes, moods): mood probabilities of the node's training tracks
    path_contributions: np.ndarray  # float64 (nodes, features, moods): the splits' credit from root to node

    @classmethod
    def from_json(cls, data: dict[str, Any], moods: int, features: int) -> Tree:
        feature, left, right = (np.asarray(data[k], dtype=np.int32) for k in ("feature", "left", "right"))
        threshold = np.asarray(data["threshold"], dtype=np.float64)
        fraction_left = np.asarray(data["fraction_left"], dtype=np.float64)
        value = np.asarray(data["value"], dtype=np.float64).reshape(-1, moods)
        nodes = len(feature)
        if not all(len(a) == nodes for a in (threshold, left, right, fraction_left, value)):
            raise TrackMoodModelError("a tree's node arrays differ in length")
        internal = np.flatnonzero(left >= 0)
        if np.any(left[internal] <= internal) or np.any(right[internal] <= internal) or np.any(right >= nodes):
            raise TrackMoodModelError("a tree's nodes are not in preorder")
        if np.any(feature[internal] >= features) or np.any(feature[internal] < 0):
            raise TrackMoodModelError("a tree splits on a feature the model does not list")
        path = np.zeros((nodes, features, moods))
        for node in internal.tolist():  # preorder: a parent's path is final before its children's
            for child in (left[node], right[node]):
                path[child] = path[node]
                path[child, feature[node]] += value[child] - value[node]
        return cls(feature, threshold, left, right, fraction_left, value, path)

    def leaves(self, as_float32: np.ndarray) -> np.ndarray:
        """The leaf each row (every value known) ends in, all rows a level at a time. scikit-learn compares
        in float32 (its thresholds are midpoints of float32 values), so the rows come as float32."""
        node = np.zeros(len(as_float32), dtype=np.int64)
        rows = np.arange(len(as_float32))
        while True:
            active = self.left[node] >= 0
            if not active.any():
                return node
            at, here = rows[active], node[active]
            go_left = as_float32[at, self.feature[here]] <= self.threshold[here]
            node[active] = np.where(go_left, self.left[here], self.right[here])

    def walk_unknown(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(probabilities, contributions) for rows with unknown values: at a split on one, a row goes both
        ways, weighted by `fraction_left`."""
        reach = np.zeros((len(self.feature), len(values)))
        reach[0] = 1.0
        probabilities = np.zeros((len(values), self.value.shape[1]))
        contributions = np.zeros((len(values), self.path_contributions.shape[1], self.value.shape[1]))
        as_float32 = np.nan_to_num(values).astype(np.float32)
        for node in range(len(self.feature)):  # preorder: a node's reach is final before its children's
            weight = reach[node]
            left, right = self.left[node], self.right[node]
            if left < 0:
                probabilities += weight[:, None] * self.value[node]
                contributions += weight[:, None, None] * self.path_contributions[node]
                continue
            feature = self.feature[node]
            go_left = np.where(np.isnan(values[:, feature]), self.fraction_left[node],
                               (as_float32[:, feature] <= self.threshold[node]).astype(float))
            reach[left] = weight * go_left
            reach[right] = weight * (1.0 - go_left)
        return probabilities, contributions


@dataclass(frozen=True)
class MoodPlacement:
    """The model's view of a set of tracks, row for row. Contributions are worked out on demand (only the
    tracks an answer explains need them), from each row's leaves."""

    probabilities: np.ndarray  # (n, moods), rows sum to 1
    positions: np.ndarray  # (n, 2): valence, arousal (probability-weighted anchors)
    leaves: np.ndarray  # (trees, n) int64: each tree's leaf per row, as an index into `paths`; -1: unknown value
    unknown_contributions: dict[int, np.ndarray]  # row → (features, moods), for rows with an unknown value
    paths: np.ndarray | None  # (all trees' nodes, features, moods): `Tree.path_contributions`, stacked

    def contributions(self, row: int) -> np.ndarray:
        """(features, moods): each feature's part in each mood's probability for one row."""
        if row in self.unknown_contributions:
            return self.unknown_contributions[row]
        if self.paths is None:
            raise ValueError("this placement carries no explanations")
        return np.asarray(self.paths[self.leaves[:, row]].mean(axis=0))

    def with_probabilities(self, probabilities: np.ndarray, anchors: np.ndarray) -> MoodPlacement:
        """The same rows placed by other probabilities (explanations are then not available)."""
        return MoodPlacement(probabilities, probabilities @ anchors, self.leaves, {}, None)


@dataclass(frozen=True)
class TrackMoodModel:
    version: str
    features: tuple[str, ...]  # input columns, in order (natural units; tempo in bpm, loudness in dB)
    moods: tuple[str, ...]
    anchors: np.ndarray  # (moods, 2): valence, arousal of each mood's word
    kernel_width: float
    medians: np.ndarray  # (features,): the training tracks' medians, what "high" and "low" are said against
    scales: np.ndarray  # (features,): their interquartile ranges, the unit of similarity between tracks
    base_rates: np.ndarray  # (moods,): the forest's mean root probabilities
    trees: tuple[Tree, ...]
    paths: np.ndarray  # every tree's `path_contributions`, stacked in tree order
    offsets: np.ndarray  # (trees,) int64: where each tree's nodes start in `paths`
    parameters: dict[str, Any] = field(default_factory=dict)  # the training recipe, for refitting it

    @classmethod
    def load(cls, path: Path = DEFAULT_MODEL) -> TrackMoodModel:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise TrackMoodModelError(f"cannot read the track-mood model {path}: {error}") from error
        return cls.from_json(data)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrackMoodModel:
        if data.get("format") != MODEL_FORMAT:
            raise TrackMoodModelError(f"not a {MODEL_FORMAT} model (format {data.get('format')!r})")
        moods = tuple(data["moods"])
        features = tuple(data["features"])
        unknown = [name for name in features if name not in FEATURE_WORDS]
        if unknown:
            raise TrackMoodModelError(f"the model reads features this catalog has no words for: {unknown}")
        trees = tuple(Tree.from_json(tree, len(moods), len(features)) for tree in data["trees"])
        if not trees:
            raise TrackMoodModelError("the model has no trees")
        anchors = np.asarray([data["anchors"][mood] for mood in moods], dtype=np.float64)
        offsets = np.cumsum([0, *(len(tree.feature) for tree in trees[:-1])]).astype(np.int64)
        return cls(str(data["version"]), features, moods, anchors, float(data["kernel_width"]),
                   np.asarray(data["medians"], dtype=np.float64), np.asarray(data["scales"], dtype=np.float64),
                   np.mean([tree.value[0] for tree in trees], axis=0), trees,
                   np.concatenate([tree.path_contributions for tree in trees]), offsets,
                   dict(data.get("parameters", {})))

    def place(self, values: np.ndarray) -> MoodPlacement:
        """`values`: (n, features) in `features` order, natural units, NaN where unknown."""
        values = np.asarray(values, dtype=np.float64).reshape(-1, len(self.features))
        unknown = np.isnan(values).any(axis=1)
        known_rows, other_rows = np.flatnonzero(~unknown), np.flatnonzero(unknown)
        leaves = np.full((len(self.trees), len(values)), -1, dtype=np.int64)
        probabilities = np.zeros((len(values), len(self.moods)))
        known = values[known_rows].astype(np.float32)
        other_probabilities = np.zeros((len(other_rows), len(self.moods)))
        other_contributions = np.zeros((len(other_rows), len(self.features), len(self.moods)))
        for number, tree in enumerate(self.trees):
            reached = tree.leaves(known)
            leaves[number, known_rows] = reached + self.offsets[number]
            probabilities[known_rows] += tree.value[reached]
            if other_rows.size:
                p, c = tree.walk_unknown(values[other_rows])
                other_probabilities += p
                other_contributions += c
        probabilities[other_rows] = other_probabilities
        probabilities /= len(self.trees)
        unknown_contributions = {int(row): other_contributions[i] / len(self.trees)
                                 for i, row in enumerate(other_rows.tolist())}
        return MoodPlacement(probabilities, probabilities @ self.anchors, leaves, unknown_contributions, self.paths)

    def kernel(self, point: tuple[float, float]) -> np.ndarray:
        """(moods,): how near each mood's anchor is to `point`, relative to the nearest anchor (which gets 1).
        Relative, and worked out from the differences of squared distances, so a point far from every anchor
        neither underflows to 0 nor changes the order."""
        squared = np.sum((self.anchors - np.asarray(point, dtype=np.float64)) ** 2, axis=1)
        return np.asarray(np.exp(-(squared - squared.min()) / (2.0 * self.kernel_width ** 2)))

    def fit(self, probabilities: np.ndarray, point: tuple[float, float]) -> np.ndarray:
        """(n,) in [0, 1]: how well each track fits the mood at `point` (see the module docstring)."""
        return np.asarray(probabilities @ self.kernel(point))

    def describe(self, values: Sequence[float], contributions: np.ndarray, mood: int, most: int = 3) -> list[str]:
        """The features that most raised `mood`'s probability for one track, as words ("acoustic", "slow")."""
        order = np.argsort(-contributions[:, mood], kind="stable")
        words: list[str] = []
        for feature in order[:most]:
            if contributions[feature, mood] <= 0 or np.isnan(values[feature]):
                break
            high, low = FEATURE_WORDS[self.features[feature]]
            words.append(high if values[feature] > self.medians[feature] else low)
        return words


def feature_columns(model: TrackMoodModel, available: Sequence[str], rows: np.ndarray) -> np.ndarray:
    """Rows with columns `available` → the model's columns in its order; a column the rows lack is NaN."""
    out = np.full((len(rows), len(model.features)), np.nan)
    for i, name in enumerate(model.features):
        if name in available:
            out[:, i] = rows[:, list(available).index(name)]
    return out


def words_list(words: Sequence[str]) -> str:
    """["acoustic", "quiet", "slow"] → "acoustic, quiet and slow"."""
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"
