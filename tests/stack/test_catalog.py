"""The track catalog: mood → audio targets, CSV import (errors by line, strict mode, CLI exit codes), upserts
against the real Mongo-wire server, ranking with explanations, and mood journeys. Synthetic tracks only."""

from __future__ import annotations

import io
import json
import math
import os
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from pymongo import MongoClient

from orchestrator.catalog import import_csv as cli
from orchestrator.catalog.csv_import import (
    REQUIRED_COLUMNS,
    CatalogCsvError,
    MissingColumnsError,
    import_csv,
    parse_catalog_csv,
)
from orchestrator.catalog.features import FEATURES, audio_targets, normalise_tempo, weighted_distance
from orchestrator.catalog.journey import MAX_STEPS, MIN_STEPS, journey, max_step_change
from orchestrator.catalog.ranking import rank
from orchestrator.catalog.store import CatalogTrack, FeatureMatrix, TrackCatalog, parse_track_id
from orchestrator.storage.mongo import MongoStore

REPO_ROOT = Path(__file__).resolve().parents[2]
HEADER = (",artist,track,track_id,popularity,year,danceability,energy,key,loudness,mode,speechiness,acousticness,"
          "instrumentalness,liveness,valence,tempo,type,duration_ms,time_signature")
VALENCES = (-0.9, -0.6, -0.3, -0.1, 0.1, 0.3, 0.6, 0.9)
AROUSALS = (-0.8, -0.4, 0.0, 0.4, 0.8)


def synthetic_id(i: int) -> str:
    return f"synthTrack{i:012d}"  # 22 base62 characters


def synthetic_rows() -> list[dict[str, str]]:
    """40 tracks on a grid of moods, each near its mood's targets (small deterministic offsets), 13 artists,
    plus one track without a beat (tempo 0)."""
    rows = []
    for i, (valence, arousal) in enumerate((v, a) for v in VALENCES for a in AROUSALS):
        targets = audio_targets(valence, arousal)
        jitter = 0.004 * ((i * 7) % 5 - 2)
        rows.append({
            "": str(i), "artist": f"Artist {i % 13}", "track": f"Song {i}",
            "track_id": f"spotify:track:{synthetic_id(i)}" if i % 2 else synthetic_id(i),
            "popularity": str(40 + i), "year": "2019", "danceability": f"{targets.danceability + jitter:.4f}",
            "energy": f"{targets.energy - jitter:.4f}", "key": str(i % 12), "loudness": "-6.5",
            "mode": str(targets.mode), "speechiness": "0.05", "acousticness": f"{targets.acousticness + jitter:.4f}",
            "instrumentalness": "0.0", "liveness": "0.1", "valence": f"{targets.valence + jitter:.4f}",
            "tempo": f"{targets.tempo + 100 * jitter:.3f}", "type": "audio_features", "duration_ms": "200000",
            "time_signature": "4",
        })
    rows.append({**rows[0], "": "40", "artist": "Rain Sounds", "track": "Rain", "track_id": synthetic_id(40),
                 "tempo": "0", "time_signature": "0"})
    return rows


def to_csv(rows: list[dict[str, str]], columns: list[str] | None = None) -> str:
    columns = columns if columns is not None else HEADER.split(",")
    return "\n".join([",".join(columns), *(",".join(row[c] for c in columns) for row in rows)]) + "\n"


@pytest.fixture(scope="module")
def matrix() -> FeatureMatrix:
    parsed = parse_catalog_csv(io.StringIO(to_csv(synthetic_rows())))
    assert not parsed.rejected
    return FeatureMatrix.from_tracks(parsed.tracks)


@pytest.fixture
def catalog_database(mongo_url: str, mongo_database: str) -> Iterator[str]:
    name = f"{mongo_database}_catalog_{uuid.uuid4().hex[:6]}"
    yield name
    with MongoClient(mongo_url) as client:
        client.drop_database(name)


# --- features ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("valence", "arousal"), [(0.7, 0.7), (0.7, -0.7), (-0.7, 0.7), (-0.7, -0.7)])
def test_quadrants_map_to_expected_directions(valence: float, arousal: float) -> None:
    targets, centre = audio_targets(valence, arousal), audio_targets(0.0, 0.0)
    assert (targets.valence > centre.valence) == (valence > 0)
    assert (targets.energy > centre.energy) == (arousal > 0)
    assert (targets.tempo > centre.tempo) == (arousal > 0)
    assert (targets.danceability > audio_targets(valence, 0.0).danceability) == (arousal > 0)
    assert (targets.acousticness < centre.acousticness) == (arousal > 0)  # calm → acoustic
    assert targets.mode == (1 if valence > 0 else 0)
    for name in ("valence", "energy", "danceability", "acousticness"):
        assert 0.0 < getattr(targets, name) < 1.0
    assert 50 <= targets.tempo <= 200


