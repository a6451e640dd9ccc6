"""The catalog without MongoDB: CSV parsing in both layouts (missing features imported and flagged, broken
rows reported by line), the committed track-mood model, ranking with explanations and feedback, journeys."""

from __future__ import annotations

import io
import json
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from orchestrator.catalog.csv_import import CatalogCsvError, MissingColumnsError, parse_catalog_csv
from orchestrator.catalog.features import FEATURES
from orchestrator.catalog.journey import MAX_STEPS, MIN_STEPS, journey, max_step_change
from orchestrator.catalog.ranking import MoodPoint, rank, scores
from orchestrator.catalog.store import CatalogTrack, FeatureMatrix, parse_track_id
from orchestrator.catalog.taste import Feedback
from orchestrator.catalog.track_moods import DEFAULT_MODEL, TrackMoodModel, TrackMoodModelError
from orchestrator.moods.vocabulary import lookup
from tests.support.synthetic_catalog import HEADER, TRACKS, mood_of, synthetic_id, synthetic_rows, to_csv

LABELLED_LAYOUT = ("name,album,artist,id,release_date,popularity,length,danceability,acousticness,energy,"
                   "instrumentalness,liveness,valence,loudness,speechiness,tempo,key,time_signature,mood")


@pytest.fixture(scope="module")
def model() -> TrackMoodModel:
    return TrackMoodModel.load(DEFAULT_MODEL)


@pytest.fixture(scope="module")
def matrix(model: TrackMoodModel) -> FeatureMatrix:
    parsed = parse_catalog_csv(io.StringIO(to_csv(synthetic_rows())))
    assert not parsed.rejected
    return FeatureMatrix.from_tracks(parsed.tracks, model)


def word(name: str) -> MoodPoint:
    entry = lookup(name)
    return MoodPoint(entry.valence, entry.arousal, entry.word)


# --- CSV import --------------------------------------------------------------------------------------------


def test_parse_accepts_both_id_forms_any_column_order_and_no_index_column() -> None:
    rows = synthetic_rows()
    columns = list(reversed(HEADER.split(",")[1:]))  # no leading index column, reversed order
    parsed = parse_catalog_csv(io.StringIO(to_csv(rows, columns)))
    assert parsed.rejected == []
    assert parsed.rows == len(rows) == len(parsed.tracks)
    assert [t.track_id for t in parsed.tracks] == [synthetic_id(i) for i in range(len(rows))]
    first = parsed.tracks[1]
    assert (first.artist, first.name, first.popularity, first.key, first.time_signature) == (
        "Artist 1", "Song 1", 41, 1, 4)
    assert parse_track_id(f"spotify:track:{synthetic_id(3)}") == synthetic_id(3)


def test_the_labelled_layout_is_read_and_its_missing_mode_flagged() -> None:
    """`id`/`name`/`length` are the 14k file's `track_id`/`track`/`duration_ms`; that file has no `mode`,
    and one row has an empty instrumentalness: all imported, each unknown counted."""
    lines = [LABELLED_LAYOUT,
             "Awaken,Awaken,William Duhamel,00ZtJgQax06A96l8sMcmlB,2020-01-02,55,129936,0.346,0.929,0.0943,0.918,"
             "0.102,0.109,-13.632,0.0362,127.006,2,3,Calm",
             "Dancing On My Own,Dancing On My Own,Calum Scott,02WacdrRpm4zlP8H7X6bnQ,2016-06-03,9,260004,0.608,0.851,"
             "0.174,,0.0855,0.193,-8.796,0.0332,112.175,1,4,Sad"]
    parsed = parse_catalog_csv(io.StringIO("\n".join(lines) + "\n"))
    assert parsed.rejected == [] and len(parsed.tracks) == 2
    awaken, dancing = parsed.tracks
    assert (awaken.track_id, awaken.name, awaken.duration_ms, awaken.mode) == (
        "00ZtJgQax06A96l8sMcmlB", "Awaken", 129936, None)
    assert awaken.unknown == ["mode"] and dancing.unknown == ["instrumentalness", "mode"]
    assert parsed.absent == ("mode",)
    assert parsed.unknown() == {"instrumentalness": 1, "mode": 2}


