"""MGEval-style comparison of melody sets, a Markov-chain floor, and per-melody summaries.

Yang & Lerch, "On the evaluation of generative models in music" (Neural Computing and Applications,
2018; reference code github.com/RichardYang40148/mgeval), for melodies in our event format
(`music.events`: one int per 16th-note step). For every feature of `melody_features`:

1. intra-set distances: Euclidean distances between each reference melody and every *other* reference
   melody (leave-one-out, so n·(n-1) values, as mgeval's demo computes them);
2. inter-set distances: each generated melody against every reference melody (n·m values);
3. a Gaussian KDE (`scipy.stats.gaussian_kde`, Scott's bandwidth) of each distance distribution, and
   their overlap area (∫ min(p, q)) and KL divergence KL(intra ‖ inter) on one common grid.

A generated set that looks like it came from the reference distribution sits as far from the
references as they sit from each other: overlap near 1, KL near 0. The intra-set side is the
reference set by default (`intra_set="generated"` takes the generated one, mgeval's other reading): a
collapsed generator then still scores low, and a noisy one cannot hide behind its own spread.

Departures from mgeval, all deterministic:
- The grid spans the data ± 4 bandwidths, so each PDF integrates to ~1 and identical sets overlap ~1
  (mgeval integrates over the data's [min, max] only and reads KL off two different grids).
- No bandwidth is narrower than `MIN_BANDWIDTH_FRACTION` of the pooled (intra ∪ inter) Scott bandwidth.
- A distribution whose distances are all equal (gaussian_kde's covariance would be singular) becomes a
  Gaussian around that value with the *other* distribution's bandwidth, or the minimum one when both
  are constant; when both are the same constant the overlap is 1 and the KL 0.
- Densities get a floor of 1e-12 × their peak before the KL, so it is always finite.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats
from scipy.spatial.distance import cdist

from music.events import NO_EVENT, NOTE_OFF, STEPS_PER_BAR, melody_notes
from music.key_finding import find_key, in_key_ratio

MAX_NOTE_LENGTH = STEPS_PER_BAR  # note-length histogram bins: 1 … 16 steps, longer notes count as 16
FEATURES = (
    "pitch_count",
    "pitch_class_histogram",
    "pitch_class_transition_matrix",
    "pitch_range",
    "average_pitch_interval",
    "note_count",
    "average_inter_onset_interval",
    "note_length_histogram",
    "bar_repetition_rate",
)
MIN_BANDWIDTH_FRACTION = 0.1
GRID_TAIL_BANDWIDTHS = 4.0
MAX_GRID_POINTS = 4096  # grid spacing: half the narrower bandwidth (trapezoids on Gaussians converge fast)
_DENSITY_FLOOR = 1e-12
REST = -1  # the pitch of a rest token in the Markov chain


# -- features -----------------------------------------------------------------------------------------------


def bar_repetition_rate(events: np.ndarray) -> float:
    """Share of the melody's whole 16-step bars whose events equal those of an earlier bar; 0 without bars."""
    bars = len(events) // STEPS_PER_BAR
    if bars == 0:
        return 0.0
    seen: set[bytes] = set()
    repeated = 0
    for bar in range(bars):
        key = np.asarray(events[bar * STEPS_PER_BAR : (bar + 1) * STEPS_PER_BAR], dtype=np.int16).tobytes()
        repeated += key in seen
        seen.add(key)
    return repeated / bars


def two_bar_repetition_rate(events: np.ndarray) -> float:
    """Share of the bar-aligned 2-bar windows (one starting at every bar) whose events equal an earlier
    window's: how often a 2-bar pattern comes back, as a phrase does in a song; 0 under 4 bars."""
    windows = len(events) // STEPS_PER_BAR - 1
    if windows < 3:
        return 0.0
    seen: set[bytes] = set()
    repeated = 0
    for bar in range(windows):
        key = np.asarray(events[bar * STEPS_PER_BAR : (bar + 2) * STEPS_PER_BAR], dtype=np.int16).tobytes()
        repeated += key in seen
        seen.add(key)
    return repeated / windows


