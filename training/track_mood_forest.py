"""Fitting the track-mood forest and writing it in the JSON that `orchestrator.catalog.track_moods` reads.

Shared by the training command and the recommendations benchmark, so both fit exactly the same model.
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.ensemble import RandomForestClassifier

from orchestrator.catalog.csv_import import parse_catalog_csv
from orchestrator.catalog.features import FEATURES, known_values
from orchestrator.catalog.store import CatalogTrack
from orchestrator.catalog.track_moods import MODEL_FORMAT, TrackMoodModel
from orchestrator.moods.vocabulary import lookup

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_LABELLED = REPO_ROOT.parent / "shared" / "datasets" / "track-moods" / "track_moods.csv"
# The labels people gave, as the words of the mood vocabulary they are (their anchors come from it).
LABEL_WORDS = {"Calm": "calm", "Energetic": "energetic", "Happy": "happy", "Sad": "sad"}


@dataclass(frozen=True)
class ForestParameters:
    trees: int = 200
    max_depth: int = 6
    min_leaf: int = 3
    kernel_width: float = 0.1
    seed: int = 0


@dataclass(frozen=True)
class LabelledTracks:
    tracks: list[CatalogTrack]
    moods: np.ndarray  # (n,) str: vocabulary words ("calm" …)
    artists: np.ndarray  # (n,) str: for artist-grouped folds
    features: tuple[str, ...]  # the audio features the file has (the model reads these)
    values: np.ndarray  # (n, len(features)), natural units, NaN where unknown


def read_labelled(path: Path = DEFAULT_LABELLED) -> LabelledTracks:
    """The labelled tracks through the catalog's own importer, plus each one's `mood` column."""
    parsed = parse_catalog_csv(path)
    if parsed.rejected:
        raise ValueError(f"{path}: {len(parsed.rejected)} rows refused, first: line {parsed.rejected[0].line} "
                         f"{parsed.rejected[0].reason}")
    with open(path, encoding="utf-8-sig", newline="") as stream:
        labels = {row["id"].strip(): row["mood"].strip() for row in csv.DictReader(stream)}
    features = tuple(name for name in FEATURES if name not in parsed.absent)
    raw = known_values(np.array([t.feature_row() for t in parsed.tracks]))
    columns = [FEATURES.index(name) for name in features]
    return LabelledTracks(parsed.tracks, np.array([LABEL_WORDS[labels[t.track_id]] for t in parsed.tracks]),
                          np.array([t.artist.casefold() for t in parsed.tracks]), features, raw[:, columns])


def fit_forest(values: np.ndarray, moods: np.ndarray, parameters: ForestParameters) -> RandomForestClassifier:
    # Unknown values (none in the labelled file, but a fold may be given some) are filled with the medians
    # for fitting only; at serve time the forest walks both branches instead (track_moods).
    filled = np.where(np.isnan(values), np.nanmedian(values, axis=0), values)
    forest = RandomForestClassifier(n_estimators=parameters.trees, max_depth=parameters.max_depth,
                                    min_samples_leaf=parameters.min_leaf, random_state=parameters.seed, n_jobs=1)
    forest.fit(filled, moods)
    return forest


def forest_json(forest: RandomForestClassifier, features: tuple[str, ...], values: np.ndarray,
                parameters: ForestParameters, version: str) -> dict[str, Any]:
    """The model file: trees in preorder with each split's left share, anchors from the vocabulary."""
    moods = tuple(str(m) for m in forest.classes_)
    trees = []
    for estimator in forest.estimators_:
        tree = estimator.tree_
        weights = tree.weighted_n_node_samples
        left, right = tree.children_left, tree.children_right
        internal = left >= 0
        fraction_left = np.where(internal, weights[np.maximum(left, 0)] / weights, 0.0)
        value = tree.value[:, 0, :]
        value = value / value.sum(axis=1, keepdims=True)
        trees.append({"feature": np.where(internal, tree.feature, -1).tolist(),
                      "threshold": np.where(internal, tree.threshold, 0.0).tolist(),
                      "left": left.tolist(), "right": right.tolist(),
                      "fraction_left": np.round(fraction_left, 6).tolist(), "value": np.round(value, 6).tolist()})
    quartiles = np.nanpercentile(values, [25, 50, 75], axis=0)
    scales = np.where(quartiles[2] > quartiles[0], quartiles[2] - quartiles[0], 1.0)
    anchors = {mood: [lookup(mood).valence, lookup(mood).arousal] for mood in moods}
    return {"format": MODEL_FORMAT, "version": version, "features": list(features), "moods": list(moods),
            "anchors": anchors, "kernel_width": parameters.kernel_width, "parameters": asdict(parameters),
            "medians": np.round(quartiles[1], 6).tolist(), "scales": np.round(scales, 6).tolist(), "trees": trees}


def fitted_model(values: np.ndarray, moods: np.ndarray, features: tuple[str, ...], parameters: ForestParameters,
                 version: str = "cv") -> TrackMoodModel:
    forest = fit_forest(values, moods, parameters)
    return TrackMoodModel.from_json(forest_json(forest, features, values, parameters, version))