def test_a_file_needs_its_identity_columns_and_one_audio_feature() -> None:
    columns = [c for c in HEADER.split(",") if c not in ("artist", "track_id")]
    with pytest.raises(MissingColumnsError) as error:
        parse_catalog_csv(io.StringIO(to_csv(synthetic_rows()[:2], columns)))
    assert error.value.missing == ("artist", "track_id")
    only_ids = ["artist", "track", "track_id", "popularity"]
    with pytest.raises(MissingColumnsError, match="at least one audio feature"):
        parse_catalog_csv(io.StringIO(to_csv(synthetic_rows()[:2], only_ids)))


def bad_csv() -> str:
    rows = synthetic_rows()[:8]
    rows[1] = {**rows[1], "energy": "loud"}  # line 3
    rows[2] = {**rows[2], "valence": "1.5"}  # line 4
    rows[3] = {**rows[3], "track_id": "spotify:track:tooShort"}  # line 5
    rows[4] = {**rows[4], "track_id": rows[0]["track_id"]}  # line 6, duplicate of line 2
    rows[5] = {**rows[5], "track": '"Song 5\nreprise"'}  # lines 7–8: a quoted newline, still one good row
    rows[6] = {**rows[6], "mode": "0.5", "popularity": "101"}  # line 9, two reasons
    empty = dict.fromkeys(FEATURES, "")
    rows[7] = {**rows[7], **empty}  # line 10: no audio feature at all
    return to_csv(rows) + "1,Artist 1,Too Short\n"  # line 11: wrong number of fields


def test_each_broken_row_is_reported_with_its_line_and_reason() -> None:
    parsed = parse_catalog_csv(io.StringIO(bad_csv()))
    reasons = {row.line: row.reason for row in parsed.rejected}
    assert sorted(reasons) == [3, 4, 5, 6, 9, 10, 11]
    assert "energy 'loud': not a number" in reasons[3]
    assert "valence 1.5 outside [0, 1]" in reasons[4]
    assert "bad track_id 'spotify:track:tooShort'" in reasons[5]
    assert f"duplicate track_id {synthetic_id(0)} (first on line 2)" in reasons[6]
    assert "mode '0.5': not a whole number" in reasons[9] and "popularity 101 outside [0, 100]" in reasons[9]
    assert "no audio feature at all" in reasons[10]
    assert "expected 20 fields, got 3" in reasons[11]
    assert parsed.rows == len(parsed.tracks) + len(parsed.rejected) == 9  # nothing skipped silently
    assert [t.name for t in parsed.tracks] == ["Song 0", "Song 5\nreprise"]


def test_unreadable_files_are_refused_as_a_whole(tmp_path: Path) -> None:
    with pytest.raises(CatalogCsvError, match="cannot read"):
        parse_catalog_csv(tmp_path / "nope.csv")
    (tmp_path / "latin1.csv").write_bytes(HEADER.encode() + b"\n0,Bj\xf6rk,x\n")
    with pytest.raises(CatalogCsvError, match="not UTF-8"):
        parse_catalog_csv(tmp_path / "latin1.csv")
    with pytest.raises(CatalogCsvError, match="empty file"):
        parse_catalog_csv(io.StringIO(""))


# --- the model ---------------------------------------------------------------------------------------------


def test_the_committed_model_loads_and_its_parts_add_up(model: TrackMoodModel, matrix: FeatureMatrix) -> None:
    assert model.moods == ("calm", "energetic", "happy", "sad")
    assert "mode" not in model.features and {"instrumentalness", "loudness", "speechiness"} <= set(model.features)
    for mood, (valence, arousal) in zip(model.moods, model.anchors.tolist(), strict=True):
        assert (valence, arousal) == (lookup(mood).valence, lookup(mood).arousal)  # anchors: the vocabulary's
    probabilities = matrix.placement.probabilities
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-9)
    for row in (0, 15, TRACKS):  # Saabas: base rate + the features' contributions = the probability
        np.testing.assert_allclose(model.base_rates + matrix.placement.contributions(row).sum(axis=0),
                                   probabilities[row], atol=1e-9)
    predicted = [model.moods[i] for i in np.argmax(probabilities[:TRACKS], axis=1)]
    assert predicted == [mood_of(i) for i in range(TRACKS)]  # each archetype lands on its own mood