def melody_features(events: np.ndarray) -> dict[str, np.ndarray]:
    """MGEval's features of one melody, each a float64 vector (scalars have length 1), keyed as `FEATURES`.

    pitch_count: distinct pitches; pitch_class_histogram: notes per pitch class / notes (12);
    pitch_class_transition_matrix: consecutive-note pitch-class pairs / pairs (12 × 12, flattened);
    pitch_range: highest − lowest pitch; average_pitch_interval: mean |semitones| between consecutive
    notes; note_count; average_inter_onset_interval: mean steps between consecutive onsets;
    note_length_histogram: note lengths in steps (1 … 16, longer counted as 16) / notes;
    bar_repetition_rate: see `bar_repetition_rate`. Empty histograms (no notes) are all zeros.
    """
    notes = melody_notes(np.asarray(events))
    pitches = np.array([n.pitch for n in notes], dtype=np.int64)
    onsets = np.array([n.start_step for n in notes], dtype=np.int64)
    lengths = np.array([n.end_step - n.start_step for n in notes], dtype=np.int64)
    classes = pitches % 12
    pitch_class_histogram = np.bincount(classes, minlength=12).astype(np.float64)
    transitions = np.zeros((12, 12))
    np.add.at(transitions, (classes[:-1], classes[1:]), 1.0)
    length_histogram = np.bincount(np.clip(lengths, 1, MAX_NOTE_LENGTH) - 1, minlength=MAX_NOTE_LENGTH)
    scalars = {
        "pitch_count": len(np.unique(pitches)),
        "pitch_range": int(pitches.max() - pitches.min()) if len(pitches) else 0,
        "average_pitch_interval": float(np.abs(np.diff(pitches)).mean()) if len(pitches) > 1 else 0.0,
        "note_count": len(notes),
        "average_inter_onset_interval": float(np.diff(onsets).mean()) if len(onsets) > 1 else 0.0,
        "bar_repetition_rate": bar_repetition_rate(events),
    }
    features = {name: np.array([value], dtype=np.float64) for name, value in scalars.items()}
    features["pitch_class_histogram"] = _normalized(pitch_class_histogram)
    features["pitch_class_transition_matrix"] = _normalized(transitions.ravel())
    features["note_length_histogram"] = _normalized(length_histogram.astype(np.float64))
    return {name: features[name] for name in FEATURES}


def _normalized(histogram: np.ndarray) -> np.ndarray:
    total = histogram.sum()
    return histogram / total if total > 0 else histogram


def feature_matrix(melodies: Sequence[np.ndarray], feature: str) -> np.ndarray:
    """[melodies, dimensions] values of one feature."""
    return np.stack([melody_features(m)[feature] for m in melodies])


# -- MGEval's relative measures -----------------------------------------------------------------------------


@dataclass(frozen=True)
class FeatureComparison:
    overlap: float  # area shared by the intra- and inter-set distance PDFs, 0 … 1
    kl_divergence: float  # KL(intra ‖ inter) in nats, ≥ 0
    intra_mean: float  # mean intra-set distance
    inter_mean: float  # mean inter-set distance


def _is_constant(values: np.ndarray) -> bool:
    return bool(np.ptp(values) <= 1e-9 * max(1.0, float(np.abs(values).max())))


def _scott_bandwidth(values: np.ndarray) -> float:
    return float(len(values) ** (-1 / 5) * np.std(values, ddof=1)) if len(values) > 1 else 0.0


def _density(values: np.ndarray, bandwidth: float, grid: np.ndarray) -> np.ndarray:
    """KDE of `values` on `grid` with the given kernel standard deviation."""
    if _is_constant(values):
        return np.asarray(stats.norm.pdf(grid, loc=float(values[0]), scale=bandwidth))
    kde = stats.gaussian_kde(values, bw_method=bandwidth / float(np.std(values, ddof=1)))
    return np.asarray(kde(grid))