def test_targets_refuse_moods_outside_the_circumplex_square() -> None:
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        audio_targets(1.2, 0.0)


def test_tempo_normalisation() -> None:
    scaled = normalise_tempo(np.array([50.0, 125.0, 200.0, 30.0, 250.0, 0.0]))
    np.testing.assert_allclose(scaled[:5], [0.0, 0.5, 1.0, 0.0, 1.0])
    assert math.isnan(scaled[5])  # no beat
    target = audio_targets(0.0, 0.0).vector()
    assert weighted_distance(target[None, :], target)[0] == 0.0


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


def test_missing_required_columns_are_named() -> None:
    columns = [c for c in HEADER.split(",") if c not in ("valence", "tempo")]
    with pytest.raises(MissingColumnsError) as error:
        parse_catalog_csv(io.StringIO(to_csv(synthetic_rows()[:2], columns)))
    assert error.value.missing == ("valence", "tempo")
    assert "valence" in str(error.value) and "tempo" in str(error.value)
    assert set(error.value.missing) <= set(REQUIRED_COLUMNS)


def bad_csv() -> str:
    rows = synthetic_rows()[:8]
    rows[1] = {**rows[1], "energy": "loud"}  # line 3
    rows[2] = {**rows[2], "valence": "1.5"}  # line 4
    rows[3] = {**rows[3], "track_id": "spotify:track:tooShort"}  # line 5
    rows[4] = {**rows[4], "track_id": rows[0]["track_id"]}  # line 6, duplicate of line 2
    rows[5] = {**rows[5], "track": '"Song 5\nreprise"'}  # lines 7–8: a quoted newline, still one good row
    rows[6] = {**rows[6], "mode": "0.5", "popularity": "101"}  # line 9, two reasons
    text = to_csv(rows)
    return text + "1,Artist 1,Too Short\n"  # line 11: wrong number of fields


def test_each_bad_row_is_reported_with_its_line_and_reason() -> None:
    parsed = parse_catalog_csv(io.StringIO(bad_csv()))
    reasons = {row.line: row.reason for row in parsed.rejected}
    assert sorted(reasons) == [3, 4, 5, 6, 9, 11]
    assert "energy 'loud': not a number" in reasons[3]
    assert "valence 1.5 outside [0, 1]" in reasons[4]
    assert "bad track_id 'spotify:track:tooShort'" in reasons[5]
    assert f"duplicate track_id {synthetic_id(0)} (first on line 2)" in reasons[6]
    assert "mode '0.5': not a whole number" in reasons[9] and "popularity 101 outside [0, 100]" in reasons[9]
    assert "expected 20 fields, got 3" in reasons[11]
    assert parsed.rows == len(parsed.tracks) + len(parsed.rejected) == 9  # nothing skipped silently
    assert [t.name for t in parsed.tracks] == ["Song 0", "Song 5\nreprise", "Song 7"]


def test_unreadable_files_are_refused_as_a_whole(tmp_path: Path) -> None:
    with pytest.raises(CatalogCsvError, match="cannot read"):
        parse_catalog_csv(tmp_path / "nope.csv")
    (tmp_path / "latin1.csv").write_bytes(HEADER.encode() + b"\n0,Bj\xf6rk,x\n")
    with pytest.raises(CatalogCsvError, match="not UTF-8"):
        parse_catalog_csv(tmp_path / "latin1.csv")
    with pytest.raises(CatalogCsvError, match="empty file"):
        parse_catalog_csv(io.StringIO(""))


