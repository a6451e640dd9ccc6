"""Recommendations: do the tracks fit what people call a mood? Latency on a real catalog, journeys, feedback.

    python -m benchmarks recommendations [--labelled ../shared/datasets/track-moods/track_moods.csv]
        [--catalog ../shared/datasets/spotify-tracks/spotify_tracks.csv] [--mongo-url URL] [--seed 0]

1. Labelled tracks (people labelled each Happy, Sad, Calm or Energetic): precision@20 per mood word, in
   artist-grouped 5-fold cross-validation (no artist in both the folds that fit a model and the fold it
   ranks). Each track gets its out-of-fold placement; every method then ranks all labelled tracks through the
   API's own selection (`ranking.best_diverse`: best first, at most 2 per artist) and P@20 is the share of the
   top 20 that people gave that label. Methods: random order, the hand-set mapping the catalog used before the
   model, a valence/energy target mapping as peer projects use, and the track-mood model (the committed
   model's training recipe, fit per fold). Mean over `--repeats` fold draws.
2. Vocabulary words beyond the four labels (relaxed, gloomy, excited …): the share of each word's top 20
   labelled with the labelled mood nearest the word in valence–arousal space.
3. The catalog (the 14k-track file): placing every track, ranking latency (p50/p95), journeys' smoothness.
4. A simulated listener who dislikes instrumentals: do their 👎 tracks stop appearing, and does the rest of
   what they get move away from what they disliked?
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold

from benchmarks.mood_mapping_baselines import hand_set, valence_energy
from orchestrator.catalog.csv_import import import_csv, parse_catalog_csv
from orchestrator.catalog.features import FEATURES
from orchestrator.catalog.journey import journey, path_distances
from orchestrator.catalog.ranking import MoodPoint, best_diverse, rank, scores
from orchestrator.catalog.store import FeatureMatrix, TrackCatalog
from orchestrator.catalog.taste import Feedback
from orchestrator.catalog.track_moods import DEFAULT_MODEL, TrackMoodModel
from orchestrator.moods.vocabulary import lookup
from orchestrator.storage.mongo import MongoStore
from training.track_mood_forest import (
    DEFAULT_LABELLED,
    ForestParameters,
    LabelledTracks,
    fitted_model,
    read_labelled,
)

DEFAULT_CATALOG = DEFAULT_LABELLED.parents[1] / "spotify-tracks" / "spotify_tracks.csv"
LIMIT, MAX_PER_ARTIST, FOLDS = 20, 2, 5
MOODS = ("calm", "energetic", "happy", "sad")
OTHER_WORDS = ("relaxed", "serene", "peaceful", "sleepy", "excited", "hype", "upbeat", "delighted", "gloomy",
               "depressed", "melancholic", "miserable")
JOURNEYS = (("sad", "happy"), ("energetic", "calm"), ("happy", "sad"), ("calm", "energetic"))
T = TypeVar("T")
Scorer = Callable[[FeatureMatrix, MoodPoint], np.ndarray]


def timed(function: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def point(word: str) -> MoodPoint:
    entry = lookup(word)
    return MoodPoint(entry.valence, entry.arousal, entry.word)


def out_of_fold(labelled: LabelledTracks, matrix: FeatureMatrix, parameters: ForestParameters,
                seed: int) -> FeatureMatrix:
    """`matrix` (all labelled tracks) with each track placed by a model that never saw its artist."""
    folds = StratifiedGroupKFold(n_splits=FOLDS, shuffle=True, random_state=seed)
    probabilities = np.zeros_like(matrix.placement.probabilities)
    for fit_rows, held_out in folds.split(labelled.values, labelled.moods, labelled.artists):
        model = fitted_model(labelled.values[fit_rows], labelled.moods[fit_rows], labelled.features, parameters)
        probabilities[held_out] = model.place(matrix.model_values[held_out]).probabilities
    return replace(matrix, placement=matrix.placement.with_probabilities(probabilities, matrix.model.anchors))


def top(matrix: FeatureMatrix, score: np.ndarray) -> list[int]:
    return best_diverse(score, matrix, None, LIMIT, MAX_PER_ARTIST)


def precision(labels: np.ndarray, rows: list[int], wanted: str) -> float:
    return float(np.mean(labels[rows] == wanted)) if rows else 0.0


def nearest_label(word: str) -> str:
    here = point(word)
    return min(MOODS, key=lambda m: (point(m).valence - here.valence) ** 2 + (point(m).arousal - here.arousal) ** 2)


def bench_labelled(labelled: LabelledTracks, model: TrackMoodModel, parameters: ForestParameters, seed: int,
                   repeats: int) -> None:
    matrix = FeatureMatrix.from_tracks(labelled.tracks, model)
    rng = np.random.default_rng(seed)
    scorers: dict[str, Scorer] = {
        "random order": lambda m, p: rng.random(len(m)),
        "hand-set mapping (before)": lambda m, p: hand_set(m.raw, p.valence, p.arousal),
        "valence/energy targets (peers)": lambda m, p: valence_energy(m.raw, p.valence, p.arousal),
        "track-mood model (served)": lambda m, p: scores(m, p)[0],
    }
    words = (*MOODS, *OTHER_WORDS)
    results: dict[str, dict[str, list[float]]] = {name: {w: [] for w in words} for name in scorers}
    confusion: dict[str, Counter[str]] = {w: Counter() for w in MOODS}
    for repeat in range(repeats):
        oof = out_of_fold(labelled, matrix, parameters, seed + repeat)
        for name, scorer in scorers.items():
            for word in words:
                rows = top(oof, scorer(oof, point(word)))
                results[name][word].append(precision(labelled.moods, rows, nearest_label(word)))
                if name.startswith("track-mood") and word in MOODS:
                    confusion[word].update(labelled.moods[rows].tolist())
    print(f"## Labelled tracks ({len(labelled.tracks)}, {len(set(labelled.artists))} artists): precision@{LIMIT}, "
          f"artist-grouped {FOLDS}-fold CV, mean of {repeats} fold draws\n")
    print("| method | " + " | ".join(MOODS) + " | mean | lowest |")
    print("|---|" + "---|" * (len(MOODS) + 2))
    for name in scorers:
        values = [statistics.fmean(results[name][w]) for w in MOODS]
        print(f"| {name} | " + " | ".join(f"{v:.2f}" for v in values)
              + f" | **{statistics.fmean(values):.3f}** | {min(values):.2f} |")
    print(f"\nWhat the model's top {LIMIT} for each word were labelled (all fold draws together):\n")
    print("| asked for | " + " | ".join(MOODS) + " |")
    print("|---|" + "---|" * len(MOODS))
    for word in MOODS:
        total = sum(confusion[word].values())
        print(f"| {word} | " + " | ".join(f"{confusion[word][m] / total:.2f}" for m in MOODS) + " |")
    print(f"\n## Vocabulary words beyond the labels: share of the top {LIMIT} labelled with the nearest labelled "
          "mood\n")
    print("| word (v, a) → nearest label | " + " | ".join(scorers) + " |")
    print("|---|" + "---|" * len(scorers))
    for word in OTHER_WORDS:
        p = point(word)
        print(f"| {word} ({p.valence:+.2f}, {p.arousal:+.2f}) → {nearest_label(word)} | "
              + " | ".join(f"{statistics.fmean(results[name][word]):.2f}" for name in scorers) + " |")


def bench_catalog(path: Path, model: TrackMoodModel, rng: np.random.Generator, moods: int = 1000) -> FeatureMatrix:
    parsed, parse_s = timed(lambda: parse_catalog_csv(path))
    matrix, build_s = timed(lambda: FeatureMatrix.from_tracks(parsed.tracks, model))
    unknown = parsed.unknown()
    print(f"\n## Catalog {path.name}: {len(parsed.tracks)} tracks ({len(parsed.rejected)} rows refused)\n")
    print(f"- parse: {parse_s * 1000:.0f} ms; place every track with model {model.version}: {build_s * 1000:.0f} ms")
    print(f"- unknown features: {unknown or 'none'}")
    labels = Counter(model.moods[i] for i in np.argmax(matrix.placement.probabilities, axis=1).tolist())
    print(f"- tracks by most likely mood: {dict(sorted(labels.items()))}")
    points = rng.uniform(-1, 1, size=(moods, 2))
    plain, with_taste = [], []
    taste = Feedback(rng.choice(len(matrix), 25, replace=False), rng.choice(len(matrix), 25, replace=False))
    for valence, arousal in points.tolist():
        mood = MoodPoint(valence, arousal)
        began = time.perf_counter()
        rank(matrix, mood, LIMIT, MAX_PER_ARTIST)
        plain.append((time.perf_counter() - began) * 1000)
        began = time.perf_counter()
        rank(matrix, mood, LIMIT, MAX_PER_ARTIST, feedback=taste)
        with_taste.append((time.perf_counter() - began) * 1000)
    print(f"\n| ranking {LIMIT} of {len(matrix)} tracks ({moods} random moods) | p50 ms | p95 ms |")
    print("|---|---|---|")
    for name, values in (("no feedback", plain), ("with 25 👍 and 25 👎", with_taste)):
        print(f"| {name} | {np.percentile(values, 50):.2f} | {np.percentile(values, 95):.2f} |")
    print("\n| journey (20 steps) | ms | largest step | mean step | shuffled: largest | shuffled: mean |")
    print("|---|---|---|---|---|---|")
    for start, end in JOURNEYS:
        first, last = point(start), point(end)
        begun = time.perf_counter()
        steps = journey((first.valence, first.arousal), (last.valence, last.arousal), 20, matrix)
        seconds = time.perf_counter() - begun
        rows = [matrix.index[s.track.track_id] for s in steps]
        ours = path_distances(matrix, rows)
        shuffled = [path_distances(matrix, rng.permutation(rows).tolist()) for _ in range(200)]
        print(f"| {start} → {end} | {seconds * 1000:.0f} | {ours.max():.3f} | {ours.mean():.3f} "
              f"| {statistics.fmean(float(s.max()) for s in shuffled):.3f} "
              f"| {statistics.fmean(float(s.mean()) for s in shuffled):.3f} |")
    return matrix


def bench_feedback(matrix: FeatureMatrix, word: str = "energetic", rounds: int = 4) -> None:
    """A listener asks for the same mood again and again, 👎 every wordy track (speechiness > 0.1: rap,
    spoken parts) they are offered and 👍 the rest."""
    wordy = np.nan_to_num(matrix.raw[:, FEATURES.index("speechiness")]) > 0.1
    liked: list[int] = []
    disliked: list[int] = []
    print(f"\n## A simulated listener asks for \"{word}\" {rounds} times, 👎 every wordy track "
          "(speechiness > 0.1) and 👍 the rest\n")
    print("| round | 👎 so far | earlier 👎 offered again | wordy tracks offered |")
    print("|---|---|---|---|")
    for number in range(1, rounds + 1):
        feedback = Feedback(np.array(liked, dtype=np.int64), np.array(disliked, dtype=np.int64))
        offered = [matrix.index[t.track_id]
                   for t in rank(matrix, point(word), LIMIT, MAX_PER_ARTIST, feedback=feedback)]
        again = len(set(offered) & set(disliked))
        print(f"| {number} | {len(disliked)} | {again} | {int(wordy[offered].sum())} of {len(offered)} |")
        disliked += [r for r in offered if wordy[r]]
        liked += [r for r in offered if not wordy[r]]


async def bench_mongo(csv_path: Path, url: str, model: TrackMoodModel) -> None:
    database = f"museaika_bench_catalog_{uuid.uuid4().hex[:8]}"
    store = MongoStore(url, database, 5000)
    catalog = TrackCatalog(store, model)
    try:
        report, imported = await _timed_async(import_csv(csv_path, catalog))
        matrix, loaded = await _timed_async(catalog.matrix())
        cached = [(await _timed_async(catalog.matrix()))[1] for _ in range(20)]
        print(f"\n## MongoDB path ({url}, database {database}, dropped afterwards)\n")
        print(f"- import: {imported:.2f} s ({report.imported} imported); first matrix() with placement: "
              f"{loaded:.2f} s ({len(matrix)} tracks); cached matrix(), p50: {statistics.median(cached) * 1000:.1f} ms")
    finally:
        await store.client.drop_database(database)
        await store.close()


async def _timed_async(awaitable: object) -> tuple[T, float]:
    start = time.perf_counter()
    result = await awaitable  # type: ignore[misc]
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--labelled", type=Path, default=DEFAULT_LABELLED)
    parser.add_argument("--catalog", type=Path, default=DEFAULT_CATALOG)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="the served track-mood model")
    parser.add_argument("--mongo-url", help="also time the MongoDB import and load path")
    parser.add_argument("--repeats", type=int, default=3, help="fold draws to average")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    model = TrackMoodModel.load(args.model)
    parameters = ForestParameters(**model.parameters)
    print(f"# Recommendations (track-mood model {model.version})\n")
    bench_labelled(read_labelled(args.labelled), model, parameters, args.seed, args.repeats)
    matrix = bench_catalog(args.catalog, model, np.random.default_rng(args.seed))
    bench_feedback(matrix)
    if args.mongo_url:
        asyncio.run(bench_mongo(args.catalog, args.mongo_url, model))


if __name__ == "__main__":
    main()