def distribution_overlap(intra: np.ndarray, inter: np.ndarray) -> tuple[float, float]:
    """(overlap area, KL(intra ‖ inter)) of the KDEs of two 1-D distance samples (see the module notes)."""
    intra, inter = np.asarray(intra, dtype=np.float64).ravel(), np.asarray(inter, dtype=np.float64).ravel()
    if len(intra) == 0 or len(inter) == 0:
        raise ValueError("both distance samples need at least one value")
    pooled = np.concatenate([intra, inter])
    if _is_constant(pooled):
        return 1.0, 0.0
    floor = MIN_BANDWIDTH_FRACTION * _scott_bandwidth(pooled)
    own = [None if _is_constant(v) else max(_scott_bandwidth(v), floor) for v in (intra, inter)]
    # A constant sample borrows the other's bandwidth (both constant: the floor), so two peaks at the
    # same place are not told apart by their widths alone.
    bandwidths = [b if b is not None else next((o for o in own if o is not None), floor) for b in own]
    low = float(pooled.min()) - GRID_TAIL_BANDWIDTHS * max(bandwidths)
    high = float(pooled.max()) + GRID_TAIL_BANDWIDTHS * max(bandwidths)
    points = int(np.clip(math.ceil((high - low) / (min(bandwidths) / 2)) + 1, 256, MAX_GRID_POINTS))
    grid = np.linspace(low, high, points)
    p, q = (_density(v, b, grid) for v, b in zip((intra, inter), bandwidths, strict=True))
    overlap = float(np.clip(np.trapezoid(np.minimum(p, q), grid), 0.0, 1.0))
    p = np.maximum(p, _DENSITY_FLOOR * p.max())
    q = np.maximum(q, _DENSITY_FLOOR * q.max())
    p, q = p / np.trapezoid(p, grid), q / np.trapezoid(q, grid)
    kl = float(max(0.0, np.trapezoid(p * np.log(p / q), grid)))
    return overlap, kl


def compare_sets(
    generated: Sequence[np.ndarray],
    reference: Sequence[np.ndarray],
    intra_set: Literal["reference", "generated"] = "reference",
) -> dict[str, FeatureComparison]:
    """MGEval's relative measures for every feature in `FEATURES` (see the module docstring)."""
    inside = reference if intra_set == "reference" else generated
    if len(inside) < 2:
        raise ValueError(f"the intra-set ({intra_set}) needs at least two melodies, got {len(inside)}")
    if not generated or not reference:
        raise ValueError("both sets need at least one melody")
    generated_features = [melody_features(m) for m in generated]
    reference_features = [melody_features(m) for m in reference]
    inside_features = reference_features if intra_set == "reference" else generated_features
    results: dict[str, FeatureComparison] = {}
    for feature in FEATURES:
        inside_matrix = np.stack([f[feature] for f in inside_features])
        intra_all = cdist(inside_matrix, inside_matrix)
        intra = intra_all[~np.eye(len(inside_matrix), dtype=bool)]
        inter = cdist(
            np.stack([f[feature] for f in generated_features]), np.stack([f[feature] for f in reference_features])
        ).ravel()
        overlap, kl = distribution_overlap(intra, inter)
        results[feature] = FeatureComparison(overlap, kl, float(intra.mean()), float(inter.mean()))
    return results


def overlap_scores(
    generated: Sequence[np.ndarray],
    reference: Sequence[np.ndarray],
    intra_set: Literal["reference", "generated"] = "reference",
) -> dict[str, float]:
    """Overlap area (0 … 1, higher = closer to the reference) per feature; see `compare_sets`."""
    return {name: result.overlap for name, result in compare_sets(generated, reference, intra_set).items()}


def mean_overlap(scores: Mapping[str, float]) -> float:
    """The features' mean overlap (`overlap_scores`' values), one number per generator."""
    if not scores:
        raise ValueError("no overlap scores")
    return float(np.mean(list(scores.values())))


# -- Markov-chain floor -------------------------------------------------------------------------------------

Token = tuple[int, int]  # (pitch or REST, duration in steps)


def melody_tokens(events: np.ndarray) -> list[Token]:
    """The melody as (pitch, steps) notes and (REST, steps) rests, back to back; consecutive rests merge."""
    starts: list[tuple[int, int]] = []
    for step, event in enumerate(np.asarray(events).tolist()):
        if event >= 0:
            starts.append((event, step))
        elif (event == NOTE_OFF or step == 0) and not (starts and starts[-1][0] == REST):
            starts.append((REST, step))
    ends = [start for _, start in starts[1:]] + [len(events)]
    return [(pitch, end - start) for (pitch, start), end in zip(starts, ends, strict=True)]