async def test_upsert_inserts_updates_and_refreshes_the_matrix(mongo_url: str, catalog_database: str) -> None:
    store = MongoStore(mongo_url, catalog_database, 2000)
    catalog = TrackCatalog(store, collection="tracks_test_catalog")
    try:
        rows = synthetic_rows()
        report = await import_csv(io.StringIO(to_csv(rows)), catalog, batch_size=16)
        assert (report.imported, report.updated, report.unchanged, report.rejected) == (41, 0, 0, [])
        assert await catalog.count() == 41
        first = await catalog.matrix()
        assert len(first) == 41 and first.version == await catalog.version() > 0
        assert await catalog.matrix() is first  # unchanged catalog: the same snapshot

        again = await import_csv(io.StringIO(to_csv(rows)), catalog)
        assert (again.imported, again.updated, again.unchanged) == (0, 0, 41)
        assert await catalog.matrix() is first

        rows[3] = {**rows[3], "valence": "0.9100"}
        rows.append({**rows[0], "track_id": synthetic_id(99), "track": "New Song"})
        changed = await import_csv(io.StringIO(to_csv(rows)), catalog)
        assert (changed.imported, changed.updated, changed.unchanged) == (1, 1, 40)
        second = await catalog.matrix()
        assert second is not first and len(second) == 42
        assert second.raw[second.index[synthetic_id(3)], FEATURES.index("valence")] == 0.91

        found = await catalog.get_many([f"spotify:track:{synthetic_id(3)}", synthetic_id(99), "not-an-id",
                                        synthetic_id(500)])
        assert set(found) == {synthetic_id(3), synthetic_id(99)}
        assert found[synthetic_id(3)].valence == 0.91 and found[synthetic_id(99)].name == "New Song"
        assert isinstance(found[synthetic_id(3)], CatalogTrack)
        indexes = await catalog.collection.index_information()
        assert any(index.get("unique") and index["key"] == [("track_id", 1)] for index in indexes.values())
    finally:
        await store.close()


async def test_strict_import_writes_nothing(mongo_url: str, catalog_database: str) -> None:
    store = MongoStore(mongo_url, catalog_database, 2000)
    catalog = TrackCatalog(store, collection="tracks_test_strict")
    try:
        report = await import_csv(io.StringIO(bad_csv()), catalog, strict=True)
        assert not report.written and len(report.rejected) == 6
        assert "strict mode" in report.format() and "line 4: valence 1.5 outside [0, 1]" in report.format()
        assert await catalog.count() == 0
        lenient = await import_csv(io.StringIO(bad_csv()), catalog)
        assert lenient.written and lenient.imported == 3 and await catalog.count() == 3
    finally:
        await store.close()


def test_cli_exit_codes(tmp_path: Path, mongo_url: str, catalog_database: str,
                        capsys: pytest.CaptureFixture[str]) -> None:
    good, bad, missing = tmp_path / "good.csv", tmp_path / "bad.csv", tmp_path / "missing.csv"
    good.write_text(to_csv(synthetic_rows()))
    bad.write_text(bad_csv())
    missing.write_text(to_csv(synthetic_rows()[:2], [c for c in HEADER.split(",") if c != "energy"]))
    target = ["--mongo-url", mongo_url, "--database", catalog_database]

    assert cli.main([str(good), *target]) == 0
    assert "41 imported" in capsys.readouterr().out
    assert cli.main([str(bad), *target]) == 0  # lenient: good rows in, bad rows listed
    assert "line 6: duplicate track_id" in capsys.readouterr().out
    assert cli.main([str(missing), *target]) == 2
    assert "missing required column(s): energy" in capsys.readouterr().err
    assert cli.main([str(tmp_path / "absent.csv"), *target]) == 2
    assert cli.main([str(good), "--mongo-url", "mongodb://127.0.0.1:9", "--database", catalog_database]) == 3

    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "MUSEAIKA_MONGO_TIMEOUT_MS": "2000"}
    strict = subprocess.run([sys.executable, "-m", "orchestrator.catalog.import_csv", str(bad), *target, "--strict",
                             "--json"], capture_output=True, text=True, env=environment, cwd=REPO_ROOT, timeout=60)
    assert strict.returncode == 1, strict.stderr
    assert json.loads(strict.stdout)["written"] is False


# --- ranking -----------------------------------------------------------------------------------------------


def test_rank_returns_nearest_first_with_explanations(matrix: FeatureMatrix) -> None:
    targets = audio_targets(0.6, 0.4)
    ranked = rank(targets, matrix, limit=5)
    assert ranked[0].name == f"Song {VALENCES.index(0.6) * len(AROUSALS) + AROUSALS.index(0.4)}"
    distances = [t.distance for t in ranked]
    assert distances == sorted(distances) and distances[0] < 0.02
    all_distances = np.sort(weighted_distance(matrix.normalised, targets.vector()))
    assert distances[0] == pytest.approx(all_distances[0], abs=1e-4)

    why = ranked[0].why
    assert list(why) == list(FEATURES)
    row = matrix.index[ranked[0].track_id]
    for i, name in enumerate(FEATURES):
        assert why[name].target == pytest.approx(getattr(targets, name), abs=0.05)  # tempo: 0.1 bpm
        assert why[name].actual == pytest.approx(matrix.raw[row, i], abs=0.05)
    assert sum(match.share for match in why.values()) == pytest.approx(1.0, abs=1e-3)
    answer = json.loads(json.dumps(ranked[0].as_dict()))
    assert answer["uri"] == f"spotify:track:{ranked[0].track_id}"
    assert set(answer["why"]["valence"]) == {"target", "actual", "difference", "weight", "share"}


