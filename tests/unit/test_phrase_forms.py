"""Phrase forms: extracted from tunes, turned into copy plans, and followed by the sampler and the handler."""

from __future__ import annotations

import json

import numpy as np
import pytest

from benchmarks.melody_metrics import two_bar_repetition_rate
from export_scripts.build_melody_archive import DEFAULT_MODEL_DIR
from music.encoding import encoding_by_name
from music.events import NO_EVENT, STEPS_PER_BAR
from music.phrase_forms import (
    FORM_BARS,
    FORMS_FILE,
    PhraseForms,
    collect_forms,
    copy_plan,
    form_of,
    unplanned_repeats,
)
from networks.melody_rnn import load_melody_rnn
from networks.melody_sampler import SamplingRequest, sample_melodies


def bar(pitch: int) -> np.ndarray:
    cell = np.full(STEPS_PER_BAR, NO_EVENT, dtype=np.int16)
    cell[0], cell[8] = pitch, pitch + 2
    return cell


def test_a_form_names_how_far_back_each_bar_repeats() -> None:
    a, b, c = bar(60), bar(64), bar(67)
    tune = np.concatenate([a, b, a, c] * 4)
    form = form_of(tune)
    assert form[:4] == (0, 0, 2, 0) and form[4:8] == (2, 4, 2, 4) and len(form) == FORM_BARS  # the nearest repeat
    forms = collect_forms([tune, tune, np.concatenate([a] * 16), tune[:STEPS_PER_BAR]])  # the last: too short
    assert forms.weights == (2, 1) and forms.forms[0] == form
    assert forms.densities == ((2.0, 2.0), (2.0,))  # two notes in every bar of every tune
    assert PhraseForms.from_dict(json.loads(json.dumps(forms.to_dict()))) == forms
    older = {"forms": [list(form)], "weights": [3]}  # a file written before densities were recorded
    assert PhraseForms.from_dict(older).draw(np.random.default_rng(0), 7.0) == form


def test_a_busy_melody_draws_the_form_of_a_busy_tune() -> None:
    """Reels repeat whole bars less often than slow airs: the form comes from the tunes nearest the density."""
    busy, slow = tuple([0] * FORM_BARS), tuple([0, 1] * (FORM_BARS // 2))
    forms = PhraseForms((slow, busy), (30, 30), (tuple(np.linspace(2, 4, 30)), tuple(np.linspace(8, 12, 30))))
    rng = np.random.default_rng(1)
    assert {forms.draw(rng, 10.0) for _ in range(50)} == {busy}
    assert {forms.draw(rng, 3.0) for _ in range(50)} == {slow}
    assert {forms.draw(rng) for _ in range(200)} == {busy, slow}  # no density: as often as the tunes have them
    with pytest.raises(ValueError, match="one value per tune"):
        PhraseForms.from_dict({**forms.to_dict(), "densities": [[2.0], [9.0]]})


def test_unplanned_repeats_count_only_the_loops_no_form_asked_for() -> None:
    a, b = bar(60), bar(64)
    melody = np.concatenate([a, b, a, b])
    assert unplanned_repeats(melody, None) == 2
    assert unplanned_repeats(melody, copy_plan((0, 0, 2) + (0,) * (FORM_BARS - 3), 4)) == 1  # bar 2 was planned


def test_a_form_cannot_point_forward() -> None:
    with pytest.raises(ValueError, match="earlier bar"):
        PhraseForms.from_dict({"forms": [[1] + [0] * (FORM_BARS - 1)], "weights": [1]})


def test_a_copy_plan_copies_whole_bars_and_tiles_the_form_past_16_bars() -> None:
    form = (0, 1, 0, 0, 4, 4, 0, 0, 8, 8, 8, 8, 0, 0, 0, 0)
    plan = copy_plan(form, 20)
    assert (plan[: STEPS_PER_BAR] == -1).all() and plan[STEPS_PER_BAR] == 0  # bar 1 repeats bar 0
    assert plan[4 * STEPS_PER_BAR] == 0 and plan[6 * STEPS_PER_BAR - 1] == 2 * STEPS_PER_BAR - 1
    assert (plan[16 * STEPS_PER_BAR : 17 * STEPS_PER_BAR] == -1).all()  # bar 16 is the form's bar 0: new
    assert plan[17 * STEPS_PER_BAR] == 16 * STEPS_PER_BAR  # bar 17 is the form's bar 1: repeats bar 16


def test_the_sampler_follows_the_plan_and_stays_deterministic() -> None:
    model, _ = load_melody_rnn(DEFAULT_MODEL_DIR)
    encoding = encoding_by_name(model.config.encoding)
    form = (0, 0, 2, 2, 4, 4, 4, 4, 8, 8, 8, 8, 8, 8, 8, 8)
    condition = np.array([1.0, 0.0], dtype=np.float32)

    def melody(seed: int) -> np.ndarray:
        request = SamplingRequest(np.array([60], dtype=np.int16), 16 * STEPS_PER_BAR, 0.9,
                                  np.random.default_rng(seed), condition, copy_plan(form, 16))
        return sample_melodies(model, encoding, [request])[0]

    first = melody(3)
    assert (melody(3) == first).all() and not (melody(4) == first).all()
    bars = first.reshape(16, STEPS_PER_BAR)
    assert (bars[2] == bars[0]).all() and (bars[4:8] == bars[0:4]).all() and (bars[8:] == bars[0:8]).all()
    assert two_bar_repetition_rate(first) > 0.5


def test_the_committed_model_ships_its_forms() -> None:
    forms = PhraseForms.from_dict(json.loads((DEFAULT_MODEL_DIR / FORMS_FILE).read_text()))
    assert sum(forms.weights) > 1000 and any(4 in form for form in forms.forms[:5])
    assert [len(d) for d in forms.densities] == list(forms.weights)