class MarkovChainMelodies:
    """First-order Markov chain over (pitch, duration) notes and rests, fitted on training melodies.

    Notes rather than grid events: a first-order chain over 16th-step events forgets the last pitch as
    soon as one NO_EVENT step has passed (its state is then just "NO_EVENT"), so its pitches come out
    nearly independent of each other and its note lengths geometric: a straw man. Over notes it keeps
    what a first-order model can know (which note and length tend to follow which) and knows nothing
    of bar position or repetition, which is what a melody RNN has to add to beat it.

    A melody starts with a token drawn from the training melodies' first tokens; a token never followed
    by anything in training (it only ended melodies) is followed by a fresh start. Sampling stops at the
    requested length, cutting the last token short. Every sampled event value occurs in the training
    events: pitches and NO_EVENT as they were, NOTE_OFF where a rest follows a note.
    """

    def __init__(self, melodies: Sequence[np.ndarray]) -> None:
        sequences = [melody_tokens(m) for m in melodies if len(m)]
        if not sequences:
            raise ValueError("the Markov chain needs at least one non-empty training melody")
        self.tokens: list[Token] = sorted({token for sequence in sequences for token in sequence})
        index = {token: i for i, token in enumerate(self.tokens)}
        counts = np.zeros((len(self.tokens), len(self.tokens)))
        for sequence in sequences:
            for current, following in itertools.pairwise(sequence):
                counts[index[current], index[following]] += 1
        starts = Counter(index[sequence[0]] for sequence in sequences)
        self.initial = np.zeros(len(self.tokens))
        for i, count in starts.items():
            self.initial[i] = count
        self.initial /= self.initial.sum()
        totals = counts.sum(axis=1, keepdims=True)
        self.transitions = np.where(totals > 0, counts / np.maximum(totals, 1), self.initial[None, :])

    def sample(self, count: int, bars: int, seed: int | np.random.Generator = 0) -> list[np.ndarray]:
        """`count` int16 melodies of `bars` bars; the same seed gives the same melodies."""
        if count < 0 or bars <= 0:
            raise ValueError(f"need count ≥ 0 and bars > 0, got count={count}, bars={bars}")
        rng = np.random.default_rng(seed)
        return [self._sample_one(bars * STEPS_PER_BAR, rng) for _ in range(count)]

    def _sample_one(self, total_steps: int, rng: np.random.Generator) -> np.ndarray:
        events = np.full(total_steps, NO_EVENT, dtype=np.int16)
        step, previous_pitch = 0, REST
        state = int(rng.choice(len(self.tokens), p=self.initial))
        while step < total_steps:
            pitch, duration = self.tokens[state]
            if pitch != REST:
                events[step] = pitch
            elif previous_pitch != REST:
                events[step] = NOTE_OFF
            step += duration
            previous_pitch = pitch
            state = int(rng.choice(len(self.tokens), p=self.transitions[state]))
        return events


# -- absolute per-melody summary ----------------------------------------------------------------------------


@dataclass(frozen=True)
class MelodySummary:
    notes_per_bar: float
    pitch_range: int  # semitones, 0 without notes
    in_key_ratio: float  # share of notes in the detected key's scale (music.key_finding), 0 without notes
    repeated_bar_rate: float  # `bar_repetition_rate`
    tonic: int | None  # detected key's pitch class, None without notes
    mode: str | None  # "major" / "minor", None without notes


def summarize_melodies(melodies: Sequence[np.ndarray]) -> list[MelodySummary]:
    """One `MelodySummary` per melody, for the benchmark's table."""
    summaries: list[MelodySummary] = []
    for events in melodies:
        notes = melody_notes(np.asarray(events))
        key = find_key(events)
        pitches = [n.pitch for n in notes]
        summaries.append(
            MelodySummary(
                notes_per_bar=len(notes) / (len(events) / STEPS_PER_BAR) if len(events) else 0.0,
                pitch_range=max(pitches) - min(pitches) if pitches else 0,
                in_key_ratio=in_key_ratio(events, key.tonic, key.mode) if key else 0.0,
                repeated_bar_rate=bar_repetition_rate(events),
                tonic=key.tonic if key else None,
                mode=key.mode if key else None,
            )
        )
    return summaries
