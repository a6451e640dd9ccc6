"""Monophonic training melodies from music21's bundled corpus (no download).

Sources: the folk-tune collections shipped as ABC (Essen, O'Neill's 1850, Ryan's Mammoth, Aird's
Airs) and the soprano line of the Bach chorales. Every tune is key-analysed (Krumhansl–Schmuckler via
music21, the same key-finding the benchmark uses), transposed to tonic C of its mode and folded into
Magenta's pitch range, quantized to 16ths from its first full bar, and assigned to train / validation /
test by a hash of its identity, so one tune never lands in two splits. Only duple metres (bars of 2, 4
or 8 quarters) are kept: generated melodies are 4/4 and the lookback encoding looks back whole bars.

Parsing the corpus takes a few CPU-minutes; the result is cached under ~/.cache/museaika.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import logging
import os
import pickle  # nosec B403  # our own cache file, written by this module
import warnings
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from music.events import NO_EVENT, STEPS_PER_BAR, STEPS_PER_QUARTER, notes_to_events, transpose_into_range

logger = logging.getLogger(__name__)

FOLK_COLLECTIONS = ("essenFolksong", "oneills1850", "ryansMammoth", "airdsAirs")
CHORALE_COLLECTION = "bach"
SPLITS = ("train", "validation", "test")
EXTRACTOR_VERSION = "2"
MIN_BARS = 4
MIN_NOTES = 12
MAX_OFF_GRID_SHARE = 0.1  # tunes with more notes than this between 16ths (triplets, grace runs) are dropped
CENTRE_PITCH = 66  # tunes are moved by octaves so their mean pitch sits near the middle of the range


@dataclass(frozen=True)
class Tune:
    tune_id: str
    collection: str
    mode: str  # "major" | "minor", from key analysis
    key_correlation: float
    events: np.ndarray  # int16, transposed to tonic C, starting on a bar line
    split: str

    @property
    def bars(self) -> float:
        return len(self.events) / STEPS_PER_BAR

    @property
    def notes_per_bar(self) -> float:
        return float(np.count_nonzero(self.events >= 0)) / self.bars


def split_of(tune_id: str) -> str:
    bucket = int(hashlib.sha256(tune_id.encode()).hexdigest()[:8], 16) % 10
    return "test" if bucket == 0 else "validation" if bucket == 1 else "train"


def corpus_files() -> list[Path]:
    from music21 import corpus

    files = []
    for path in corpus.getCorePaths():
        parts = path.parts
        folk = any(name in parts for name in FOLK_COLLECTIONS) and path.suffix == ".abc"
        chorale = CHORALE_COLLECTION in parts and path.suffix in (".mxl", ".xml", ".krn") and "bwv" in path.name
        if folk or chorale:
            files.append(path)
    return sorted(files)


def _collection_of(path: Path) -> str:
    for name in (*FOLK_COLLECTIONS, CHORALE_COLLECTION):
        if name in path.parts:
            return name
    return path.parent.name


def _scores_in(path: Path) -> Iterator[tuple[str, object]]:
    from music21 import converter, stream

    parsed = converter.parse(path, forceSource=True)
    if isinstance(parsed, stream.Opus):
        for index, score in enumerate(parsed.scores):
            number = score.metadata.number if score.metadata is not None and score.metadata.number else index
            yield f"{path.stem}#{number}", score
    else:
        yield path.stem, parsed


def _melody_part(score: object, collection: str) -> object:
    from music21 import stream

    assert isinstance(score, stream.Score | stream.Part | stream.Stream)
    parts = list(score.parts) if isinstance(score, stream.Score) else []
    if collection == CHORALE_COLLECTION:
        return parts[0] if parts else score  # the soprano
    return parts[0] if parts else score


def tune_from_score(tune_id: str, collection: str, score: object) -> Tune | None:
    """One corpus score as a training melody, or None when it doesn't fit (metre, length, grid)."""
    from music21 import chord, meter, note, stream

    part = _melody_part(score, collection)
    assert isinstance(part, stream.Stream)
    time_signatures = list(part.recurse().getElementsByClass(meter.TimeSignature))
    if not time_signatures:
        return None
    bar_quarters = {float(ts.barDuration.quarterLength) for ts in time_signatures}
    if len(bar_quarters) != 1 or next(iter(bar_quarters)) not in (2.0, 4.0, 8.0):
        return None
    measures = list(part.getElementsByClass(stream.Measure))
    start_offset = 0.0
    if measures and measures[0].paddingLeft > 0:  # a pickup bar: start on the first full bar
        start_offset = float(measures[0].quarterLength)
    flat = part.flatten()
    raw_notes, off_grid = [], 0
    for element in flat.notes:
        if isinstance(element, chord.Chord):
            pitch = max(p.midi for p in element.pitches)
        elif isinstance(element, note.Note):
            pitch = element.pitch.midi
        else:
            continue
        if element.duration.isGrace or element.quarterLength == 0:
            continue
        onset = (float(element.offset) - start_offset) * STEPS_PER_QUARTER
        end = onset + float(element.quarterLength) * STEPS_PER_QUARTER
        if onset < 0:
            continue
        if abs(onset - round(onset)) > 1e-3:
            off_grid += 1
        start_step, end_step = round(onset), max(round(end), round(onset) + 1)
        raw_notes.append((pitch, start_step, end_step))
    if len(raw_notes) < MIN_NOTES or off_grid > MAX_OFF_GRID_SHARE * len(raw_notes):
        return None
    total_steps = max(end for _, _, end in raw_notes)
    total_steps = -(-total_steps // STEPS_PER_BAR) * STEPS_PER_BAR
    if total_steps < MIN_BARS * STEPS_PER_BAR:
        return None
    key = part.analyze("key")
    tonic_shift = -key.tonic.pitchClass % 12
    if tonic_shift > 6:
        tonic_shift -= 12
    pitches = np.array([p for p, _, _ in raw_notes])
    octave_shift = 12 * round((CENTRE_PITCH - (pitches.mean() + tonic_shift)) / 12)
    events = transpose_into_range(notes_to_events(raw_notes, total_steps), tonic_shift + octave_shift)
    full_id = f"{collection}/{tune_id}"
    return Tune(
        tune_id=full_id,
        collection=collection,
        mode=str(key.mode),
        key_correlation=float(key.correlationCoefficient),
        events=events,
        split=split_of(full_id),
    )


def tunes_in_file(path: Path) -> list[Tune]:
    warnings.filterwarnings("ignore")
    collection = _collection_of(path)
    tunes = []
    try:
        for tune_id, score in _scores_in(path):
            try:
                tune = tune_from_score(tune_id, collection, score)
            except Exception as error:  # one malformed tune must not cost the whole book
                logger.debug("skipping %s %s: %s", path.name, tune_id, error)
                continue
            if tune is not None and tune.mode in ("major", "minor"):
                tunes.append(tune)
    except Exception as error:
        logger.warning("could not parse %s: %s", path, error)
    return tunes


def cache_path() -> Path:
    import music21

    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "museaika"
    return cache / f"melody-corpus-m21-{music21.__version__}-v{EXTRACTOR_VERSION}.pkl"


def load_corpus(workers: int | None = None, refresh: bool = False) -> list[Tune]:
    """Every usable tune, from the cache when it exists."""
    path = cache_path()
    if path.exists() and not refresh:
        with path.open("rb") as handle:
            # Plain dicts, not Tune objects: a pickle names the class by module, and the module is
            # `__main__` when this file runs as a script.
            return [Tune(**record) for record in pickle.load(handle)]  # nosec B301  # our own cache file
    files = corpus_files()
    # Big books first so the pool's two workers finish together.
    files.sort(key=lambda f: f.stat().st_size, reverse=True)
    tunes = []
    with ProcessPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        for found in tqdm(pool.map(tunes_in_file, files), total=len(files), desc="parsing music21 corpus", unit="file"):
            tunes.extend(found)
    tunes.sort(key=lambda t: t.tune_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    with temporary.open("wb") as handle:
        pickle.dump([dataclasses.asdict(t) for t in tunes], handle)
    temporary.replace(path)
    return tunes


def by_split(tunes: list[Tune], split: str) -> list[Tune]:
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}")
    return [t for t in tunes if t.split == split]


def _summary(tunes: list[Tune]) -> str:
    lines = [f"{len(tunes)} tunes"]
    for split in SPLITS:
        chosen = by_split(tunes, split)
        minor = sum(t.mode == "minor" for t in chosen)
        lines.append(f"  {split}: {len(chosen)} tunes, {minor} minor, {sum(t.bars for t in chosen):.0f} bars")
    collections = sorted({t.collection for t in tunes})
    lines += [f"  {c}: {sum(t.collection == c for t in tunes)}" for c in collections]
    no_event_share = np.mean([np.mean(t.events == NO_EVENT) for t in tunes]) if tunes else 0.0
    lines.append(f"  mean no-event share {no_event_share:.2f}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--refresh", action="store_true", help="re-parse even when the cache exists")
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    print(_summary(load_corpus(args.workers, args.refresh)))


if __name__ == "__main__":
    main()