def test_an_unknown_feature_is_marginalised_not_read_as_zero(model: TrackMoodModel, matrix: FeatureMatrix) -> None:
    values = matrix.model_values[:1].copy()
    instrumentalness = model.features.index("instrumentalness")
    unknown, zero = values.copy(), values.copy()
    unknown[0, instrumentalness], zero[0, instrumentalness] = np.nan, 0.0
    placed = model.place(np.vstack([values, unknown, zero]))
    assert not np.allclose(placed.probabilities[1], placed.probabilities[2])  # unknown ≠ 0
    np.testing.assert_allclose(placed.probabilities[1].sum(), 1.0)
    np.testing.assert_allclose(model.base_rates + placed.contributions(1).sum(axis=0), placed.probabilities[1],
                               atol=1e-9)
    rain = matrix.index[synthetic_id(TRACKS)]  # tempo 0: no beat, so tempo is unknown
    assert np.isnan(matrix.model_values[rain, model.features.index("tempo")])


def test_a_bad_model_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TrackMoodModelError, match="cannot read"):
        TrackMoodModel.load(tmp_path / "missing.json")
    data = json.loads(DEFAULT_MODEL.read_text())
    with pytest.raises(TrackMoodModelError, match="format"):
        TrackMoodModel.from_json({**data, "format": "other/1"})
    broken = {**data, "trees": [{**data["trees"][0], "left": data["trees"][0]["left"][:-1]}]}
    with pytest.raises(TrackMoodModelError, match="differ in length"):
        TrackMoodModel.from_json(broken)


# --- ranking -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mood", ["calm", "energetic", "happy", "sad"])
def test_each_mood_word_ranks_its_own_tracks_first_and_says_why(matrix: FeatureMatrix, mood: str) -> None:
    ranked = rank(matrix, word(mood), limit=8, max_per_artist=3)
    assert all(mood_of(int(t.name.split()[1])) == mood for t in ranked if t.name.startswith("Song")), ranked
    fits = [t.fit for t in ranked]
    assert fits == sorted(fits, reverse=True) and all(0 <= f <= 1 for f in fits)
    assert [t.distance for t in ranked] == [round(1 - f, 4) for f in fits]
    why = ranked[0].why
    assert why["mood"] == mood and why["summary"].startswith(f"{mood}: ") and why["features"]
    answer = json.loads(json.dumps(ranked[0].as_dict()))
    assert answer["uri"] == f"spotify:track:{ranked[0].track_id}"
    assert set(answer["moods"]) == {"calm", "energetic", "happy", "sad"}


def test_calm_is_explained_in_listeners_words(matrix: FeatureMatrix) -> None:
    top = rank(matrix, word("calm"), limit=1)[0]
    assert set(top.why["features"]) & {"instrumental", "acoustic", "quiet", "soft", "dark-sounding"}


def test_rank_caps_each_artist_and_excludes(model: TrackMoodModel) -> None:
    calm = replace(parse_catalog_csv(io.StringIO(to_csv(synthetic_rows()))).tracks[0])
    crowd = [replace(calm, track_id=synthetic_id(200 + i), artist="Same Artist" if i % 2 else "same artist ",
                     name=f"Twin {i}", popularity=50 + i) for i in range(5)]
    parsed = parse_catalog_csv(io.StringIO(to_csv(synthetic_rows())))
    crowded = FeatureMatrix.from_tracks([*parsed.tracks, *crowd], model)
    point = word("calm")
    ranked = rank(crowded, point, limit=10)
    assert sum(t.name.startswith("Twin") for t in ranked) == 2  # case and spaces do not make another artist
    assert [t.name for t in ranked if t.name.startswith("Twin")] == ["Twin 4", "Twin 3"]  # ties: more popular
    assert max(Counter(t.artist.strip().casefold() for t in ranked).values()) <= 2
    assert len(rank(crowded, point, limit=10, max_per_artist=1)) == 10
    excluded = rank(crowded, point, limit=10, exclude_ids=[f"spotify:track:{synthetic_id(204)}", synthetic_id(203)])
    assert {t.name for t in excluded if t.name.startswith("Twin")} == {"Twin 2", "Twin 1"}
    only = rank(crowded, point, limit=10, candidate_ids=[synthetic_id(1), synthetic_id(2), synthetic_id(204), "x"])
    assert {t.track_id for t in only} == {synthetic_id(1), synthetic_id(2), synthetic_id(204)}
    assert rank(crowded, point, candidate_ids=[synthetic_id(1)], exclude_ids=[synthetic_id(1)]) == []
    with pytest.raises(ValueError):
        rank(crowded, point, limit=0)


