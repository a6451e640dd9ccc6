"""The melody handler, loaded from a real archive of the committed model (and of an imported Magenta bundle)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from archives.loader import LoadedArchive, load_archive
from export_scripts.build_melody_archive import DEFAULT_MODEL_DIR, build
from export_scripts.convert_magenta_bundle import convert_bundle
from music.conditioning import DensityScale, condition_vector
from music.encoding import encoding_by_name
from music.events import MAX_PITCH, MIN_PITCH, NO_EVENT, STEPS_PER_BAR
from music.key_finding import find_key
from networks.melody_rnn import load_melody_rnn, save_melody_rnn
from networks.melody_sampler import SamplingRequest, sample_melodies

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "magenta"


def _load(mar: Path, work: Path) -> LoadedArchive:
    loaded = load_archive(mar, work)
    loaded.handle(None, loaded.context)
    return loaded


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> LoadedArchive:
    root = tmp_path_factory.mktemp("melody")
    return _load(build(DEFAULT_MODEL_DIR, "melody", "0.0.1", root / "store", staging=root / "staging"), root / "work")


def request(**fields: object) -> bytes:
    return json.dumps({"mode": "major", "density": 0.5, "bars": 8, "temperature": 1.0, "seed": 1, **fields}).encode()


def test_a_seed_gives_the_same_melody_whatever_shares_the_batch(archive: LoadedArchive) -> None:
    (alone,), _ = archive.run([request(seed=42)])
    batch, statuses = archive.run([request(seed=7, mode="minor"), request(seed=42), request(seed=9, bars=3)])
    assert statuses == {}
    assert batch[1]["events"] == alone["events"]
    assert batch[0]["events"] != alone["events"]
    assert len(alone["events"]) == 8 * STEPS_PER_BAR and alone["bars"] == 8
    assert len(batch[2]["events"]) == 3 * STEPS_PER_BAR
    assert alone["events"][0] == 60  # the primer: the tonic
    pitches = [e for e in alone["events"] if e >= 0]
    assert pitches and all(MIN_PITCH <= p < MAX_PITCH for p in pitches)


def test_delivered_melodies_honour_the_requested_mode(archive: LoadedArchive) -> None:
    payloads = [request(mode=mode, seed=seed) for mode in ("major", "minor") for seed in range(6)]
    answers, statuses = archive.run(payloads)
    assert statuses == {}
    passed = [a for a in answers if a["key_check"]["passed"]]
    assert len(passed) >= 10  # the key check resamples until a candidate fits (or gives up after max_rounds)
    for answer in passed:
        key = find_key(np.array(answer["events"]))
        assert key is not None and (key.tonic, key.mode) == (0, answer["requested"]["mode"])
        assert answer["key"] == {"tonic": 0, "mode": answer["requested"]["mode"],
                                 "correlation": round(key.correlation, 4)}
        # Both finders of the check hear it so: folk-melody weights (Aarden–Essen) and art-music chords
        # (Bellman–Budge), which tell a minor tune from one leaning on its relative major.
        second = find_key(np.array(answer["events"]), "bellman_budge")
        assert second is not None and (second.tonic, second.mode) == (0, answer["requested"]["mode"])


def test_a_minor_tune_leaning_on_its_relative_major_fails_the_check(archive: LoadedArchive) -> None:
    """Heard in C minor by Aarden–Essen and in E♭ major by Bellman–Budge: one finder alone would deliver it."""
    phrase = [60, 63, 70, 67, 63, 70, 62, 63, 62, 63]  # E♭ held longest, and last
    lengths = [2, 4, 2, 3, 4, 1, 3, 4, 2, 4]
    melody = np.concatenate([[pitch] + [NO_EVENT] * (length - 1) for pitch, length in
                             zip(phrase, lengths, strict=True)]).astype(np.int16)
    heard = {name: find_key(melody, name) for name in ("aarden_essen", "bellman_budge")}
    assert {name: (k.tonic, k.mode) for name, k in heard.items() if k} == {
        "aarden_essen": (0, "minor"), "bellman_budge": (3, "major")}
    handler = archive.module._service  # the handler the archive's entry point serves
    assert handler._key_heard_as_asked(melody, "minor") is None
    handler.key_finders = ["aarden_essen"]
    try:
        assert handler._key_heard_as_asked(melody, "minor") == heard["aarden_essen"]
    finally:
        handler.key_finders = ["aarden_essen", "bellman_budge"]


def test_conditioning_moves_mode_and_density_before_any_key_check() -> None:
    """The network itself listens to the cues: raw samples, no rejection."""
    model, metadata = load_melody_rnn(DEFAULT_MODEL_DIR)
    scale = DensityScale.from_dict(metadata["conditioning"]["density"])
    encoding = encoding_by_name(model.config.encoding)

    def samples(mode: str, quantile: float) -> list[np.ndarray]:
        condition = condition_vector(mode, scale.notes_per_bar_at(quantile), scale)
        return sample_melodies(model, encoding, [
            SamplingRequest(np.array([60], dtype=np.int16), 4 * STEPS_PER_BAR, 1.0, np.random.default_rng(i),
                            condition) for i in range(24)])

    def minor_share(melodies: list[np.ndarray]) -> float:
        return float(np.mean([(k := find_key(m)) is not None and k.mode == "minor" for m in melodies]))

    def density(melodies: list[np.ndarray]) -> float:
        return float(np.mean([np.count_nonzero(m >= 0) / 4 for m in melodies]))

    assert minor_share(samples("minor", 0.5)) > minor_share(samples("major", 0.5)) + 0.2
    assert density(samples("major", 0.95)) > density(samples("major", 0.05)) * 1.3


@pytest.mark.parametrize(("fields", "reason"), [
    ({"bars": 0}, "bars must be an integer from 1 to 64"),
    ({"bars": 65}, "bars must be an integer from 1 to 64"),
    ({"temperature": 0}, "temperature must be > 0"),
    ({"mode": "dorian"}, "mode must be 'major' or 'minor'"),
    ({"density": 1.5}, "density must be a number in [0, 1]"),
    ({"seed": -1}, "seed must be a non-negative"),
])
def test_bad_requests_get_their_own_422(archive: LoadedArchive, fields: dict[str, object], reason: str) -> None:
    answers, statuses = archive.run([request(**fields), request(seed=3)])
    assert statuses[0][0] == 422 and reason in statuses[0][1]
    assert 1 not in statuses and answers[1]["events"]


def test_not_json_is_a_400(archive: LoadedArchive) -> None:
    _, statuses = archive.run([b"\xff not json"])
    assert statuses[0][0] == 400


def test_an_imported_magenta_bundle_is_served_unconditioned(tmp_path: Path) -> None:
    model_dir = tmp_path / "imported"
    model, metadata = convert_bundle((FIXTURES / "lookback_rnn.mag").read_bytes())
    save_melody_rnn(model, model_dir, metadata)
    imported = _load(build(model_dir, "magenta", "0.0.1", tmp_path / "store", staging=tmp_path / "staging"),
                     tmp_path / "work")
    (answer,), statuses = imported.run([request(mode="minor", bars=2)])
    assert statuses == {}
    assert len(answer["events"]) == 2 * STEPS_PER_BAR and answer["target_notes_per_bar"] is None
    assert set(answer["events"]) <= {NO_EVENT, -1, *range(MIN_PITCH, MAX_PITCH)}


def test_busy_melodies_keep_fewer_planned_repeats(archive: LoadedArchive) -> None:
    """The model loops on its own in busy tunes, so fewer of a form's repeats are kept as density rises."""
    handler = archive.module._service
    assert handler.settings["repeat_share"] == [1.0, 0.65]  # from the archive's config
    assert handler._repeat_share(0.0) == 1.0 and handler._repeat_share(1.0) == pytest.approx(0.65)
    assert handler._repeat_share(0.2) > handler._repeat_share(0.8)
    handler.settings["repeat_share"] = 0.5
    try:
        assert handler._repeat_share(0.9) == 0.5
    finally:
        handler.settings["repeat_share"] = [1.0, 0.65]
