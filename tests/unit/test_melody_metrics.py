"""MGEval-style set comparison, the Markov-chain floor and per-melody summaries."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from benchmarks.melody_metrics import (
    FEATURES,
    REST,
    MarkovChainMelodies,
    bar_repetition_rate,
    compare_sets,
    distribution_overlap,
    mean_overlap,
    melody_features,
    melody_tokens,
    overlap_scores,
    summarize_melodies,
    two_bar_repetition_rate,
)
from music.events import NO_EVENT, NOTE_OFF, STEPS_PER_BAR

C_MAJOR = (0, 2, 4, 5, 7, 9, 11)


def scale_walks(count: int, seed: int, bars: int = 4) -> list[np.ndarray]:
    """Step-wise walks on the C major scale in eighths, quarters and halves."""
    rng = np.random.default_rng(seed)
    melodies = []
    for _ in range(count):
        events = np.full(bars * STEPS_PER_BAR, NO_EVENT, dtype=np.int16)
        degree, step = int(rng.integers(7, 14)), 0
        while step < len(events):
            events[step] = 48 + 12 * (degree // 7) + C_MAJOR[degree % 7]
            degree = int(np.clip(degree + rng.choice([-1, 1]), 0, 20))
            step += int(rng.choice([2, 4, 4, 8]))
        melodies.append(events)
    return melodies


def random_melodies(count: int, seed: int, bars: int = 4) -> list[np.ndarray]:
    """Uniformly random pitches (48–83) and lengths (1–5 steps)."""
    rng = np.random.default_rng(seed)
    melodies = []
    for _ in range(count):
        events = np.full(bars * STEPS_PER_BAR, NO_EVENT, dtype=np.int16)
        step = 0
        while step < len(events):
            events[step] = int(rng.integers(48, 84))
            step += int(rng.integers(1, 6))
        melodies.append(events)
    return melodies


@pytest.fixture(scope="module")
def scales() -> list[np.ndarray]:
    return scale_walks(30, seed=1)


def test_features_of_a_known_melody() -> None:
    # bar 1: C4 quarter, E4 quarter, rest, G4 eighth + eighth rest; bar 2 = bar 1; bar 3: C5 whole note
    bar = [60, -2, -2, -2, 64, -2, -2, -2, NOTE_OFF, -2, -2, -2, 67, -2, NOTE_OFF, -2]
    events = np.array(bar + bar + [72] + [-2] * 15, dtype=np.int16)
    features = melody_features(events)
    assert list(features) == list(FEATURES)
    assert features["pitch_count"] == [4] and features["note_count"] == [7]
    assert features["pitch_range"] == [12]
    assert features["average_pitch_interval"] == pytest.approx([(4 + 3 + 7 + 4 + 3 + 5) / 6])
    assert features["average_inter_onset_interval"] == pytest.approx([32 / 6])
    np.testing.assert_allclose(features["pitch_class_histogram"][[0, 4, 7]], [3 / 7, 2 / 7, 2 / 7])
    transitions = features["pitch_class_transition_matrix"].reshape(12, 12)
    assert transitions[0, 4] == pytest.approx(2 / 6) and transitions[7, 0] == pytest.approx(2 / 6)
    lengths = features["note_length_histogram"]
    assert lengths[3] == pytest.approx(4 / 7) and lengths[1] == pytest.approx(2 / 7) and lengths[15] == 1 / 7
    assert features["bar_repetition_rate"] == [1 / 3]


def test_features_of_an_empty_melody() -> None:
    features = melody_features(np.full(32, NO_EVENT, dtype=np.int16))
    assert all(not value.any() for name, value in features.items() if name != "bar_repetition_rate")
    assert features["bar_repetition_rate"] == [0.5]  # the second silent bar repeats the first


def test_bar_repetition_rate_ignores_partial_bars() -> None:
    bar = np.arange(60, 76, dtype=np.int16)
    assert bar_repetition_rate(np.concatenate([bar, bar, bar[::-1], bar, bar[:8]])) == pytest.approx(2 / 4)
    assert bar_repetition_rate(bar[:8]) == 0.0


def test_identical_sets_overlap_highly(scales: list[np.ndarray]) -> None:
    scores = overlap_scores(scales, scales)
    assert set(scores) == set(FEATURES)
    assert sum(score > 0.8 for score in scores.values()) >= len(FEATURES) - 1, scores
    assert mean_overlap(scores) > 0.9


def test_sets_from_the_same_generator_overlap_highly(scales: list[np.ndarray]) -> None:
    assert mean_overlap(overlap_scores(scale_walks(30, seed=2), scales)) > 0.75


def test_random_melodies_overlap_less(scales: list[np.ndarray]) -> None:
    same = overlap_scores(scale_walks(30, seed=2), scales)
    different = compare_sets(random_melodies(30, seed=3), scales)
    assert mean_overlap({name: result.overlap for name, result in different.items()}) < mean_overlap(same) - 0.3
    for feature in ("pitch_range", "average_pitch_interval", "pitch_count"):
        assert different[feature].overlap < 0.3, feature
        assert different[feature].kl_divergence > 1.0, feature
        assert different[feature].inter_mean > different[feature].intra_mean, feature


def test_intra_set_can_be_the_generated_one(scales: list[np.ndarray]) -> None:
    collapsed = [scales[0]] * 10  # a generator that always plays one melody
    by_reference = mean_overlap(overlap_scores(collapsed, scales))
    by_generated = mean_overlap(overlap_scores(collapsed, scales, intra_set="generated"))
    assert by_generated < by_reference < mean_overlap(overlap_scores(scale_walks(30, seed=2), scales))


def test_degenerate_sets_are_deterministic(scales: list[np.ndarray]) -> None:
    same = [scales[0]] * 5  # every distance is zero
    for result in compare_sets(same, same).values():
        assert (result.overlap, result.kl_divergence) == (1.0, 0.0)
    first, second = compare_sets(same, scales, intra_set="generated"), compare_sets(same, scales, intra_set="generated")
    assert first == second
    assert all(np.isfinite([r.overlap, r.kl_divergence]).all() for r in first.values())


def test_distribution_overlap_edge_cases() -> None:
    rng = np.random.default_rng(0)
    sample = rng.normal(5.0, 1.0, 500)
    overlap, kl = distribution_overlap(sample, sample)
    assert overlap == pytest.approx(1.0, abs=1e-6) and kl == pytest.approx(0.0, abs=1e-6)
    overlap, kl = distribution_overlap(sample, sample + 10.0)
    assert overlap < 0.01 and 10.0 < kl < np.inf
    assert distribution_overlap(np.zeros(10), np.zeros(7)) == (1.0, 0.0)
    overlap, kl = distribution_overlap(np.zeros(10), np.ones(10))
    assert overlap < 1e-6 and np.isfinite(kl)
    overlap, _ = distribution_overlap(np.zeros(100), np.r_[np.zeros(97), np.full(3, 0.25)])
    assert overlap > 0.9  # a point mass against an almost identical spike
    with pytest.raises(ValueError):
        distribution_overlap(np.zeros(0), sample)


def test_compare_sets_needs_two_melodies_inside(scales: list[np.ndarray]) -> None:
    with pytest.raises(ValueError, match="at least two"):
        compare_sets(scales, scales[:1])
    with pytest.raises(ValueError, match="at least one"):
        compare_sets([], scales)
    with pytest.raises(ValueError):
        mean_overlap({})


def test_melody_tokens() -> None:
    events = np.array([-2, -2, 60, -2, -1, -2, -1, 62, 64, -2, -1], dtype=np.int16)
    assert melody_tokens(events) == [(REST, 2), (60, 2), (REST, 3), (62, 1), (64, 2), (REST, 1)]
    assert melody_tokens(np.full(4, NO_EVENT, dtype=np.int16)) == [(REST, 4)]


def test_markov_chain_samples(scales: list[np.ndarray]) -> None:
    training = [m.copy() for m in scales] + random_melodies(5, seed=4)
    for melody in training[:6]:  # rests after notes, so NOTE_OFF is a training event too
        melody[-3] = NOTE_OFF
    chain = MarkovChainMelodies(training)
    samples = chain.sample(20, bars=3, seed=7)
    assert len(samples) == 20
    seen_events = set(np.concatenate(training).tolist())
    seen_pairs = {pair for m in training for pair in itertools.pairwise(melody_tokens(m))}
    starts = {melody_tokens(m)[0] for m in training}
    for sample in samples:
        assert sample.shape == (3 * STEPS_PER_BAR,) and sample.dtype == np.int16
        assert set(sample.tolist()) <= seen_events
        tokens = melody_tokens(sample)
        assert tokens[0] in starts or len(tokens) == 1
        for pair in itertools.pairwise(tokens[:-1]):  # the last token may be cut short
            assert pair in seen_pairs or pair[1] in starts  # a seen transition, or a restart after an end
    again = chain.sample(20, bars=3, seed=np.random.default_rng(7))
    assert all(np.array_equal(a, b) for a, b in zip(samples, again, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(samples, chain.sample(20, bars=3, seed=8), strict=True))


def test_markov_chain_is_a_floor_between_copies_and_noise(scales: list[np.ndarray]) -> None:
    samples = MarkovChainMelodies(scales).sample(30, bars=4, seed=0)
    markov = mean_overlap(overlap_scores(samples, scales))
    noise = mean_overlap(overlap_scores(random_melodies(30, seed=3), scales))
    assert noise < markov


def test_markov_chain_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        MarkovChainMelodies([])
    with pytest.raises(ValueError):
        MarkovChainMelodies(scale_walks(2, seed=0)).sample(1, bars=0)


def test_summarize_melodies() -> None:
    bar = np.array([60, -2, -2, -2, 64, -2, 67, -2, 72, -2, 67, -2, 64, -2, 60, NOTE_OFF], dtype=np.int16)
    in_a_minor = np.array([69, -2, -2, -2, 72, -2, 76, -2, 68, -2, -2, -2, 69, -2, -2, -2], dtype=np.int16)
    silent = np.full(16, NO_EVENT, dtype=np.int16)
    major, minor, empty = summarize_melodies([np.concatenate([bar, bar, bar[::-1]]), in_a_minor, silent])
    assert major.notes_per_bar == pytest.approx(7.0)
    assert (major.pitch_range, major.tonic, major.mode, major.in_key_ratio) == (12, 0, "major", 1.0)
    assert major.repeated_bar_rate == pytest.approx(1 / 3)
    assert (minor.tonic, minor.mode, minor.in_key_ratio) == (9, "minor", 1.0)
    assert (empty.notes_per_bar, empty.pitch_range, empty.mode, empty.tonic, empty.in_key_ratio) == (
        0.0,
        0,
        None,
        None,
        0.0,
    )


def test_two_bar_repetition_counts_windows_that_come_back() -> None:
    a, b = np.full(STEPS_PER_BAR, NO_EVENT, dtype=np.int16), np.full(STEPS_PER_BAR, NO_EVENT, dtype=np.int16)
    a[0], b[0] = 60, 67
    tune = np.concatenate([a, b, a, b, a])  # windows ab, ba, ab, ba: the last two come back
    assert two_bar_repetition_rate(tune) == 0.5
    assert two_bar_repetition_rate(np.concatenate([a, b, b])) == 0.0  # under 4 bars
    c = a.copy()
    c[0] = 62
    assert two_bar_repetition_rate(np.concatenate([a, b, c, a, c])) == 0.0  # only single bars recur