def test_rank_caps_each_artist_and_excludes(matrix: FeatureMatrix) -> None:
    crowd = [CatalogTrack(synthetic_id(200 + i), "Same Artist" if i % 2 else "same artist ", f"Twin {i}",
                          0.78, 0.78, 0.795, 139.5, 0.14, 1, popularity=50 + i) for i in range(5)]
    parsed = parse_catalog_csv(io.StringIO(to_csv(synthetic_rows())))
    crowded = FeatureMatrix.from_tracks([*parsed.tracks, *crowd])
    happy = audio_targets(0.7, 0.7)
    ranked = rank(happy, crowded, limit=10)
    assert sum(t.name.startswith("Twin") for t in ranked) == 2  # case and spaces do not make another artist
    assert [t.name for t in ranked[:2]] == ["Twin 4", "Twin 3"]  # equal distance: the more popular first
    assert max(Counter(t.artist.strip().casefold() for t in ranked).values()) <= 2
    assert len(rank(happy, crowded, limit=10, max_per_artist=1)) == 10

    excluded = rank(happy, crowded, limit=10, exclude_ids=[f"spotify:track:{synthetic_id(204)}", synthetic_id(203)])
    assert {t.name for t in excluded if t.name.startswith("Twin")} == {"Twin 2", "Twin 1"}
    only = rank(happy, crowded, limit=10, candidate_ids=[synthetic_id(1), synthetic_id(2), synthetic_id(204), "x"])
    assert {t.track_id for t in only} == {synthetic_id(1), synthetic_id(2), synthetic_id(204)}
    assert rank(happy, crowded, candidate_ids=[synthetic_id(1)], exclude_ids=[synthetic_id(1)]) == []
    with pytest.raises(ValueError):
        rank(happy, crowded, limit=0)


def test_track_without_a_beat_is_explained_and_penalised(matrix: FeatureMatrix) -> None:
    ranked = rank(audio_targets(-0.9, -0.8), matrix, limit=len(matrix), max_per_artist=100)
    rain = next(t for t in ranked if t.name == "Rain")
    assert rain.why["tempo"].actual is None and rain.why["tempo"].difference is None
    song = next(t for t in ranked if t.name == "Song 0")  # the same features, with a beat
    assert ranked.index(song) < ranked.index(rain)


# --- journeys ----------------------------------------------------------------------------------------------


def test_journey_from_sad_to_happy(matrix: FeatureMatrix) -> None:
    sad, happy = (-0.9, -0.4), (0.9, 0.4)
    steps = journey(sad, happy, 10, matrix)
    assert len(steps) == 10
    assert (steps[0].valence, steps[0].arousal) == sad and (steps[-1].valence, steps[-1].arousal) == happy
    for name in ("valence", "energy", "danceability", "tempo"):
        values = [getattr(s.target, name) for s in steps]
        assert values == sorted(values) and values[0] < values[-1]
    acousticness = [s.target.acousticness for s in steps]
    assert acousticness == sorted(acousticness, reverse=True)
    ids = [s.track.track_id for s in steps]
    assert len(set(ids)) == len(ids)
    valences = [s.track.why["valence"].actual for s in steps]
    assert valences[-1] > valences[0]  # type: ignore[operator]
    assert np.corrcoef(np.arange(10), np.array(valences, dtype=float))[0, 1] > 0.9
    assert max(Counter(s.track.artist for s in steps).values()) <= 2
    assert steps[0].step_distance == 0.0 and all(s.step_distance >= 0 for s in steps)
    summary = max_step_change(steps)
    assert summary["distance"] == max(s.step_distance for s in steps)
    assert summary["valence"] == pytest.approx(max(abs(s.change["valence"] or 0.0) for s in steps))
    json.dumps([s.as_dict() for s in steps])


def test_journey_length_rule(matrix: FeatureMatrix) -> None:
    for length in (MIN_STEPS - 1, MAX_STEPS + 1, 0):
        with pytest.raises(ValueError, match="5 to 100 steps"):
            journey((0.0, 0.0), (0.5, 0.5), length, matrix)
    assert len(journey((0.0, 0.0), (0.0, 0.0), MIN_STEPS, matrix)) == MIN_STEPS
    with pytest.raises(ValueError, match="only"):
        journey((0.0, 0.0), (0.5, 0.5), MAX_STEPS, matrix)  # 41 tracks cannot fill 100 steps
