"""Catalog recommendations: ranking latency, how close the ranked tracks are to each quadrant's targets
compared with random tracks, and how smooth mood journeys are compared with the same tracks shuffled.

    python -m benchmarks recommendations --csv ../shared/datasets/spotify-tracks/spotify_tracks.csv \
        [--mongo-url mongodb://127.0.0.1:27017] [--moods 1000] [--seed 0]

The CSV is parsed straight into an in-memory `FeatureMatrix` (no MongoDB needed; the file is only read).
With `--mongo-url`, the Mongo path is timed as well: import into a throw-away database
(museaika_bench_catalog_<random>, dropped at the end), re-import (nothing changed), the first
`TrackCatalog.matrix()` (a full load) and a cached one (a version check).

Distances are `features.weighted_distance` (normalised features, `FEATURE_WEIGHTS`; 0 = exactly the
targets, 1 = as far as possible). Quadrant moods are (±0.7, ±0.7): happy (+v +a), calm (+v −a), angry
(−v +a), sad (−v −a).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

import numpy as np

from orchestrator.catalog.csv_import import import_csv, parse_catalog_csv
from orchestrator.catalog.features import FEATURES, audio_targets, weighted_distance
from orchestrator.catalog.journey import JourneyStep, consecutive_distances, journey, max_step_change
from orchestrator.catalog.ranking import rank
from orchestrator.catalog.store import FeatureMatrix, TrackCatalog
from orchestrator.storage.mongo import MongoStore

QUADRANTS = {"happy (+v +a)": (0.7, 0.7), "calm (+v −a)": (0.7, -0.7), "angry (−v +a)": (-0.7, 0.7),
             "sad (−v −a)": (-0.7, -0.7)}
JOURNEYS = [("sad", "happy"), ("angry", "calm"), ("happy", "sad"), ("calm", "angry")]
LIMIT = 20
T = TypeVar("T")


def timed(function: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def percentile_ms(seconds: list[float], q: float) -> float:
    return float(np.percentile(np.array(seconds) * 1000, q))


def spearman(values: list[float]) -> float:
    """Rank correlation of `values` with their position (1 = rises at every step)."""
    ranks = np.argsort(np.argsort(values, kind="stable")).astype(float)
    positions = np.arange(len(values), dtype=float)
    if ranks.std() == 0:
        return 0.0
    return float(np.corrcoef(ranks, positions)[0, 1])


def bench_latency(matrix: FeatureMatrix, moods: int, rng: np.random.Generator) -> None:
    points = rng.uniform(-1.0, 1.0, size=(moods, 2))
    targets = [audio_targets(float(v), float(a)) for v, a in points]
    rank(targets[0], matrix, limit=LIMIT)  # warm-up
    whole = [timed(partial(rank, t, matrix, limit=LIMIT))[1] for t in targets]
    saved = [matrix.ids[i] for i in rng.choice(len(matrix), size=min(1000, len(matrix)), replace=False)]
    subset = [timed(partial(rank, t, matrix, limit=LIMIT, candidate_ids=saved))[1]
              for t in targets[:200]]
    played = [matrix.ids[i] for i in rng.choice(len(matrix), size=min(200, len(matrix)), replace=False)]
    excluding = [timed(partial(rank, t, matrix, limit=LIMIT, exclude_ids=played))[1]
                 for t in targets[:200]]
    print(f"\n## Ranking latency: {LIMIT} of {len(matrix)} tracks, uniform random moods, max 2 per artist\n")
    print("| case | calls | p50 ms | p95 ms | max ms |")
    print("|---|---|---|---|---|")
    for name, seconds in (("whole catalog", whole), ("candidate_ids = 1000 saved tracks", subset),
                          ("whole catalog, exclude_ids = 200 played", excluding)):
        print(f"| {name} | {len(seconds)} | {percentile_ms(seconds, 50):.2f} | {percentile_ms(seconds, 95):.2f} "
              f"| {max(seconds) * 1000:.2f} |")
    print("\ngoal: p50 ≤ 20 ms for the whole catalog")


def bench_quadrants(matrix: FeatureMatrix, rng: np.random.Generator, draws: int = 1000) -> None:
    print(f"\n## Closeness to the targets: mean weighted distance of the {LIMIT} ranked tracks vs {LIMIT} random "
          f"catalog tracks (mean of {draws} draws)\n")
    print("| quadrant | targets (valence, energy, danceability, tempo, acousticness, mode) | ranked | random | "
          "ranked / random | artists in list |")
    print("|---|---|---|---|---|---|")
    for name, (valence, arousal) in QUADRANTS.items():
        targets = audio_targets(valence, arousal)
        ranked = rank(targets, matrix, limit=LIMIT)
        ranked_mean = statistics.fmean(t.distance for t in ranked)
        distances = weighted_distance(matrix.normalised, targets.vector())
        random_mean = float(np.mean([distances[rng.choice(len(matrix), size=LIMIT, replace=False)].mean()
                                     for _ in range(draws)]))
        shown = ", ".join(f"{getattr(targets, f):g}" for f in FEATURES)
        print(f"| {name} | {shown} | {ranked_mean:.4f} | {random_mean:.4f} | {ranked_mean / random_mean:.3f} "
              f"| {len({t.artist for t in ranked})} |")


def bench_journeys(matrix: FeatureMatrix, rng: np.random.Generator, steps: int = 20, shuffles: int = 1000) -> None:
    named = {"happy": QUADRANTS["happy (+v +a)"], "calm": QUADRANTS["calm (+v −a)"],
             "angry": QUADRANTS["angry (−v +a)"], "sad": QUADRANTS["sad (−v −a)"]}
    print(f"\n## Journeys: {steps} steps; per-step change = weighted distance between consecutive tracks; "
          f"random order = the same tracks shuffled (mean of {shuffles})\n")
    print("| journey | ms | max step change | random order: max step change | mean step change | "
          "random order: mean | mean distance to step target | valence ρ | energy ρ | max Δ valence | "
          "max Δ energy | max Δ tempo (bpm) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for start, end in JOURNEYS:
        result: list[JourneyStep]
        result, seconds = timed(partial(journey, named[start], named[end], steps, matrix))
        rows = [matrix.index[s.track.track_id] for s in result]
        ours = consecutive_distances(matrix, rows)
        random_max, random_mean = [], []
        for _ in range(shuffles):
            shuffled = consecutive_distances(matrix, rng.permutation(rows).tolist())
            random_max.append(float(shuffled.max()))
            random_mean.append(float(shuffled.mean()))
        summary = max_step_change(result)
        valence = [float(matrix.raw[r, FEATURES.index("valence")]) for r in rows]
        energy = [float(matrix.raw[r, FEATURES.index("energy")]) for r in rows]
        print(f"| {start} → {end} | {seconds * 1000:.1f} | {ours.max():.4f} | {statistics.fmean(random_max):.4f} "
              f"| {ours.mean():.4f} | {statistics.fmean(random_mean):.4f} "
              f"| {statistics.fmean(s.track.distance for s in result):.4f} | {spearman(valence):+.2f} "
              f"| {spearman(energy):+.2f} | {summary['valence']:.3f} | {summary['energy']:.3f} "
              f"| {summary['tempo']:.1f} |")
    print("\nρ: Spearman correlation of the tracks' feature with the step number (+1 rises at every step, "
          "−1 falls at every step)")
    for length in (5, 100):
        _, seconds = timed(partial(journey, named["sad"], named["happy"], length, matrix))
        print(f"- sad → happy, {length} steps: {seconds * 1000:.1f} ms")


async def bench_mongo(csv_path: Path, url: str) -> None:
    database = f"museaika_bench_catalog_{uuid.uuid4().hex[:8]}"
    store = MongoStore(url, database, 5000)
    catalog = TrackCatalog(store)
    try:
        start = time.perf_counter()
        first = await import_csv(csv_path, catalog)
        imported = time.perf_counter() - start
        start = time.perf_counter()
        second = await import_csv(csv_path, catalog)
        reimported = time.perf_counter() - start
        start = time.perf_counter()
        matrix = await catalog.matrix()
        loaded = time.perf_counter() - start
        cached_times = []
        for _ in range(20):
            start = time.perf_counter()
            await catalog.matrix()
            cached_times.append(time.perf_counter() - start)
        print(f"\n## MongoDB path ({url}, database {database}, dropped afterwards)\n")
        print("| step | seconds | result |")
        print("|---|---|---|")
        print(f"| import (empty catalog) | {imported:.2f} | {first.imported} imported, "
              f"{len(first.rejected)} rejected |")
        print(f"| import again (nothing changed) | {reimported:.2f} | {second.unchanged} unchanged, "
              f"{second.updated} updated |")
        print(f"| first matrix() (full load) | {loaded:.3f} | {len(matrix)} tracks |")
        print(f"| cached matrix() (version check), p50 | {statistics.median(cached_times):.4f} | same snapshot |")
    finally:
        await store.client.drop_database(database)
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--csv", type=Path, required=True, help="a Spotify-features CSV (read only)")
    parser.add_argument("--mongo-url", help="also time the MongoDB import and load path")
    parser.add_argument("--moods", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)

    parsed, parse_s = timed(lambda: parse_catalog_csv(args.csv))
    matrix, build_s = timed(lambda: FeatureMatrix.from_tracks(parsed.tracks))
    print(f"# Recommendations from {args.csv.name}\n")
    print("| step | result |")
    print("|---|---|")
    print(f"| parse CSV | {parse_s * 1000:.0f} ms: {parsed.rows} rows, {len(parsed.tracks)} tracks, "
          f"{len(parsed.rejected)} rejected |")
    print(f"| build FeatureMatrix | {build_s * 1000:.1f} ms |")
    print(f"| artists | {len(set(matrix.artist_codes.tolist()))} |")
    no_beat = int(np.isnan(matrix.normalised[:, FEATURES.index('tempo')]).sum())
    print(f"| tracks with tempo 0 (no beat) | {no_beat} |")
    for row in parsed.rejected[:5]:
        print(f"\nrejected line {row.line}: {row.reason}")

    bench_latency(matrix, args.moods, rng)
    bench_quadrants(matrix, rng)
    bench_journeys(matrix, rng)
    if args.mongo_url:
        asyncio.run(bench_mongo(args.csv, args.mongo_url))


if __name__ == "__main__":
    main()