def test_a_track_without_a_beat_says_tempo_is_unknown(matrix: FeatureMatrix) -> None:
    ranked = rank(matrix, word("calm"), limit=len(matrix), max_per_artist=100)
    rain = next(t for t in ranked if t.name == "Rain")
    assert rain.why["unknown"] == ["tempo"]
    assert next(t for t in ranked if t.name == "Song 0").why["unknown"] == []


def test_feedback_drops_disliked_tracks_and_moves_their_like_down(matrix: FeatureMatrix) -> None:
    point = word("happy")
    plain = rank(matrix, point, limit=5, max_per_artist=5)
    disliked = np.array([matrix.index[plain[0].track_id]])
    feedback = Feedback(np.zeros(0, dtype=np.int64), disliked)
    after = rank(matrix, point, limit=5, max_per_artist=5, feedback=feedback)
    assert plain[0].track_id not in {t.track_id for t in after}  # never offered again
    score, taste = scores(matrix, point, feedback=feedback)
    assert taste is not None and np.isneginf(score[disliked[0]])
    assert np.all(np.abs(score[np.isfinite(score)] - scores(matrix, point)[0][np.isfinite(score)]) <= 0.35 + 1e-9)


def test_feedback_moves_tracks_along_the_taste(matrix: FeatureMatrix) -> None:
    """👍 the energetic archetype, 👎 the happy one: asked for "happy", energetic-like tracks move up."""
    liked = np.array([i for i in range(TRACKS) if mood_of(i) == "energetic"][:3])
    disliked = np.array([i for i in range(TRACKS) if mood_of(i) == "happy"][:3])
    point = word("happy")
    before, _ = scores(matrix, point)
    after, taste = scores(matrix, point, feedback=Feedback(liked, disliked))
    assert taste is not None
    others = [i for i in range(TRACKS) if i not in liked and i not in disliked]
    energetic = [i for i in others if mood_of(i) == "energetic"]
    happy = [i for i in others if mood_of(i) == "happy"]
    assert np.mean(after[energetic] - before[energetic]) > 0 > np.mean(after[happy] - before[happy])
    note = rank(matrix, point, limit=3, feedback=Feedback(liked, disliked))[0].why.get("feedback", "")
    assert note.startswith("moved ")


# --- journeys ----------------------------------------------------------------------------------------------


def test_journey_from_sad_to_happy(matrix: FeatureMatrix) -> None:
    sad, happy = word("sad"), word("happy")
    steps = journey((sad.valence, sad.arousal), (happy.valence, happy.arousal), 10, matrix)
    assert len(steps) == 10
    assert (steps[0].valence, steps[0].arousal) == (round(sad.valence, 4), round(sad.arousal, 4))
    ids = [s.track.track_id for s in steps]
    assert len(set(ids)) == len(ids)
    assert steps[0].track.why["mood"] == "sad" and steps[-1].track.why["mood"] in ("happy", "energetic")
    valences = [s.track.position[0] for s in steps]
    assert valences == sorted(valences)  # the music never goes back
    assert max(Counter(s.track.artist for s in steps).values()) <= 2
    assert steps[0].step_distance == 0.0 and all(s.step_distance >= 0 for s in steps)
    summary = max_step_change(steps)
    assert summary["distance"] == max(s.step_distance for s in steps)
    json.dumps([s.as_dict() for s in steps])


def test_journey_length_rule(matrix: FeatureMatrix) -> None:
    for length in (MIN_STEPS - 1, MAX_STEPS + 1, 0):
        with pytest.raises(ValueError, match="5 to 100 steps"):
            journey((0.0, 0.0), (0.5, 0.5), length, matrix)
    assert len(journey((0.0, 0.0), (0.0, 0.0), MIN_STEPS, matrix)) == MIN_STEPS
    with pytest.raises(ValueError, match="only"):
        journey((0.0, 0.0), (0.5, 0.5), MAX_STEPS, matrix)  # 41 tracks cannot fill 100 steps


def test_catalog_tracks_keep_unknowns_out_of_their_documents() -> None:
    track = CatalogTrack("00ZtJgQax06A96l8sMcmlB", "A", "B", valence=0.5, tempo=0.0)
    assert "energy" not in track.to_document() and track.unknown[:2] == ["danceability", "energy"]
    assert "tempo" in track.unknown  # no beat
